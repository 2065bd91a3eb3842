"""The server object an entrypoint file exposes, found statically.

FastMCP's loader imports the file and takes the named object, or the first of
``mcp`` / ``server`` / ``app``; a factory (``def create_server()``) is called.
Nothing is imported here: the names bound at module level (outside functions,
classes and ``__main__`` guards) are read from the AST, so ``validate`` and
``build`` can say ``did you mean 'app'?`` before anything is installed.
"""

from __future__ import annotations

import ast
from pathlib import Path

from mcpbundle.base.errors import BuildError, ConfigError
from mcpbundle.base.suggest import closest
from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.factory_args import (
    module_function,
    needs_arguments_fix,
    needs_arguments_message,
    required_arguments,
)
from mcpbundle.plan.python_parse import parse_module

SERVER_NAMES = ("mcp", "server", "app")
# The classes whose instances FastMCP's loader serves, by their import path (check, init).
SERVER_CLASSES = frozenset(
    {
        "fastmcp.FastMCP",
        "fastmcp.server.FastMCP",
        "fastmcp.server.server.FastMCP",
        "mcp.server.fastmcp.FastMCP",
        "mcp.server.fastmcp.server.FastMCP",
        "mcp.server.mcpserver.MCPServer",
        "mcp.server.mcpserver.server.MCPServer",
        "mcp.server.MCPServer",
    }
)
_SERVER_CALLS = frozenset({"FastMCP", "MCPServer", "Server"})


def server_object(
    entry: Path, display: str, configured: str | None, key: str, python: str | None = None
) -> str:
    """The object the host loads from ``entry``: ``configured`` checked, else the default.

    ``key`` names the config key that chose the object (``mcpbundle.toml:
    servers.ops.entrypoint``): a configured object that does not exist is a config error.
    ``python`` is the target whose grammar reads the file (:mod:`mcpbundle.plan.python_parse`)."""
    tree = parse_entry(entry, display, python)
    names = module_level_names(tree)
    if configured is not None:
        if configured in names or _has_star_import(tree):
            return _callable_bare(tree, display, configured)
        raise ConfigError(
            f"{display}:{_closest_line(tree, configured)} has no module-level {configured!r}",
            where=key,
            hint=_suggestion(tree, names, configured)
            or "define it at module level (or as a factory function) or fix ':object'",
        )
    modules = imported_modules(tree)
    for name in SERVER_NAMES:
        if name in names and name not in modules:  # `import mcp` binds the SDK, no server
            return _callable_bare(tree, display, name)
    if _has_star_import(tree):
        return SERVER_NAMES[0]  # `from x import *` may bind it: let the loader decide
    suggestion = _suggestion(tree, names, None)
    raise BuildError(
        "no module-level server object (mcp, server or app)",
        where=f"{display}:{_closest_line(tree, None)}",
        hint=(f"{suggestion}; " if suggestion else "")
        + "assign the server at module level (mcp = FastMCP(...)) or set "
        "entrypoint = 'file.py:object'",
    )


def _callable_bare(tree: ast.Module, display: str, name: str) -> str:
    """``name``, unless it is a factory the host's call with no arguments cannot bind."""
    function = module_function(module_statements(tree.body), name)
    needed = required_arguments(function) if function is not None else ()
    if function is None or not needed:
        return name
    raise BuildError(
        needs_arguments_message(name, needed),
        where=f"{display}:{function.lineno}",
        hint=needs_arguments_fix(name),
    )


def parse_entry(path: Path, display: str, python: str | None = None) -> ast.Module:
    try:
        return parse_module(path.read_bytes(), str(path), python)
    except SyntaxError as exc:
        raise BuildError(
            f"syntax error: {exc.msg}", where=f"{display}:{exc.lineno}", hint="fix the code"
        ) from exc
    except OSError as exc:
        raise BuildError(f"cannot read the entrypoint: {exc.strerror}", where=display) from exc


def module_level_names(tree: ast.Module) -> dict[str, int]:
    """Names bound at module level -> the line binding them first."""
    names: dict[str, int] = {}

    def bind(name: str, node: ast.AST) -> None:
        names.setdefault(name, getattr(node, "lineno", 1))

    for node in module_statements(tree.body):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for sub in walk(target):
                    if isinstance(sub, ast.Name):
                        bind(sub.id, node)
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(node.target, ast.Name):
            bind(node.target.id, node)
        elif isinstance(node, ast.ImportFrom | ast.Import):
            for alias in node.names:
                if alias.name != "*":
                    bind((alias.asname or alias.name).split(".")[0], node)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bind(node.name, node)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.NamedExpr):
            if isinstance(node.value.target, ast.Name):  # `(mcp := FastMCP(...))`
                bind(node.value.target.id, node)
        elif type(node).__name__ == "TypeAlias":  # `type X = ...` (3.12+)
            name = getattr(node, "name", None)
            if isinstance(name, ast.Name):
                bind(name.id, node)
    return names


def imported_modules(tree: ast.Module) -> set[str]:
    """Module-level names bound only by ``import x`` / ``import x.y`` / ``import x as n``:
    modules, which FastMCP's loader passes over when it looks for mcp, server or app."""
    statements = module_statements(tree.body)
    by_import = {
        (a.asname or a.name).split(".")[0]
        for node in statements
        if isinstance(node, ast.Import)
        for a in node.names
    }
    rest = [node for node in statements if not isinstance(node, ast.Import)]
    return by_import - set(module_level_names(ast.Module(body=rest, type_ignores=[])))


_BLOCKS = (ast.If, ast.Try, ast.TryStar, ast.With, ast.For, ast.While, ast.Match)
_Block = ast.If | ast.Try | ast.TryStar | ast.With | ast.For | ast.While | ast.Match


def module_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements that run at import, with the blocks of if/try/with/for/while/match
    flattened (the module's own scope: a server bound in any of them is a module-level
    name), __main__ guards out."""
    flat: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.If) and is_main_guard(node.test):
            flat.extend(module_statements(node.orelse))
        elif isinstance(node, _BLOCKS):
            for block in _blocks(node):
                flat.extend(module_statements(block))
        else:
            flat.append(node)
    return flat


def _blocks(node: _Block) -> list[list[ast.stmt]]:
    if isinstance(node, ast.If | ast.For | ast.While):
        return [node.body, node.orelse]
    if isinstance(node, ast.With):
        return [node.body]
    if isinstance(node, ast.Match):
        return [case.body for case in node.cases]
    return [node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]]


def is_main_guard(test: ast.expr) -> bool:
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    )


def _has_star_import(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names)
        for node in module_statements(tree.body)
    )


def _server_assignments(tree: ast.AST) -> dict[str, int]:
    """Every ``name = FastMCP(...)``-like assignment anywhere in the file -> its line."""
    found: dict[str, int] = {}
    for node in walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            func = node.value.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in _SERVER_CALLS:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        found.setdefault(target.id, node.lineno)
    return found


def _suggestion(tree: ast.Module, names: dict[str, int], wanted: str | None) -> str | None:
    """``did you mean 'app'?`` from module-level server objects or close names."""
    servers = [n for n in _server_assignments(tree) if n in names]
    if wanted is None:
        return f"did you mean '{servers[0]}'?" if servers else None
    close = closest(wanted, servers, cutoff=0.0) if servers else None
    if close is None:
        close = closest(wanted, names)
    return f"did you mean '{close}'?" if close else None


def _closest_line(tree: ast.Module, wanted: str | None) -> int:
    """The line of the nearest thing to the missing object: a server created anywhere
    (in a function, a class or a __main__ guard), else line 1."""
    servers = _server_assignments(tree)
    if wanted is not None and wanted in servers:
        return servers[wanted]
    if wanted is None:
        for name in SERVER_NAMES:
            if name in servers:
                return servers[name]
    return min(servers.values()) if servers else 1
