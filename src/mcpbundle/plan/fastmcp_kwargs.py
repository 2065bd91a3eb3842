"""What fastmcp 2.14, 3 and 4 removed that code written for an earlier one uses, and
whether the bundle gets the later version.

- fastmcp 2.14 dropped the constructor's ``dependencies=`` (deprecated since 2.11.4 for
  fastmcp.json's ``environment.dependencies``): ``TypeError`` on import from then on.
- fastmcp 2 took the transport settings in its constructor (``FastMCP("x",
  host="0.0.0.0", port=8000)``); fastmcp 3 and 4 raise ``TypeError: FastMCP() no longer
  accepts `host``` (the ``_REMOVED_KWARGS`` of fastmcp 3.4.11 and 4.2.3). The MCP SDK's
  own ``mcp.server.fastmcp.FastMCP`` still takes them, so only fastmcp's class counts.
- fastmcp 4 removed ``FastMCP.import_server`` and ``FastMCP.as_proxy`` (both in 3.4.11,
  neither in 4.2.3) and the ``sampling_handler`` arguments.

Code written for the earlier version with a requirement that allows a later one
(``fastmcp>=2.8``) builds, then fails on import (or the composition it does there).
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

from packaging.requirements import InvalidRequirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.env_reads import import_aliases, qualname
from mcpbundle.plan.parsed_requirement import parsed

REMOVED_IN_3 = frozenset({
    "host", "port", "sse_path", "message_path", "streamable_http_path", "json_response",
    "stateless_http", "debug", "log_level", "on_duplicate_tools", "on_duplicate_resources",
    "on_duplicate_prompts", "tool_serializer", "include_tags", "exclude_tags",
    "tool_transformations",
})  # fmt: skip
REMOVED_IN_4 = frozenset({"sampling_handler", "sampling_handler_behavior"})
# fastmcp 2.14 dropped ``dependencies=`` (deprecated in 2.11.4 for fastmcp.json): "major" 2
REMOVED_IN_2_14 = frozenset({"dependencies"})
SINCE = {2: Version("2.14"), 3: Version("3"), 4: Version("4")}  # what each "major" means
CAPS = {2: "2.14", 3: "3", 4: "4"}  # fastmcp<CAP keeps what it removed
METHODS_REMOVED_IN_4 = frozenset({"import_server", "as_proxy"})
_CLASSES = frozenset({"fastmcp.FastMCP", "fastmcp.server.FastMCP", "fastmcp.server.server.FastMCP"})
# Versions that stand for "this major version or later" when testing a specifier.
_PROBES = {
    2: tuple(Version(v) for v in ("2.14.0", "2.14.5", "3.0.0", "4.2.3", "99")),
    3: tuple(Version(v) for v in ("3.0.0", "3.1.0", "3.5.0", "4.0.0", "4.2.3", "99")),
    4: tuple(Version(v) for v in ("4.0.0", "4.1.0", "4.2.3", "5.0.0", "99")),
}


def removed_uses_in(tree: ast.Module) -> tuple[tuple[int, str, int], ...]:
    """``(line, name, major version that removed it)`` of every use in ``tree``."""
    aliases = import_aliases(tree)
    hits: set[tuple[int, str, int]] = set()
    for node in walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in METHODS_REMOVED_IN_4:
            hits.add((node.lineno, func.attr, 4))
        if qualname(func, aliases) in _CLASSES:
            for keyword in node.keywords:
                if keyword.arg in REMOVED_IN_2_14:
                    hits.add((node.lineno, keyword.arg, 2))
                elif keyword.arg in REMOVED_IN_3:
                    hits.add((node.lineno, keyword.arg, 3))
                elif keyword.arg in REMOVED_IN_4:
                    hits.add((node.lineno, keyword.arg, 4))
    return tuple(sorted(hits))


# what makes a file worth parsing for them
MARKERS = (b"FastMCP", b"import_server", b"as_proxy")


_BELOW = {
    2: tuple(Version(v) for v in ("2.13.3", "2.12.5", "2.10.6", "2.0.0")),
    3: tuple(Version(v) for v in ("2.14.5", "2.14.0", "2.13.3", "2.10.6")),
    4: tuple(Version(v) for v in ("3.4.11", "3.2.0", "3.0.0")),
}


def admits_below(requirements: Sequence[str], major: int) -> bool:
    """Whether the requirements admit a fastmcp below ``CAPS[major]``: what keeps an
    argument or method that version removed (``fastmcp>=3`` admits none below 2.14)."""
    for text in requirements:
        try:
            req = parsed(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) != "fastmcp" or req.url:
            continue
        if not any(req.specifier.contains(v, prereleases=True) for v in _BELOW[major]):
            return False
    return True


def allows_fastmcp(
    requirements: Sequence[str], lock_pins: Mapping[str, str] | None, major: int
) -> bool:
    """Whether the bundle may get fastmcp ``major`` or later: a ``fastmcp`` requirement that
    admits it, or none (the build adds the newest that fits); not when the lock pins an
    earlier one."""
    if lock_pins is not None:
        locked = {str(canonicalize_name(k)): v for k, v in lock_pins.items()}.get("fastmcp")
        try:
            if locked is not None and Version(locked) < SINCE[major]:
                return False
        except InvalidVersion:
            pass
    for text in requirements:
        try:
            req = parsed(text)
        except InvalidRequirement:
            continue
        admits = any(req.specifier.contains(v, prereleases=True) for v in _PROBES[major])
        if canonicalize_name(req.name) == "fastmcp" and not req.url and not admits:
            return False
    return True
