"""The server object: present at module level and a server (MCB001), not run at import (MCB002)."""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterator

from mcpbundle.check.bindings import module_bindings, star_names
from mcpbundle.check.context import CheckContext, ModuleInfo, is_main_guard
from mcpbundle.check.factory_returns import TUPLE, Function, web_app_returned
from mcpbundle.check.model import DEFAULT_OBJECT_NAMES, CheckTarget, Finding
from mcpbundle.check.registry import rule
from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.entrypoints import SERVER_CLASSES
from mcpbundle.plan.factory_args import (
    needs_arguments_fix,
    needs_arguments_message,
    required_arguments,
)

EVENT_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run"})


def is_server_call(info: ModuleInfo, node: ast.AST) -> bool:
    """``FastMCP(...)``/``MCPServer(...)`` through any import alias."""
    if not isinstance(node, ast.Call):
        return False
    name = info.qualname(node.func)
    if name is None:
        return False
    return name in SERVER_CLASSES or name.rsplit(".", 1)[-1] in {"FastMCP", "MCPServer"}


def _object_name(target: CheckTarget) -> str | None:
    if target.object_name is None:
        return None
    return target.object_name.rsplit(":", 1)[-1].strip() or None


def _creator(
    info: ModuleInfo, tree: ast.Module
) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | None:
    """The top-level function or class that creates a server, if any."""
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and any(
            is_server_call(info, n) for n in walk(stmt)
        ):
            return stmt
    return None


def _guard_line(tree: ast.Module) -> int | None:
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and is_main_guard(stmt.test):
            return stmt.lineno
    return None


@rule("MCB001", "error", "no module-level server object")
def check_server_object(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    entry = target.entrypoint
    info = ctx.module(entry)
    display = target.files[entry].display if entry in target.files else entry
    if info is None:
        yield ctx.finding(
            "MCB001",
            file=display,
            line=1,
            message=f"entrypoint {entry} is not a file of the bundle",
            fix="point the server's entrypoint at its server module",
        )
        return
    if info.tree is None:
        return  # MCB000 reports it
    bindings = module_bindings(info.tree)
    stars = star_names(ctx, info)  # None: a star import that may bind anything
    configured = _object_name(target)
    wanted = (configured,) if configured else DEFAULT_OBJECT_NAMES
    for name in wanted:
        found = bindings.get(name, [])
        if not configured:  # `import mcp` binds a module, which FastMCP's loader passes over
            found = [b for b in found if not isinstance(b.node, ast.Import)]
        if found and configured and isinstance(found[-1].node, ast.ClassDef):
            yield _names_a_class(ctx, display, found[-1].node)
            return
        if found and configured and isinstance(found[-1].node, Function):
            returned = web_app_returned(found[-1].node)
            if returned is not None:
                yield _returns_web_app(ctx, display, found[-1].node, returned)
                return
            needed = required_arguments(found[-1].node)
            if needed:
                yield _needs_arguments(ctx, display, found[-1].node, needed)
                return
        if any(not _is_none(b.value) for b in found) or stars is None or name in stars:
            return
        if found:
            yield ctx.finding(
                "MCB001",
                file=display,
                line=found[0].node.lineno,
                message=f"module-level `{name}` is None when the module is imported",
                fix=f"assign the server to `{name}` at module level",
            )
            return
    yield _missing(ctx, info, info.tree, configured, display)


def _returns_web_app(ctx: CheckContext, display: str, function: Function, app: str) -> Finding:
    what = "a tuple" if app == TUPLE else f"a {app} app"
    return ctx.finding(
        "MCB001",
        file=display,
        line=function.lineno,
        column=function.col_offset + 1,
        message=f"factory `{function.name}` returns {what}, not a FastMCP server: the "
        f"host calls it for the server and refuses the {app}",
        fix="return the FastMCP server from the factory (or point the entrypoint at the "
        "module-level server object)"
        + ("; the host serves it over HTTP itself" if app != TUPLE else ""),
    )


def _needs_arguments(
    ctx: CheckContext, display: str, function: Function, needed: tuple[str, ...]
) -> Finding:
    return ctx.finding(
        "MCB001",
        file=display,
        line=function.lineno,
        column=function.col_offset + 1,
        message=needs_arguments_message(function.name, needed),
        fix=needs_arguments_fix(function.name),
    )


def _names_a_class(ctx: CheckContext, display: str, node: ast.ClassDef) -> Finding:
    return ctx.finding(
        "MCB001",
        file=display,
        line=node.lineno,
        column=node.col_offset + 1,
        message=f"`{node.name}` is a class, not a server: the host finds a type and refuses it "
        "(it never instantiates the object it is given)",
        fix=f"create the server at module level (`mcp = {node.name}(...)`) and point the "
        "entrypoint at it, or at a function returning one",
    )


def _is_none(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is None


def _missing(
    ctx: CheckContext, info: ModuleInfo, tree: ast.Module, configured: str | None, display: str
) -> Finding:
    name = configured or "mcp"
    what = f"`{configured}`" if configured else "`mcp`, `server` or `app`"
    creator = _creator(info, tree)
    if creator is not None:
        needed = required_arguments(creator) if isinstance(creator, Function) else ()
        call = f"{creator.name}(...)" if needed else f"{creator.name}()"
        if isinstance(creator, ast.ClassDef):
            place = f"only inside class {creator.name}"
            fix = f"add `{name} = {creator.name}().mcp` (or the attribute holding the server)"
        elif isinstance(creator, ast.AsyncFunctionDef):
            place = f"only inside async function {creator.name}()"
            fix = f"add `{name} = asyncio.run({call})` at module level"
        else:
            place = f"only inside function {creator.name}()"
            fix = f"add `{name} = {call}` at module level"
        if needed:  # the factory as the entrypoint would not load either
            fix += f", passing what it needs ({', '.join(needed)})"
        else:
            fix += " or configure the factory as the entrypoint object"
        return ctx.finding(
            "MCB001",
            file=display,
            line=creator.lineno,
            column=creator.col_offset + 1,
            message=f"no module-level server object {what}: the server is created {place}",
            fix=fix,
        )
    guard = _guard_line(tree)
    if guard is not None and any(
        is_server_call(info, n) for s in tree.body if isinstance(s, ast.If) for n in walk(s)
    ):
        return ctx.finding(
            "MCB001",
            file=display,
            line=guard,
            message=f"no module-level server object {what}: it is only created under "
            '`if __name__ == "__main__":`, which the runtime never executes',
            fix=f"move `{name} = FastMCP(...)` above the `__main__` guard",
        )
    fix = f'add `{name} = FastMCP(name="...")` at module level'
    message = f"no module-level server object {what} in {info.bundle_path}"
    close = _closest(info, tree, configured)
    if close is None:
        return ctx.finding("MCB001", file=display, line=1, message=message, fix=fix)
    other, node = close
    return ctx.finding(
        "MCB001",
        file=display,
        line=node.lineno,
        column=node.col_offset + 1,
        message=f"{message}; did you mean '{other}'?",
        fix=f"set the entrypoint's object to '{other}' (`{info.bundle_path}:{other}`), or {fix}",
    )


def _closest(info: ModuleInfo, tree: ast.Module, wanted: str | None) -> tuple[str, ast.stmt] | None:
    """The module-level name the missing object most likely is, as ``validate`` suggests
    it: a server object bound at module level (the closest to ``wanted``), else a name
    close to ``wanted``."""
    bindings = module_bindings(tree)
    servers = {
        name: found[0].node
        for name, found in bindings.items()
        if any(b.value is not None and is_server_call(info, b.value) for b in found)
    }
    if servers:
        order = sorted(servers, key=lambda n: servers[n].lineno)
        close = difflib.get_close_matches(wanted, order, n=1, cutoff=0.0) if wanted else order
        return close[0], servers[close[0]]
    if wanted is None:
        return None
    names = difflib.get_close_matches(wanted, list(bindings), n=1, cutoff=0.6)
    return (names[0], bindings[names[0]][0].node) if names else None


# --- MCB002 -------------------------------------------------------------------------


def _is_run_call(node: ast.AST, servers: set[str]) -> bool:
    """``<server>.run()`` / ``<server>.run_async()`` / ``<server>.run_stdio_async()``."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    func = node.func
    if not (func.attr == "run" or func.attr.startswith("run_")):
        return False
    return isinstance(func.value, ast.Name) and func.value.id in servers


def _server_names(info: ModuleInfo, tree: ast.Module, configured: str | None) -> set[str]:
    names = set(DEFAULT_OBJECT_NAMES)
    if configured:
        names.add(configured)
    for name, found in module_bindings(tree).items():
        if any(b.value is not None and is_server_call(info, b.value) for b in found):
            names.add(name)
    return names


def _runners(info: ModuleInfo, tree: ast.Module, servers: set[str]) -> set[str]:
    """Module-level functions that (directly or through each other) run the server."""
    funcs = {s.name: s for s in tree.body if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef)}
    calls: dict[str, set[str]] = {}
    runners: set[str] = set()
    for name, func in funcs.items():
        called: set[str] = set()
        for node in walk(func):
            if _is_run_call(node, servers):
                runners.add(name)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                called.add(node.func.id)
        calls[name] = called
    changed = True
    while changed:
        changed = False
        for name, called in calls.items():
            if name not in runners and called & runners:
                runners.add(name)
                changed = True
    return runners


def _runs_server(
    info: ModuleInfo, node: ast.Call, servers: set[str], runners: set[str]
) -> str | None:
    """What the call runs, when it runs the server."""
    if _is_run_call(node, servers):
        return ast.unparse(node.func)
    if isinstance(node.func, ast.Name) and node.func.id in runners:
        return f"{node.func.id}()"
    if info.qualname(node.func) in EVENT_LOOP_RUNNERS and node.args:
        arg = node.args[0]
        if isinstance(arg, ast.Call) and _runs_server(info, arg, servers, runners):
            return ast.unparse(node)
        if isinstance(arg, ast.Name) and arg.id in runners:
            return ast.unparse(node)
    return None


def _import_time_runs(info: ModuleInfo, configured: str | None) -> list[tuple[ast.Call, str]]:
    """The import-time calls of ``info`` that run the server, with what each runs."""
    assert info.tree is not None
    servers = _server_names(info, info.tree, configured)
    runners = _runners(info, info.tree, servers)
    assigned = {
        id(node.value)
        for node, _ in info.of(ast.Assign, ast.AnnAssign)
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None
    }
    reported: set[int] = set()
    found: list[tuple[ast.Call, str]] = []
    for call, _, scope in info.calls():
        if not scope.import_time or id(call) in reported:
            continue
        if id(call) in assigned and not _is_run_call(call, servers):
            continue  # `mcp = asyncio.run(create_server())` is the async factory pattern
        what = _runs_server(info, call, servers, runners)
        if what is None:
            continue
        found.append((call, what))
        # asyncio.run(main()) is one finding, not two
        reported.update(id(n) for n in walk(call))
    return found


@rule("MCB002", "error", "the server runs itself at import time")
def check_run_at_import(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    configured = _object_name(target)
    for info in ctx.modules():
        key = ("MCB002", configured)
        runs = info.memo.get(key)
        if runs is None:  # once per file (and object name), not once per server shipping it
            runs = info.memo[key] = _import_time_runs(info, configured)
        assert isinstance(runs, list)
        for call, what in runs:
            yield ctx.at(
                "MCB002",
                info,
                call,
                f"`{what}` runs the server when the module is imported; the runtime imports "
                "the module and runs the server itself, so the import never returns",
                'move it under `if __name__ == "__main__":`',
            )
