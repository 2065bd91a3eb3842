"""Which ``except ImportError`` fallbacks can never run (read by :mod:`mcpbundle.check.context`).

``try: import tomllib`` / ``except ImportError: import tomli as tomllib`` loads on every
Python whose stdlib has ``tomllib``: the handler is a branch the host never takes, and
an import in it that nothing provides is no finding. That is known only for the Python
running check, whose stdlib is the one inspected; for another target the fallback
stays checked.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys

from mcpbundle.plan.lib_discovery import STDLIB_NAMES

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"


def imports_stdlib_only(body: list[ast.stmt], python: str | None) -> bool:
    """``body`` is imports of what this Python's stdlib has (``import tomllib``, ``from
    typing import Self``), and the target is this Python (another one's stdlib may lack
    them: ``tomllib`` before 3.11, ``typing.Self`` before 3.11)."""
    if python not in (None, RUNNING) or not body:
        return False
    for statement in body:
        if isinstance(statement, ast.Import):
            if not all(_in_stdlib(alias.name) for alias in statement.names):
                return False
        elif isinstance(statement, ast.ImportFrom) and not statement.level and statement.module:
            if not _in_stdlib(statement.module):
                return False
            if not all(_stdlib_has(statement.module, a.name) for a in statement.names):
                return False
        else:
            return False
    return True


# stdlib modules whose import does something (opens a browser, prints, needs a display)
_UNSAFE = frozenset({"antigravity", "this", "__hello__", "__phello__", "turtle", "tkinter"})


def _in_stdlib(module: str) -> bool:
    top = module.split(".", 1)[0]
    return (
        top in STDLIB_NAMES and top not in _UNSAFE and ("." not in module or not _no_spec(module))
    )


def _stdlib_has(module: str, name: str) -> bool:
    """``from module import name`` works on this Python (the stdlib module is imported)."""
    if name == "*":
        return True
    try:
        loaded = importlib.import_module(module)
    except Exception:  # any failure means: not known to work
        return False
    return hasattr(loaded, name) or not _no_spec(f"{module}.{name}")


def _no_spec(module: str) -> bool:
    """A dotted stdlib module this Python lacks (finding it imports only its stdlib parents)."""
    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True
