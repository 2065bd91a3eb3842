"""The walk the rules and the planner share visits what ast.walk visits, in its order."""

from __future__ import annotations

import ast
from collections import deque
from pathlib import Path

import mcpbundle
from mcpbundle.plan.ast_walk import statements, walk

SOURCES = sorted(Path(mcpbundle.__file__).parent.rglob("*.py"))


def test_same_nodes_in_the_same_order_as_ast_walk() -> None:
    assert len(SOURCES) > 100
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)], path
        for node in tree.body:  # a sub-tree too, as the rules walk one function
            assert [id(n) for n in walk(node)] == [id(n) for n in ast.walk(node)], path


def test_every_syntax_form() -> None:
    source = (
        "async def f(x: int, /, *a, k=1, **kw) -> int:\n"
        "    async with a as b, c:\n"
        "        match x:\n"
        "            case {'k': [1, *rest]} | Point(x=0) if rest:\n"
        "                return (y := [i async for i in b if i])\n"
        "    try:\n"
        "        pass\n"
        "    except* ValueError as e:\n"
        "        raise\n"
        "x = f'{a!r:>{w}}' + (lambda q=2: q)()\n"
        "del x[1:2, ...]\n"
    )
    tree = ast.parse(source)
    assert len(walk(tree)) > 60
    assert [id(n) for n in walk(tree)] == [id(n) for n in ast.walk(tree)]


def test_statements_are_the_walk_without_expressions() -> None:
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        assert [id(n) for n in statements(tree)] == [id(n) for n in _outside(tree)], path


def _outside(tree: ast.AST) -> list[ast.AST]:
    """``ast.walk``'s nodes that are no expression and in none (a node object can be shared,
    as ``ast.Load()`` is, so it is judged by where it is met, not by its identity)."""
    found = []
    queue: deque[tuple[ast.AST, bool]] = deque([(tree, False)])
    while queue:
        node, inside = queue.popleft()
        if not inside and not isinstance(node, ast.expr):
            found.append(node)
        below = inside or isinstance(node, ast.expr)
        queue.extend((child, below) for child in ast.iter_child_nodes(node))
    return found


def test_function_bodies_are_each_functions_own_walk() -> None:
    """MCB006 takes each top-level function's calls and subscripts from the module's one
    walk: the same nodes, in the same order, as walking the function itself."""
    from mcpbundle.plan.env_reads import _function_bodies

    decorated = "import os\n@dec(os.environ['A'])\n@other\ndef f(x=os.getenv('B')):\n    g(x)[0]\n"
    trees = [ast.parse(decorated)]
    trees += [ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in SOURCES]
    for tree in trees:
        assert isinstance(tree, ast.Module)
        reads = [n for n in ast.walk(tree) if isinstance(n, ast.Subscript | ast.Call)]
        found = _function_bodies(tree, reads)
        for func in tree.body:
            if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                own = [n for n in ast.walk(func) if isinstance(n, ast.Subscript | ast.Call)]
                assert [id(n) for n in found[id(func)]] == [id(n) for n in own]
    first = trees[0]
    assert isinstance(first, ast.Module)
    reads = [n for n in ast.walk(first) if isinstance(n, ast.Subscript | ast.Call)]
    assert len(_function_bodies(first, reads)[id(first.body[1])]) == 5  # decorators, default
