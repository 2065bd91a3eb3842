"""Servers that reach a sibling library through their build tool's project-root
placeholder (PDM's ``${PROJECT_ROOT}``, Hatch's ``{root:uri}``): ``init`` finds the
library, ``build`` vendors it, and the bundle loads in the real fastmcp."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_realworld_shapes import bundle_table, loaded_tools, manifest, server_py

from support.monorepo import mcpbundle, write

FORMS = {
    "pdm": "units @ file:///${PROJECT_ROOT}/../../libs/units",
    "hatch": "units @ {root:parent:parent:uri}/libs/units",
}


def make_repo(root: Path, dependency: str) -> None:
    write(
        root,
        {
            "libs/units/pyproject.toml": (
                "[project]\nname = 'units'\nversion = '0.1'\ndependencies = ['alpha']\n"
            ),
            "libs/units/units/__init__.py": "def metres(x):\n    return f'{x} m'\n",
            "servers/ruler/pyproject.toml": (
                "[project]\nname = 'ruler'\nversion = '0.1'\n"
                f"dependencies = ['fastmcp', {dependency!r}]\n"
            ),
            "servers/ruler/server.py": server_py(
                "ruler", "from units import metres\n", {"measure": "metres(3)"}
            ),
        },
    )


def write_config(root: Path, wheelhouse: Path) -> None:
    (root / "mcpbundle.toml").write_text(
        bundle_table(wheelhouse)
        + "[shared.units]\npath = 'libs/units'\n"
        + "[servers.ruler]\npath = 'servers/ruler'\nentrypoint = 'server.py'\n"
    )


@pytest.mark.parametrize("form", sorted(FORMS))
def test_a_placeholder_dependency_is_vendored_and_loads(
    tmp_path: Path, wheelhouse: Path, form: str
) -> None:
    root = tmp_path / "repo"
    make_repo(root, FORMS[form])
    write_config(root, wheelhouse)
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    entry = manifest(root)["ruler"]
    assert entry["shared"] == ["units"]
    requirements = (root / "dist/servers/ruler/requirements.txt").read_text()
    assert "alpha==" in requirements  # the library's own dependency is pinned
    assert "PROJECT_ROOT" not in requirements and "root:" not in requirements
    assert loaded_tools(root, "ruler", tmp_path) == ["measure"]


@pytest.mark.parametrize("form", sorted(FORMS))
def test_init_finds_the_library_a_placeholder_names(tmp_path: Path, form: str) -> None:
    root = tmp_path / "repo"
    make_repo(root, FORMS[form])
    done = mcpbundle(root, "init")
    assert done.returncode == 0, done.stderr
    config = (root / "mcpbundle.toml").read_text()
    assert "[shared.units]" in config
    assert 'path = "libs/units"' in config


# -- requirement files that name the library from elsewhere ------------------------------

ELSEWHERE = {
    # uv export --package ruler -o servers/ruler/requirements.txt, run at the root
    "root": "-e ./libs/units\n    # via ruler\nfastmcp==4.0\n",
    # pip-compile's rendering of -e ../../libs/units on the developer's machine
    "absolute": "-e file:///home/dev/work/repo/libs/units\n    # via -r requirements.in\nfastmcp\n",
}


@pytest.mark.parametrize("form", sorted(ELSEWHERE))
def test_a_library_named_from_elsewhere_is_vendored_and_loads(
    tmp_path: Path, wheelhouse: Path, form: str
) -> None:
    root = tmp_path / "repo"
    make_repo(root, FORMS["pdm"])
    (root / "servers/ruler/requirements.txt").write_text(ELSEWHERE[form])
    write_config(root, wheelhouse)
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert manifest(root)["ruler"]["shared"] == ["units"]
    warned = "'-e file:../../libs/units', which every machine reads" in done.stderr
    assert warned == (form == "absolute"), done.stderr
    assert loaded_tools(root, "ruler", tmp_path) == ["measure"]
