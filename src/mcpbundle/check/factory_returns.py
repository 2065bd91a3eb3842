"""What a configured factory returns, when the code says it is a web app, not a server.

``entrypoint = "app.py:create_app"`` where ``create_app`` builds a FastAPI app, mounts
the FastMCP server in it and returns the app: the host calls the factory and refuses
what it gets (``found a FastAPI, not a FastMCP server``). Read from the return
annotation (``-> FastAPI``) or the returned value (``return FastAPI()``, or a name the
function bound to such a call); anything else, a class of the project's own among them,
may be a server and is not judged. A factory that returns a tuple (``-> tuple[FastMCP,
dict]``, ``return mcp, services``) is refused the same way (``found a tuple``): it is
reported as ``"tuple"``.
"""

from __future__ import annotations

import ast

# the web frameworks' application classes, by the name the code uses for them
WEB_APPS = frozenset({"FastAPI", "Starlette", "Flask", "Quart", "Sanic", "Litestar"})
TUPLE = "tuple"

Function = ast.FunctionDef | ast.AsyncFunctionDef


def web_app_returned(function: Function) -> str | None:
    """The web-app class ``function`` returns (by its annotation or its returned value), or
    ``"tuple"`` when it returns a tuple."""
    returns = function.returns
    if isinstance(returns, ast.Subscript) and _class_name(returns.value) in ("tuple", "Tuple"):
        return TUPLE
    annotated = _class_name(returns)
    if annotated in ("tuple", "Tuple"):
        return TUPLE
    if annotated is not None:
        return annotated if annotated in WEB_APPS else None
    made: dict[str, str] = {}
    returned: list[ast.expr] = []
    for node in _own_nodes(function):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            name = _class_name(node.value.func)
            for target in node.targets:
                if isinstance(target, ast.Name) and name is not None:
                    made[target.id] = name
        elif isinstance(node, ast.Return) and node.value is not None:
            returned.append(node.value)
    kinds: set[str | None] = set()
    for value in returned:
        if isinstance(value, ast.Tuple):
            kinds.add(TUPLE)
        elif isinstance(value, ast.Call):
            kinds.add(_class_name(value.func))
        elif isinstance(value, ast.Name):
            kinds.add(made.get(value.id))
        else:
            kinds.add(None)
    if len(kinds) == 1:
        (kind,) = kinds
        return kind if kind in WEB_APPS or kind == TUPLE else None
    return None


def _class_name(node: ast.expr | None) -> str | None:
    """``FastAPI`` for ``FastAPI``, ``fastapi.FastAPI`` or ``"FastAPI"``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.rsplit(".", 1)[-1].strip() or None
    return None


def _own_nodes(function: Function) -> list[ast.AST]:
    """The function's nodes, without those of functions and classes defined inside it."""
    found: list[ast.AST] = []
    todo: list[ast.AST] = list(function.body)
    while todo:
        node = todo.pop()
        found.append(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found
