"""The target Python: [bundle] python, else the nearest .python-version, else the running one."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.base.interpreters import RUNNING_PYTHON
from mcpbundle.config.validate import load_config
from mcpbundle.plan.planner import make_plan
from mcpbundle.plan.python_target import parse_version_file
from mcpbundle.plan.repo_files import list_repo_files
from support.monorepo import mcpbundle, write

SRV = "from fastmcp import FastMCP\nmcp = FastMCP('x')\n"
TWO = (
    '[servers.a]\npath = "apps/a"\nentrypoint = "server.py"\n'
    '[servers.b]\npath = "apps/b"\nentrypoint = "server.py"\n'
)


def planned(root: Path, toml: str, files: dict[str, str]) -> dict[str, tuple[str, str]]:
    write(root, {"mcpbundle.toml": toml, "apps/a/server.py": SRV, "apps/b/server.py": SRV, **files})
    config = load_config(root)
    plan = make_plan(config, list_repo_files(config.root))
    return {s.name: (s.python, s.python_origin) for s in plan.servers}


def test_the_servers_version_file_beats_the_repositorys(tmp_path: Path) -> None:
    found = planned(
        tmp_path, TWO, {".python-version": "3.12.1\n", "apps/b/.python-version": "3.13\n"}
    )
    assert found == {"a": ("3.12", ".python-version"), "b": ("3.13", "apps/b/.python-version")}


def test_bundle_python_wins(tmp_path: Path) -> None:
    found = planned(tmp_path, '[bundle]\npython = "3.10"\n' + TWO, {".python-version": "3.12\n"})
    assert {v for v, _ in found.values()} == {"3.10"}


@pytest.mark.parametrize(
    ("text", "version"),
    [
        ("3.12\n", "3.12"),
        ("3.12.4\n", "3.12"),
        ("# pinned\n\ncpython-3.13.0-linux\n", "3.13"),
        ("3.11.7/envs/tools\n", "3.11"),
        ("pypy3.10\n", None),
        ("system\n", None),
    ],
)
def test_version_file_forms(tmp_path: Path, text: str, version: str | None) -> None:
    (tmp_path / ".python-version").write_text(text)
    assert parse_version_file(tmp_path / ".python-version") == version


def test_no_target_warns_once_naming_every_server(tmp_path: Path) -> None:
    write(tmp_path, {"mcpbundle.toml": TWO, "apps/a/server.py": SRV, "apps/b/server.py": SRV})
    config = load_config(tmp_path)
    plan = make_plan(config, list_repo_files(config.root))
    (warning,) = [w for w in plan.warnings if "pins are for the running Python" in w]
    assert "for a, b" in warning
    assert RUNNING_PYTHON in warning
    assert {s.python for s in plan.servers} == {RUNNING_PYTHON}


def test_the_warning_names_a_few_servers_and_counts_the_rest(tmp_path: Path) -> None:
    toml = "".join(
        f'[servers.s{i}]\npath = "apps/s{i}"\nentrypoint = "server.py"\n' for i in range(7)
    )
    write(tmp_path, {"mcpbundle.toml": toml, **{f"apps/s{i}/server.py": SRV for i in range(7)}})
    config = load_config(tmp_path)
    plan = make_plan(config, list_repo_files(config.root))
    (warning,) = [w for w in plan.warnings if "pins are for the running Python" in w]
    assert "for s0, s1, s2, s3, s4 and 2 more:" in warning


def test_a_target_outside_requires_python_names_both(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        planned(
            tmp_path,
            '[bundle]\npython = "3.10"\n' + TWO,
            {"apps/a/pyproject.toml": '[project]\nname = "a"\nrequires-python = ">=3.12"\n'},
        )
    message = str(info.value)
    assert message.startswith("apps/a/pyproject.toml: project.requires-python:")
    assert "3.10" in message
    assert "'>=3.12'" in message
    assert "[bundle] python" in message


def test_a_patch_level_bound_accepts_the_line(tmp_path: Path) -> None:
    found = planned(
        tmp_path,
        '[bundle]\npython = "3.12"\n' + TWO,
        {"apps/a/pyproject.toml": '[project]\nname = "a"\nrequires-python = ">=3.12.1"\n'},
    )
    assert found["a"][0] == "3.12"


def test_manifest_deploy_md_and_requirements_name_the_target(
    tmp_path: Path, wheelhouse: Path
) -> None:
    write(
        tmp_path,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                '[servers.a]\npath = "a"\nentrypoint = "server.py"\n'
            ),
            ".python-version": f"{RUNNING_PYTHON}\n",
            "a/server.py": SRV,
            "a/requirements.txt": "fastmcp\n",
        },
    )
    done = mcpbundle(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert "pins are for the running Python" not in done.stderr
    manifest = json.loads((tmp_path / "dist/mcpbundle-manifest.json").read_text())
    assert manifest["servers"]["a"]["python"] == RUNNING_PYTHON
    assert f"- Python: {RUNNING_PYTHON}" in (tmp_path / "dist/DEPLOY.md").read_text()
    first = (tmp_path / "dist/a/requirements.txt").read_text().splitlines()[0]
    assert first == f"# Pinned for Python {RUNNING_PYTHON}: the host must run this version."


def _unpinnable_target(root: Path, wheelhouse: Path) -> None:
    """A target Python this machine does not have, with the pip-tools resolver."""
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\npython = '3.99'\nresolver = 'pip-tools'\nno-index = true\n"
                f"find-links = [{str(wheelhouse)!r}]\n"
                '[servers.a]\npath = "a"\nentrypoint = "server.py"\n'
            ),
            "a/server.py": SRV,
            "a/requirements.txt": "fastmcp\n",
        },
    )


def test_with_uv_a_target_pip_tools_cannot_run_for_is_pinned_by_uv(
    tmp_path: Path, wheelhouse: Path
) -> None:
    """Pins for the running Python would install on the host only by chance; uv resolves
    for any version, so the build uses it for that target (one warning) when it is here."""
    _unpinnable_target(tmp_path, wheelhouse)
    done = mcpbundle(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    assert "pinning for Python 3.99 with uv instead of pip-tools" in done.stderr
    assert "pins are for the running Python" not in done.stderr
    first = (tmp_path / "dist/a/requirements.txt").read_text().splitlines()[0]
    assert first == "# Pinned for Python 3.99: the host must run this version."
    entry = json.loads((tmp_path / "dist/mcpbundle-manifest.json").read_text())["servers"]["a"]
    assert entry["python"] == "3.99"
    assert "pins-python" not in entry


def test_without_uv_deploy_md_says_the_pins_are_for_another_python(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a machine without uv, pip-tools pins for the running Python (a warning), and
    DEPLOY.md must not claim the pins are for the target."""
    from click.testing import CliRunner

    from mcpbundle.base import interpreters
    from mcpbundle.cli.app import cli
    from mcpbundle.resolve import pinner

    _unpinnable_target(tmp_path, wheelhouse)
    monkeypatch.setattr(pinner, "find_uv", lambda: None)
    log = logging.getLogger("mcpbundle")  # the CLI sets it up: put it back afterwards
    monkeypatch.setattr(log, "handlers", list(log.handlers))  # the CLI replaces them in place
    monkeypatch.setattr(log, "propagate", log.propagate)
    monkeypatch.setattr(log, "level", log.level)
    monkeypatch.setattr(interpreters, "_warned", set())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["build"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first = (tmp_path / "dist/a/requirements.txt").read_text().splitlines()[0]
    assert first == f"# Pinned for Python {RUNNING_PYTHON}: the host must run this version."
    manifest = json.loads((tmp_path / "dist/mcpbundle-manifest.json").read_text())
    assert manifest["servers"]["a"]["python"] == "3.99"
    assert manifest["servers"]["a"]["pins-python"] == RUNNING_PYTHON
    deploy = (tmp_path / "dist/DEPLOY.md").read_text()
    assert "(the pins are for this version)" not in deploy
    assert f"- Python: 3.99 (the target; the pins are for Python {RUNNING_PYTHON}" in deploy


def test_the_plan_keeps_every_requires_python_it_checked(tmp_path: Path) -> None:
    """A patch-level bound fits the line but not every release of it: verify needs the
    bound to choose an interpreter the code allows (3.12.0 is not ">=3.12.1")."""
    write(
        tmp_path,
        {
            "mcpbundle.toml": (
                '[bundle]\npython = "3.12"\n[shared.core]\npath = "libs/core"\n' + TWO
            ),
            "apps/a/server.py": SRV,
            "apps/b/server.py": SRV,
            "apps/a/pyproject.toml": '[project]\nname = "a"\nrequires-python = ">=3.12.1"\n',
            "apps/a/requirements.txt": "core\n",
            "libs/core/pyproject.toml": (
                '[project]\nname = "core"\nrequires-python = ">=3.10,<3.14"\n'
            ),
            "libs/core/core/__init__.py": "",
        },
    )
    config = load_config(tmp_path)
    plans = {s.name: s for s in make_plan(config, list_repo_files(config.root)).servers}
    assert plans["a"].requires_python == ">=3.12.1, >=3.10,<3.14"
    assert plans["b"].requires_python is None


def test_the_manifest_names_the_requires_python(tmp_path: Path, wheelhouse: Path) -> None:
    write(
        tmp_path,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                '[servers.a]\npath = "a"\nentrypoint = "server.py"\n'
                '[servers.b]\npath = "b"\nentrypoint = "server.py"\n'
            ),
            ".python-version": f"{RUNNING_PYTHON}\n",
            "a/server.py": SRV,
            "a/pyproject.toml": (
                f'[project]\nname = "a"\nrequires-python = ">={RUNNING_PYTHON}"\n'
                'dependencies = ["fastmcp"]\n'
            ),
            "b/server.py": SRV,
            "b/requirements.txt": "fastmcp\n",
        },
    )
    done = mcpbundle(tmp_path, "build")
    assert done.returncode == 0, done.stderr
    servers = json.loads((tmp_path / "dist/mcpbundle-manifest.json").read_text())["servers"]
    assert servers["a"]["requires-python"] == f">={RUNNING_PYTHON}"
    assert "requires-python" not in servers["b"]
    deploy = (tmp_path / "dist/DEPLOY.md").read_text()
    line = f"- Python releases its code allows (`requires-python`): `>={RUNNING_PYTHON}`"
    assert deploy.count(line) == 1, "under a only"
