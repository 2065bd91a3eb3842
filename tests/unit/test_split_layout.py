"""A split branch is entered as ``server.py:mcp`` at its root (issue 16): the entry in
the branch's paths, its inverse, and the generated ``server.py`` loading the server's own
file as FastMCP's file loader does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpbundle.base.errors import BuildError
from mcpbundle.emit.split_layout import (
    SPLIT_KEY,
    from_branch,
    lay_out,
    render_entry_shim,
    to_branch,
)


def _entry(entrypoint: str, *files: str, path: str = "server-ops") -> dict[str, Any]:
    return {
        "entrypoint": f"{path}/{entrypoint}",
        "files": {f"{path}/{rel}": f"sha256:{i:064x}" for i, rel in enumerate(files)},
        "path": path,
        "requirements": f"{path}/requirements.txt",
        "shim": None,
    }


def test_a_nested_entry_file_is_entered_through_a_root_server_py() -> None:
    entry = _entry("src/server.py:mcp", "src/server.py", "src/tools.py", "requirements.txt")
    moved = to_branch(entry, "ops")
    assert moved["entrypoint"] == "server.py:mcp"
    assert moved[SPLIT_KEY] == "src/server.py:mcp"
    assert "server.py" in moved["files"] and "src/server.py" in moved["files"]
    assert moved["requirements"] == "requirements.txt" and moved["path"] == "."
    assert from_branch(moved, "server-ops") == entry  # the exact inverse


@pytest.mark.parametrize(
    ("entrypoint", "files"),
    [
        ("server.py:mcp", ("server.py", "requirements.txt")),
        ("server.py:app", ("server.py", "requirements.txt")),  # FastMCP finds app too
        ("main.py:mcp", ("main.py", "server.py", "requirements.txt")),  # its own server.py
    ],
)
def test_an_entry_at_the_root_or_a_server_py_of_its_own_is_kept(
    entrypoint: str, files: tuple[str, ...]
) -> None:
    entry = _entry(entrypoint, *files)
    moved = to_branch(entry, "ops")
    assert moved["entrypoint"] == entrypoint and SPLIT_KEY not in moved
    assert set(moved["files"]) == set(files)
    assert from_branch(moved, "server-ops") == entry


def test_the_shim_is_written_and_its_digest_is_listed(tmp_path: Path) -> None:
    staged = tmp_path / "staged"
    (staged / "server-ops" / "src").mkdir(parents=True)
    (staged / "server-ops" / "src" / "server.py").write_text("mcp = 1\n")
    (staged / "server-ops" / "requirements.txt").write_text("")
    entry = _entry("src/server.py:mcp", "src/server.py", "requirements.txt")
    dest = tmp_path / "branch"
    dest.mkdir()
    lay_out(staged, dest, "ops", entry, staged / "server-ops" / ".env.example")
    written = (dest / "server.py").read_bytes()
    assert written == render_entry_shim("src/server.py", "mcp")
    assert "`server.py:mcp`" in (dest / "DEPLOY.md").read_text()


def test_the_shim_loads_the_file_as_fastmcp_would(tmp_path: Path) -> None:
    """Sibling imports resolve from the file's folder, the module is ``server_module`` and
    registered (dataclasses need that), and a non-``mcp`` object is bound as ``mcp``."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "helpers.py").write_text("NAME = 'from src'\n")
    (tmp_path / "helpers.py").write_text("NAME = 'from the root'\n")
    (src / "server.py").write_text(
        "from __future__ import annotations\n"
        "import dataclasses\n"
        "import helpers\n"
        "@dataclasses.dataclass\n"
        "class Box:\n"
        "    label: str\n"
        "app = (Box(helpers.NAME), __name__)\n"
    )
    (tmp_path / "server.py").write_bytes(render_entry_shim("src/server.py", "app"))
    shim = str(tmp_path / "server.py")
    probe = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(tmp_path)!r})\n"
        f"spec = importlib.util.spec_from_file_location('server_module', {shim!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "sys.modules['server_module'] = module\n"
        "spec.loader.exec_module(module)\n"
        "print(module.mcp[0].label, module.mcp[1])\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["from", "src", "server_module"]


def test_a_bad_object_name_is_refused() -> None:
    with pytest.raises(BuildError):
        render_entry_shim("src/server.py", "not a name")
