"""``FastMCP(...)`` arguments that fastmcp 3 removed, and whether the bundle gets fastmcp 3.

fastmcp 2 took the transport settings in its constructor (``FastMCP("x", host="0.0.0.0",
port=8000)``); fastmcp 3 and 4 raise ``TypeError: FastMCP() no longer accepts `host```
(checked against fastmcp 4.2.3's ``_REMOVED_KWARGS``). Code written for fastmcp 2 with a
requirement that allows a later one (``fastmcp>=2.8``) builds, then fails on import. The
MCP SDK's own ``mcp.server.fastmcp.FastMCP`` still takes them, so only fastmcp's class
counts.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.plan.derived_reads import FACTS, note
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module

REMOVED_IN_3 = frozenset({
    "host", "port", "sse_path", "message_path", "streamable_http_path", "json_response",
    "stateless_http", "debug", "log_level", "on_duplicate_tools", "on_duplicate_resources",
    "on_duplicate_prompts", "tool_serializer", "include_tags", "exclude_tags",
    "tool_transformations",
})  # fmt: skip
_CLASSES = frozenset({"fastmcp.FastMCP", "fastmcp.server.FastMCP", "fastmcp.server.server.FastMCP"})
_FASTMCP3 = Version("3")
# Versions that stand for "fastmcp 3 or later" when testing whether a specifier allows it.
_PROBES = tuple(Version(v) for v in ("3.0.0", "3.1.0", "3.5.0", "4.0.0", "4.2.3", "99"))


def removed_kwargs(files: Iterable[Path], python: str | None = None) -> list[tuple[Path, int, str]]:
    """``(file, line, argument)`` of every ``FastMCP(...)`` of fastmcp's passing an argument
    fastmcp 3 removed; each file's answer is noted as a fact of the plan."""
    found: list[tuple[Path, int, str]] = []
    for path in files:
        hits = removed_kwarg_lines(str(path), python)
        note(os.path.abspath(path), (REMOVED_KWARGS, python or ""), hits)
        found.extend((path, line, name) for line, name in hits)
    return found


def removed_kwarg_lines(path: str, python: str | None = None) -> tuple[tuple[int, str], ...]:
    """``(line, argument)`` in ``path``; none when it does not parse or cannot be read."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        if b"fastmcp" not in data or b"FastMCP" not in data:
            return ()
        tree = parse_module(data, path, python or None)
    except (SyntaxError, ValueError, OSError, TargetUnavailable):
        return ()
    aliases = _aliases(tree)
    hits = {
        (node.lineno, keyword.arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _qualname(node.func, aliases) in _CLASSES
        for keyword in node.keywords
        if keyword.arg in REMOVED_IN_3
    }
    return tuple(sorted((line, str(name)) for line, name in hits))


REMOVED_KWARGS = "fastmcp 2 constructor arguments"
FACTS[REMOVED_KWARGS] = removed_kwarg_lines


def allows_fastmcp3(requirements: Sequence[str], lock_pins: Mapping[str, str] | None) -> bool:
    """Whether the bundle may get fastmcp 3 or later: a ``fastmcp`` requirement that admits
    it, or none (the build adds the newest that fits); not when the lock pins fastmcp 2."""
    if lock_pins is not None:
        locked = {str(canonicalize_name(k)): v for k, v in lock_pins.items()}.get("fastmcp")
        try:
            if locked is not None and Version(locked) < _FASTMCP3:
                return False
        except InvalidVersion:
            pass
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        admits = any(req.specifier.contains(v, prereleases=True) for v in _PROBES)
        if canonicalize_name(req.name) == "fastmcp" and not req.url and not admits:
            return False
    return True


def _aliases(tree: ast.Module) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = (
                    alias.name if alias.asname else alias.name.split(".")[0]
                )
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _qualname(func: ast.expr, aliases: Mapping[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return None
    parts.append(aliases.get(func.id, func.id))
    return ".".join(reversed(parts))
