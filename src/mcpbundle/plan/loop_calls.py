"""Event loops an entry module runs while it is imported.

``mcp = asyncio.run(create_server())`` at module level (a pattern FastMCP Cloud's
own notes show) works under ``python server.py`` but not under FastMCP's file
loader, which imports the entry from inside its running event loop:
``asyncio.run() cannot be called from a running event loop``. The entry shim then
imports the module in a fresh thread, which has no loop (:mod:`mcpbundle.plan.shim_render`).
"""

from __future__ import annotations

import ast

from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.entrypoints import module_statements
from mcpbundle.plan.env_reads import import_aliases, qualname

# What starts a loop of its own and fails inside a running one.
_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run"})


def import_time_loops(tree: ast.Module) -> tuple[int, ...]:
    """Lines of the module-level calls that run an event loop at import (``asyncio.run``,
    ``anyio.run``, ``loop.run_until_complete``); none under ``if __name__ == "__main__"``
    or in a function body."""
    aliases = import_aliases(tree)
    lines: set[int] = set()
    for statement in module_statements(tree.body):
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for node in walk(statement):
            if isinstance(node, ast.Call) and _runs_a_loop(node.func, aliases):
                lines.add(node.lineno)
    return tuple(sorted(lines))


def _runs_a_loop(func: ast.expr, aliases: dict[str, str]) -> bool:
    if isinstance(func, ast.Attribute) and func.attr == "run_until_complete":
        return True
    return qualname(func, aliases) in _RUNNERS
