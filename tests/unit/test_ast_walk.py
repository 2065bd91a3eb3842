"""The walk the rules and the planner share visits what ast.walk visits, in its order."""

from __future__ import annotations

import ast
from pathlib import Path

import mcpbundle
from mcpbundle.plan.ast_walk import walk

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
