"""The handler of ``try: import tomllib / except ImportError: import tomli`` never runs
when the target is this Python (its stdlib has the module); for another target it may."""

from __future__ import annotations

import ast

from mcpbundle.check.context import _scoped
from mcpbundle.check.import_guards import RUNNING

SOURCE = "try:\n    import tomllib\nexcept ImportError:\n    import tomli as tomllib\n"


def _fallback_dead(python: str | None) -> bool:
    tree = ast.parse(SOURCE)
    scopes = {
        alias.name: scope
        for node, scope in _scoped(tree, python)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    assert not scopes["tomllib"].dead and scopes["tomllib"].optional
    return scopes["tomli"].dead


def test_the_fallback_is_dead_for_this_python() -> None:
    assert _fallback_dead(None) and _fallback_dead(RUNNING)


def test_the_fallback_runs_for_another_python() -> None:
    assert not _fallback_dead("3.10")


def test_from_imports_of_what_the_stdlib_has_make_the_fallback_dead() -> None:
    for body in ("from tomllib import loads", "from typing import Self", "from os import path"):
        tree = ast.parse(f"try:\n    {body}\nexcept ImportError:\n    import y\n")
        (scope,) = [
            s
            for n, s in _scoped(tree, None)
            if isinstance(n, ast.Import) and n.names[0].name == "y"
        ]
        assert scope.dead, body


def test_a_body_that_is_no_stdlib_import_keeps_its_fallback_alive() -> None:
    bodies = (
        "import orjson",
        "from typing import NoSuchName",
        "from .local import thing",
        "import this",  # importing it prints: never imported to find out
        "import tomllib\nx = f()",
    )
    for body in bodies:
        indented = body.replace("\n", "\n    ")
        tree = ast.parse(f"try:\n    {indented}\nexcept ImportError:\n    import y\n")
        (scope,) = [
            s
            for n, s in _scoped(tree, None)
            if isinstance(n, ast.Import) and n.names[0].name == "y"
        ]
        assert not scope.dead, body
