"""The dependencies a server's constructor declares: ``FastMCP("x", dependencies=[...])``.

fastmcp before 2.14 and the MCP SDK's ``FastMCP`` take the packages a server needs
there, and ``fastmcp dev`` / ``mcp install`` installed them (``uv run --with``) when
the server was developed, so a server may declare them nowhere else. Each string
literal of the list joins the server's requirements (a requirement read twice is
harmless); anything computed is left alone. The entrypoint is read with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.env_reads import import_aliases, qualname
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module
from mcpbundle.plan.requirements import ReqLine, parse_requirement_text

SERVER_CLASSES = frozenset({
    "fastmcp.FastMCP", "fastmcp.server.FastMCP", "fastmcp.server.server.FastMCP",
    "mcp.server.fastmcp.FastMCP", "mcp.server.fastmcp.server.FastMCP",
})  # fmt: skip


def constructor_requirements(root: Path, rel: str, python: str | None = None) -> list[ReqLine]:
    """The ``dependencies=`` literals of every server constructor call in ``rel``."""
    path = root / rel
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if b"dependencies" not in data:
        return []  # the cheap test
    try:
        tree = parse_module(data, rel, python)
    except (SyntaxError, ValueError, TargetUnavailable):
        return []  # other checks report it
    aliases = import_aliases(tree)
    lines: list[ReqLine] = []
    for node in walk(tree):
        if not isinstance(node, ast.Call) or qualname(node.func, aliases) not in SERVER_CLASSES:
            continue
        for keyword in node.keywords:
            if keyword.arg != "dependencies" or not isinstance(keyword.value, ast.List | ast.Tuple):
                continue
            for item in keyword.value.elts:
                if isinstance(item, ast.Constant) and isinstance(item.value, str) and item.value:
                    origin = f"{rel}:{item.lineno}: FastMCP(dependencies=...)"
                    lines.append(
                        parse_requirement_text(item.value, origin=origin, base=path.parent)
                    )
    return lines
