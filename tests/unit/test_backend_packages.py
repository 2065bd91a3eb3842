"""What a library's build backend says it ships, read from its pyproject.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from mcpbundle.plan.backend_packages import backend_packages
from mcpbundle.plan.lib_discovery import discover_packages


def _lib(root: Path, toml: str, files: list[str]) -> Path:
    (root / "pyproject.toml").parent.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(toml)
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("")
    return root


@pytest.mark.parametrize(
    ("toml", "files", "base", "names"),
    [
        ("[tool.hatch.build.targets.wheel]\npackages = ['src/acme']\n",
         ["src/acme/x/__init__.py"], "src", ("acme",)),
        ("[tool.setuptools]\npackages = ['pkg', 'pkg.sub']\npackage-dir = { '' = 'code' }\n",
         ["code/pkg/__init__.py", "code/pkg/sub/__init__.py"], "code", ("pkg",)),
        ("[tool.setuptools.packages.find]\nwhere = ['lib']\ninclude = ['good*']\n",
         ["lib/good/__init__.py", "lib/other/__init__.py"], "lib", ("good",)),
        ("[tool.poetry]\npackages = [{ include = 'poetic', from = 'lib' }]\n",
         ["lib/poetic/__init__.py"], "lib", ("poetic",)),
        ("[project]\nname = 'my-lib'\n[build-system]\nbuild-backend = 'uv_build'\n",
         ["src/my_lib/__init__.py"], "src", ("my_lib",)),
        ("[tool.uv.build-backend]\nmodule-name = 'acme.tools'\nmodule-root = ''\n",
         ["acme/tools/__init__.py"], ".", ("acme.tools",)),
        ("[tool.flit.module]\nname = 'flat'\n", ["flat.py"], ".", ("flat",)),
        ("[tool.pdm.build]\nincludes = ['lib/acme']\n",
         ["lib/acme/__init__.py", "lib/other/__init__.py"], "lib", ("acme",)),
        ("[tool.pdm.build]\npackage-dir = 'code'\n",
         ["code/tidy/__init__.py", "src/decoy/__init__.py"], "code", ("tidy",)),
        ("[tool.pdm.build]\nincludes = ['helpers.py']\n", ["helpers.py"], ".", ("helpers",)),
    ],
)  # fmt: skip
def test_backends(
    tmp_path: Path, toml: str, files: list[str], base: str, names: tuple[str, ...]
) -> None:
    lib = _lib(tmp_path / "lib", toml, files)
    found = backend_packages(tomllib.loads(toml), lib)
    assert found is not None
    assert found[0].resolve() == (lib / base).resolve() and found[1] == names


def test_a_backend_naming_what_is_not_there_says_nothing(tmp_path: Path) -> None:
    toml = "[tool.hatch.build.targets.wheel]\npackages = ['src/gone']\n"
    assert backend_packages(tomllib.loads(toml), _lib(tmp_path / "lib", toml, [])) is None


def test_namespace_packages_are_named_by_their_portions(tmp_path: Path) -> None:
    files = ["src/acme/db/__init__.py", "src/acme/util.py", "src/plain/__init__.py"]
    lib = _lib(tmp_path / "lib", "[project]\nname = 'x'\n", files)
    base, names = discover_packages(lib, lib / "pyproject.toml")
    assert base == lib / "src" and names == ("acme.db", "acme.util", "plain")
