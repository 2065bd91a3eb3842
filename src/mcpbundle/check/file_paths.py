"""Paths a module builds from its own location, read statically.

``Path(__file__).parent.parent / "data" / "x.json"``, ``Path(__file__).resolve().parents[2]
/ "prompts"``, ``os.path.join(os.path.dirname(__file__), "..", "data")``: each names a
place relative to the file, which :func:`from_file` returns as a POSIX path relative to
the file's folder (``../data/x.json``). Anything it cannot follow (a variable, a call of
another function, a non-literal part) gives None.
"""

from __future__ import annotations

import ast
import posixpath
from collections.abc import Callable

# what a part of the chain means: (how many folders up, the parts appended)
_Steps = tuple[int, tuple[str, ...]]
Qualname = Callable[[ast.expr], "str | None"]

_PATHS = frozenset({"pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath", "Path"})
_SAME = frozenset({"resolve", "absolute", "expanduser"})  # methods that keep the place
_OS_SAME = frozenset({"os.path.abspath", "os.path.realpath", "os.path.normpath", "str"})


def from_file(node: ast.expr, qualname: Qualname) -> str | None:
    """The place ``node`` names relative to the module's folder, when it is built from
    ``__file__`` with at least one literal part appended; else None."""
    steps = _steps(node, qualname)
    if steps is None:
        return None
    up, parts = steps
    if not parts or up < 1:
        return None  # the file itself or one of its folders: no file is read by name
    return posixpath.normpath(posixpath.join(*([".."] * (up - 1)), *parts))


def _steps(node: ast.expr, qualname: Qualname) -> _Steps | None:
    """(folders above the file, parts after) that ``node`` adds up to; the file itself
    is ``(0, ())``."""
    if isinstance(node, ast.Name):
        return (0, ()) if node.id == "__file__" else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        left = _steps(node.left, qualname)
        part = _literal(node.right)
        return None if left is None or part is None else _join(left, (part,))
    if isinstance(node, ast.Attribute):
        inner = _steps(node.value, qualname)
        if inner is None or node.attr != "parent":
            return None
        return _up(inner, 1)
    if isinstance(node, ast.Subscript):  # Path(__file__).parents[2]
        if not (isinstance(node.value, ast.Attribute) and node.value.attr == "parents"):
            return None
        inner = _steps(node.value.value, qualname)
        index = node.slice
        if inner is None or not isinstance(index, ast.Constant) or type(index.value) is not int:
            return None
        return _up(inner, index.value + 1) if index.value >= 0 else None
    if isinstance(node, ast.Call):
        return _call(node, qualname)
    return None


def _call(node: ast.Call, qualname: Qualname) -> _Steps | None:
    if node.keywords:
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in _SAME and not node.args:
        return _steps(func.value, qualname)
    if isinstance(func, ast.Attribute) and func.attr == "joinpath":
        inner = _steps(func.value, qualname)
        parts = [_literal(arg) for arg in node.args]
        if inner is None or not parts or None in parts:
            return None
        return _join(inner, tuple(p for p in parts if p is not None))
    name = qualname(func)
    if name is None or not node.args:
        return None
    if name in _PATHS and len(node.args) == 1:
        return _steps(node.args[0], qualname)
    if name in _OS_SAME and len(node.args) == 1:
        return _steps(node.args[0], qualname)
    if name == "os.path.dirname" and len(node.args) == 1:
        inner = _steps(node.args[0], qualname)
        return None if inner is None else _up(inner, 1)
    if name == "os.path.join":
        inner = _steps(node.args[0], qualname)
        parts = [_literal(arg) for arg in node.args[1:]]
        if inner is None or None in parts:
            return None
        return _join(inner, tuple(p for p in parts if p is not None))
    return None


def _literal(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str):
        return None
    text = node.value
    if not text or text.startswith(("/", "~")) or "\\" in text or "\0" in text:
        return None
    return text


def _up(steps: _Steps, levels: int) -> _Steps:
    up, parts = steps
    while levels and parts:
        parts, levels = parts[:-1], levels - 1
    return (up + levels, parts)


def _join(steps: _Steps, more: tuple[str, ...]) -> _Steps | None:
    up, parts = steps
    if up == 0:
        return None  # a part appended to the file itself: not a path anyone builds
    return (up, (*parts, *more))
