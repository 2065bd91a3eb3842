"""``if`` tests whose outcome on the host is known before anything runs.

Real servers gate imports on the interpreter and the platform::

    if sys.version_info < (3, 11):
        import tomli as tomllib
    else:
        import tomllib

Under the target Python one branch never runs, so nothing in it can fail a deploy.
:func:`static_outcome` evaluates ``sys.version_info`` comparisons against the target
(``"3.12"``) and ``sys.platform`` / ``os.name`` tests against the host, which runs Linux;
anything else, or a comparison the target's minor version cannot decide (a micro
version), is unknown (None).
"""

from __future__ import annotations

import ast
import operator
import sys
from collections.abc import Callable
from typing import Any

HOST_PLATFORM = "linux"  # what sys.platform is on the hosted runtime
HOST_OS_NAME = "posix"

_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}


def target_version(python: str | None) -> tuple[int, int]:
    """``"3.12"`` -> ``(3, 12)``; None: the running interpreter's."""
    if python:
        major, _, minor = python.partition(".")
        if major.isdigit() and minor.split(".")[0].isdigit():
            return int(major), int(minor.split(".")[0])
    return sys.version_info[0], sys.version_info[1]


def static_outcome(test: ast.expr, python: str | None) -> bool | None:
    """True/False when ``test`` has that value on the host under ``python``; None: unknown."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = static_outcome(test.operand, python)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        values = [static_outcome(v, python) for v in test.values]
        if isinstance(test.op, ast.And):
            if False in values:
                return False
            return True if all(v is True for v in values) else None
        if True in values:
            return True
        return False if all(v is False for v in values) else None
    if isinstance(test, ast.Call):
        return _startswith(test)
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    compare = _COMPARE.get(type(test.ops[0]))
    left, right = test.left, test.comparators[0]
    if compare is None:
        return None
    if _is_sys(left, "platform") or _is_os_name(left):
        value = _string(right)
        host = HOST_PLATFORM if _is_sys(left, "platform") else HOST_OS_NAME
        return None if value is None else compare(host, value)
    version = _version_side(left)
    literal = _int_tuple(right)
    if version is None or literal is None:
        return None
    return _compare_version(compare, target_version(python)[:version], literal)


def _compare_version(
    compare: Callable[[Any, Any], bool], target: tuple[int, ...], literal: tuple[int, ...]
) -> bool | None:
    """Compare ``(major, minor)`` of the target with a literal that may name a micro
    version: decided only when every micro version gives the same answer."""
    if len(literal) <= len(target):
        return compare(target, literal)
    if target != literal[: len(target)]:
        return compare(target, literal[: len(target)])  # the first parts already differ
    return None


def _version_side(node: ast.expr) -> int | None:
    """``sys.version_info`` (2: its major and minor are known) or ``sys.version_info[:2]``."""
    if _is_sys(node, "version_info"):
        return 2
    if (
        isinstance(node, ast.Subscript)
        and _is_sys(node.value, "version_info")
        and isinstance(node.slice, ast.Slice)
        and node.slice.lower is None
        and node.slice.step is None
        and isinstance(node.slice.upper, ast.Constant)
        and type(node.slice.upper.value) is int
        and node.slice.upper.value in (1, 2)
    ):
        return node.slice.upper.value
    return None


def _startswith(call: ast.Call) -> bool | None:
    """``sys.platform.startswith("win")`` (a string or a tuple of strings)."""
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and func.attr == "startswith"
        and _is_sys(func.value, "platform")
        and len(call.args) == 1
        and not call.keywords
    ):
        return None
    arg = call.args[0]
    items = arg.elts if isinstance(arg, ast.Tuple) else [arg]
    prefixes = [_string(item) for item in items]
    if any(p is None for p in prefixes):
        return None
    return HOST_PLATFORM.startswith(tuple(p for p in prefixes if p is not None))


def _is_sys(node: ast.expr, attr: str) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == attr
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _is_os_name(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "name"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _string(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _int_tuple(node: ast.expr) -> tuple[int, ...] | None:
    if not isinstance(node, ast.Tuple) or not node.elts:
        return None
    values = []
    for item in node.elts:
        if not (isinstance(item, ast.Constant) and type(item.value) is int):
            return None
        values.append(item.value)
    return tuple(values)
