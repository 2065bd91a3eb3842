"""What a factory needs that the host does not give it.

FastMCP's loader calls a factory entrypoint (``server.py:create_server``) with no
arguments. A module-level function whose parameters lack defaults (``def
create_server(config)``, ``def create_server(*, settings)``) fails there with a
``TypeError`` the build can see coming. Only a function whose signature is what the
host calls is judged: one under a decorator other than a known cache (``functools.cache``,
``lru_cache``) may be wrapped into any signature, and is left to the loader.
"""

from __future__ import annotations

import ast

Function = ast.FunctionDef | ast.AsyncFunctionDef

_TRANSPARENT = frozenset({"cache", "lru_cache", "cached", "functools.cache", "functools.lru_cache"})


def required_arguments(function: Function) -> tuple[str, ...]:
    """The parameters a call with no arguments leaves unbound, in order; () when the call
    binds them all or when a decorator may have changed the signature."""
    if any(_decorator_name(d) not in _TRANSPARENT for d in function.decorator_list):
        return ()
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    names = [a.arg for a in positional[: len(positional) - len(args.defaults)]]
    names += [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is None]
    return tuple(names)


def needs_arguments_message(name: str, needed: tuple[str, ...]) -> str:
    """What build (an error) and check (MCB001) say of such a factory: the same words."""
    return (
        f"factory `{name}` needs arguments ({', '.join(needed)}), but the host calls it with none"
    )


def needs_arguments_fix(name: str) -> str:
    return (
        f"give them defaults, or bind `mcp = {name}(...)` at module level and point the "
        "entrypoint at `mcp`"
    )


def module_function(body: list[ast.stmt], name: str) -> Function | None:
    """The module-level ``def name`` that binds ``name`` last, when a def does."""
    found: Function | None = None
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
            found = node
        elif _binds(node, name):
            found = None
    return found


def _binds(node: ast.stmt, name: str) -> bool:
    if isinstance(node, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    if isinstance(node, ast.ClassDef):
        return node.name == name
    if isinstance(node, ast.Import | ast.ImportFrom):
        return any((a.asname or a.name).split(".")[0] == name for a in node.names)
    return False


def _decorator_name(node: ast.expr) -> str:
    if isinstance(node, ast.Call):
        node = node.func
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))
