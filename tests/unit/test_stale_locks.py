"""A lock beside the server's pyproject.toml locks the source project, which ships
rewritten: it is read for pins but does not ship, and the build says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plan import SRV, one, plan

from mcpbundle.plan.shipped_files import is_project_lock

TOML = '[servers.a]\npath = "srv"\nentrypoint = "server.py"\n'
PYPROJECT = '[project]\nname = "a"\nversion = "1"\ndependencies = ["fastmcp"]\n'
UV_LOCK = """\
version = 1
requires-python = ">=3.10"

[[package]]
name = "fastmcp"
version = "2.12.4"
source = { registry = "https://pypi.org/simple" }
"""


@pytest.mark.parametrize("lock", ["uv.lock", "poetry.lock", "pdm.lock", "pylock.toml"])
def test_a_lock_beside_the_pyproject_is_not_shipped(tmp_path: Path, lock: str) -> None:
    files = {"srv/server.py": SRV, "srv/pyproject.toml": PYPROJECT, f"srv/{lock}": UV_LOCK}
    server = one(plan(tmp_path, TOML, files))
    dests = {c.dest for c in server.files}
    assert "srv/pyproject.toml" in dests and f"srv/{lock}" not in dests
    (note,) = [r for r in server.rewrites if r.origin == f"srv/{lock}"]
    assert note.original == lock and note.replacement.startswith("not shipped")


def test_the_lock_still_gives_its_pins(tmp_path: Path) -> None:
    files = {"srv/server.py": SRV, "srv/pyproject.toml": PYPROJECT, "srv/uv.lock": UV_LOCK}
    server = one(plan(tmp_path, TOML, files))
    assert server.lock == "srv/uv.lock"
    assert "fastmcp==2.12.4" in server.preferences


def test_without_a_pyproject_nothing_is_rewritten_so_nothing_is_dropped(tmp_path: Path) -> None:
    files = {
        "srv/server.py": SRV,
        "srv/requirements.txt": "fastmcp\n",
        "srv/data/uv.lock": "not a lock of this server\n",
    }
    server = one(plan(tmp_path, TOML, files))
    assert "srv/data/uv.lock" in {c.dest for c in server.files}
    assert not [r for r in server.rewrites if r.replacement.startswith("not shipped")]


def test_a_lock_in_a_subfolder_is_data_not_the_project_lock(tmp_path: Path) -> None:
    files = {
        "srv/server.py": SRV,
        "srv/pyproject.toml": PYPROJECT,
        "srv/fixtures/uv.lock": UV_LOCK,
    }
    server = one(plan(tmp_path, TOML, files))
    assert "srv/fixtures/uv.lock" in {c.dest for c in server.files}


def test_lock_names() -> None:
    assert is_project_lock("pylock.prod.toml")
    assert not is_project_lock("pyproject.toml")
    assert not is_project_lock("requirements.lock.txt")
