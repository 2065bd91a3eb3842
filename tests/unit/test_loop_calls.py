"""Which entry modules run an event loop while they are imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from mcpbundle.plan.loop_calls import import_time_loops
from mcpbundle.plan.shim import needs_shim
from mcpbundle.plan.shim_render import render_shim

FACTORY = "async def create_server():\n    return FastMCP('x')\n\n"


@pytest.mark.parametrize(
    ("code", "lines"),
    [
        (f"import asyncio\n{FACTORY}mcp = asyncio.run(create_server())\n", (5,)),
        (f"import asyncio as aio\n{FACTORY}mcp = aio.run(create_server())\n", (5,)),
        (f"from asyncio import run\n{FACTORY}mcp = run(create_server())\n", (5,)),
        (f"import anyio\n{FACTORY}mcp = anyio.run(create_server)\n", (5,)),
        ("import asyncio\nloop = asyncio.new_event_loop()\nloop.run_until_complete(x())\n", (3,)),
        ("import asyncio\ntry:\n    asyncio.run(setup())\nexcept Exception:\n    pass\n", (3,)),
        # not at import: in a function, under the __main__ guard, another run()
        ("import asyncio\ndef main():\n    asyncio.run(go())\n", ()),
        ("import asyncio\nif __name__ == '__main__':\n    asyncio.run(go())\n", ()),
        ("import subprocess\nsubprocess.run(['ls'])\nmcp.run\n", ()),
    ],
)
def test_import_time_loops(code: str, lines: tuple[int, ...]) -> None:
    assert import_time_loops(ast.parse(code)) == lines


def test_an_entry_running_a_loop_at_import_is_shimmed_and_imported_in_a_thread(
    tmp_path: Path,
) -> None:
    entry = tmp_path / "server.py"
    entry.write_text(
        "import asyncio\nfrom fastmcp import FastMCP\n"
        f"{FACTORY}mcp = asyncio.run(create_server())\n"
    )
    decision = needs_shim(entry, tmp_path, object_name="mcp")
    assert decision.needed
    assert decision.loops == (6,)
    assert any("event loop at import" in reason for reason in decision.reasons)
    text = render_shim(
        source_root_rel=".", module="server", object_name="mcp", factory=None, thread_import=True
    )
    assert "_mcpbundle_import('server')" in text
    compile(text, "mcpbundle_entry.py", "exec")
