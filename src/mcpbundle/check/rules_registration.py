"""Tools registered only where the host never runs, or on a server it does not serve (MCB014).

The host imports the entrypoint and takes its server object; it never runs the file's
``if __name__ == "__main__":`` block, nor a ``main()`` that only that block calls. A
server whose tools are added by ``register_tools(mcp)`` from there loads, lists no tools,
and ``fastmcp run server.py`` on a laptop (which runs the block) never shows it.

What counts as registering: ``@X.tool``/``@X.resource``/``@X.prompt`` (bare or called)
on a nested definition, and ``X.tool(f)``, ``X.add_tool(...)`` and the like, where ``X``
is the function's own parameter or a module-level name bound to a server. A function is
reached when any name reference to it runs at import: the module body (decorators,
defaults and class bodies included), a function reached from there, the entrypoint's
configured object, or an import of it by another shipped module. Anything dynamic
(``globals()``, ``getattr`` on the module) is taken as reaching everything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mcpbundle.check.context import CheckContext, ModuleInfo, is_main_guard
from mcpbundle.check.entry_copies import entry_reimports
from mcpbundle.check.model import CheckTarget, Finding
from mcpbundle.check.registry import rule
from mcpbundle.check.rules_server import is_server_call
from mcpbundle.plan.ast_walk import walk

_DECORATORS = frozenset({"tool", "resource", "prompt"})
_ADDERS = frozenset({"add_tool", "add_resource", "add_resource_template", "add_prompt"})
_SERVER_ONLY = frozenset({"mount", "import_server"})  # a web app has mount() too
_DYNAMIC = frozenset({"globals", "vars", "locals", "eval", "exec"})
_MAIN = 'the `if __name__ == "__main__":` block'

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True, kw_only=True)
class Registration:
    """A registration of a tool, resource or prompt on the server (``@mcp.tool`` and the like)."""

    node: ast.expr  # the decorator or call
    what: str  # ``@mcp.tool``, ``mcp.add_tool()``


@rule("MCB014", "warning", "tools registered only in code the host never runs")
def check_registration(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    for module, node, name in entry_reimports(target, ctx):
        shown = target.entrypoint.rsplit("/", 1)[-1]
        yield ctx.at(
            "MCB014",
            module,
            node,
            f"imports the entrypoint `{shown}` by its name `{name}` while it loads: fastmcp "
            f"loads {shown} as another module, so this runs it a second time, and what "
            f"registers on that copy's server is not on the one the host serves",
            f"create the server in a module of its own (`app.py`: `mcp = FastMCP(...)`) "
            f"that {shown} and this module import, or make the entrypoint a file that "
            f"imports `{name}`",
        )
    info = ctx.module(target.entrypoint)
    if info is None or info.tree is None:
        return
    tree = info.tree
    servers = _server_names(info, tree)
    defs = {s.name: s for s in tree.body if isinstance(s, Function)}
    registering = {name: r for name, fn in defs.items() if (r := _registrations(fn, servers))}
    guards = [s for s in tree.body if isinstance(s, ast.If) and is_main_guard(s.test)]
    for guard in guards:
        for stmt in guard.body:
            for found in _registrations_in(stmt, servers, params=frozenset()):
                yield ctx.at(
                    "MCB014",
                    info,
                    found.node,
                    f"`{found.what}` runs only in {_MAIN}, which the host never runs (it "
                    "imports the module), so the server loads without what it registers",
                    "move the registration above the `__main__` block, at module level",
                )
    if not registering:
        return
    reached = _reached(tree, defs, guards, _object_name(target), _imported_elsewhere(ctx, info))
    if reached is None:
        return
    for name in sorted(set(registering) - reached, key=lambda n: defs[n].lineno):
        first = registering[name][0]
        callers = _callers(name, defs, guards, reached)
        yield ctx.at(
            "MCB014",
            info,
            defs[name],
            f"`{name}()` registers what the server offers (`{first.what}`, line "
            f"{first.node.lineno}), but {callers}, so the server loads without it",
            f"call `{name}(...)` at module level, after the server is created (keep only "
            "`.run()` under the `__main__` guard)",
        )


def _object_name(target: CheckTarget) -> str | None:
    if target.object_name is None:
        return None
    return target.object_name.rsplit(":", 1)[-1].strip() or None


def _server_names(info: ModuleInfo, tree: ast.Module) -> frozenset[str]:
    """Module-level names bound to ``FastMCP(...)`` (or a call that takes one)."""
    names: set[str] = set()
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None:
            continue
        if any(is_server_call(info, n) for n in walk(stmt.value)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return frozenset(names)


def _registrations(fn: Function, servers: frozenset[str]) -> list[Registration]:
    args = fn.args
    params = frozenset(
        a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg)
        if a is not None
    )  # fmt: skip
    found: list[Registration] = []
    for stmt in fn.body:
        found.extend(_registrations_in(stmt, servers, params))
    return found


def _registrations_in(
    stmt: ast.stmt, servers: frozenset[str], params: frozenset[str]
) -> Iterator[Registration]:
    for node in walk(stmt):
        if isinstance(node, Function | ast.ClassDef):
            for decorator in node.decorator_list:
                what = _registers(decorator, servers, params, decorator=True)
                if what is not None:
                    yield Registration(node=decorator, what=what)
        elif isinstance(node, ast.Call):
            what = _registers(node, servers, params, decorator=False)
            if what is not None and node.args:  # X.tool(f): a call that registers f
                yield Registration(node=node, what=what)


def _registers(
    node: ast.expr, servers: frozenset[str], params: frozenset[str], *, decorator: bool
) -> str | None:
    """``@mcp.tool`` / ``mcp.add_tool()`` when ``node`` registers on a server."""
    func = node.func if isinstance(node, ast.Call) else node
    if not isinstance(func, ast.Attribute) or not isinstance(func.value, ast.Name):
        return None
    receiver, attr = func.value.id, func.attr
    on_server = receiver in servers
    if not on_server and receiver not in params:
        return None
    if decorator and attr in _DECORATORS:
        return f"@{receiver}.{attr}"
    if not decorator and (attr in _DECORATORS or attr in _ADDERS):
        return f"{receiver}.{attr}()"
    if not decorator and on_server and attr in _SERVER_ONLY:
        return f"{receiver}.{attr}()"
    return None


def _reached(
    tree: ast.Module,
    defs: dict[str, Function],
    guards: Sequence[ast.If],
    configured: str | None,
    imported: frozenset[str],
) -> set[str] | None:
    """The module-level functions a name reference reaches at import; None when the
    module does something dynamic that may reach any of them."""
    roots: list[ast.AST] = []
    for stmt in tree.body:
        if stmt in guards:
            continue
        if isinstance(stmt, Function):
            roots.extend([*stmt.decorator_list, stmt.args])
            if stmt.returns is not None:
                roots.append(stmt.returns)
        else:
            roots.append(stmt)
    # a decorated function may be called by what decorates it (a startup hook, a CLI)
    reached = {name for name, fn in defs.items() if fn.decorator_list}
    reached |= {name for name in (configured, *imported) if name in defs}
    queue = list(reached)
    names = _names(roots)
    if names is None:
        return None
    for name in names & set(defs):
        if name not in reached:
            reached.add(name)
            queue.append(name)
    while queue:
        inner = _names(defs[queue.pop()].body)
        if inner is None:
            return None
        for name in inner & set(defs):
            if name not in reached:
                reached.add(name)
                queue.append(name)
    return reached


def _names(nodes: Sequence[ast.AST]) -> set[str] | None:
    """Names loaded under ``nodes`` (and attribute names, for ``module.f``); None at a
    dynamic lookup."""
    found: set[str] = set()
    for root in nodes:
        for node in walk(root):
            if isinstance(node, ast.Name):
                if node.id in _DYNAMIC:
                    return None
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)  # __all__, getattr(module, "f"), a registry by name
    return found


def _imported_elsewhere(ctx: CheckContext, info: ModuleInfo) -> frozenset[str]:
    """Names other shipped modules import by ``from ... import name``: one of them may call
    a function of the entrypoint at its own import."""
    names: set[str] = set()
    for other in ctx.modules():
        if other.bundle_path == info.bundle_path:
            continue
        for node, _scope in other.of(ast.ImportFrom):
            if isinstance(node, ast.ImportFrom):
                names.update(alias.name for alias in node.names)
    return frozenset(names)


def _callers(
    name: str, defs: dict[str, Function], guards: Sequence[ast.If], reached: set[str]
) -> str:
    """Who refers to ``name``: ``only main() calls it``, ``only ... block calls it``."""
    by: list[str] = []
    if any(name in (_names(g.body) or set()) for g in guards):
        by.append(_MAIN)
    by.extend(
        f"`{other}()`"
        for other, fn in defs.items()
        if other != name and other not in reached and name in (_names(fn.body) or set())
    )
    if not by:
        return "nothing calls it"
    verb = "calls" if len(by) == 1 else "call"
    return f"only {' and '.join(by)} {verb} it, which the host never runs (it imports the module)"
