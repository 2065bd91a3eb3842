"""Imports gated on the Python version or the platform: a branch the host never takes
cannot fail a deploy, and an import inside a function does not stop the server loading."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

import pytest
from checkcases import build_target

from mcpbundle.check.engine import run_checks
from mcpbundle.check.static_tests import static_outcome

GATED = """from fastmcp import FastMCP
import sys, os

if sys.version_info < (3, 11):
    import tomli as tomllib
else:
    import tomllib
if sys.version_info[:2] >= (3, 13):
    import only_on_313
if sys.platform == "win32" or os.name == "nt":
    import pywin_only
if not sys.platform.startswith("linux"):
    import not_on_linux


def later():
    import lazy_dep
    return lazy_dep


mcp = FastMCP("x")
"""


def _mcb004(tmp_path: Path, python: str) -> list[tuple[int, str]]:
    target = replace(build_target(tmp_path, {"src/server.py": GATED}), python=python)
    return [(f.line, f.severity) for f in run_checks([target], select=frozenset({"MCB004"}))]


def test_only_branches_the_target_python_takes_are_checked(tmp_path: Path) -> None:
    assert _mcb004(tmp_path / "311", "3.11") == [(17, "warning")]  # lazy_dep, in a function
    on_310 = _mcb004(tmp_path / "310", "3.10")
    assert (5, "error") in on_310  # tomli is needed there and no requirement provides it
    assert (9, "error") in _mcb004(tmp_path / "313", "3.13")


@pytest.mark.parametrize(
    ("test", "python", "outcome"),
    [
        ("sys.version_info >= (3, 11)", "3.11", True),
        ("sys.version_info < (3, 11)", "3.12", False),
        ("sys.version_info >= (3, 11, 4)", "3.11", None),  # the micro version decides
        ("sys.version_info >= (3, 11, 4)", "3.12", True),
        ("sys.version_info[:2] == (3, 12)", "3.12", True),
        ("sys.version_info >= (3,)", "3.9", True),
        ("sys.platform == 'darwin'", "3.12", False),
        ("sys.platform != 'win32'", "3.12", True),
        ("sys.platform.startswith(('win', 'cygwin'))", "3.12", False),
        ("os.name == 'posix'", "3.12", True),
        ("not sys.platform == 'linux'", "3.12", False),
        ("sys.platform == 'linux' and HAVE_X", "3.12", None),
        ("sys.platform == 'win32' and HAVE_X", "3.12", False),
        ("HAVE_X", "3.12", None),
        ("sys.version_info > other", "3.12", None),
    ],
)
def test_static_outcome(test: str, python: str, outcome: bool | None) -> None:
    expr = ast.parse(test, mode="eval").body
    assert static_outcome(expr, python) is outcome
