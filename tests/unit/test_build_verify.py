"""``build --verify``: what a verify load listed becomes the tools and prompts of a .mcpb
manifest."""

from __future__ import annotations

from test_mcpb_manifest import FACTS

from mcpbundle.cli.build_verify import surface_of
from mcpbundle.emit.mcpb_manifest import Launch, Prompt, Surface, manifest
from mcpbundle.verify.report import ServerReport
from support.mcpbschema import schema_errors

REPORT = ServerReport(
    name="ops",
    ok=True,
    tools=("ping", "health"),
    prompts=("summary",),
    surface={
        "tools": [
            {"name": "health", "description": "  Report health.  ", "input_schema": {}},
            {"name": "ping", "description": None},
        ],
        "prompts": [
            {
                "name": "summary",
                "description": "Summarize.",
                "arguments": [{"name": "service", "required": True}, {"description": "x"}],
            }
        ],
    },
)


def test_a_load_gives_sorted_tools_and_prompts_with_their_texts() -> None:
    assert surface_of(REPORT) == Surface(
        tools=(("health", "Report health."), ("ping", None)),
        prompts=(Prompt(name="summary", description="Summarize.", arguments=("service",)),),
    )


def test_a_load_without_a_surface_still_names_every_tool() -> None:
    bare = ServerReport(name="ops", ok=True, tools=("b", "a"), prompts=("p",))
    assert surface_of(bare) == Surface(
        tools=(("a", None), ("b", None)), prompts=(Prompt(name="p"),)
    )


def test_the_manifest_lists_them_and_stays_schema_valid() -> None:
    launch = Launch(runtime="uv", python="3.12", entry="server.py", object="mcp")
    document = manifest(FACTS, launch, version="1.0.0", surface=surface_of(REPORT))
    assert document["tools"] == [
        {"name": "health", "description": "Report health."},
        {"name": "ping"},
    ]
    assert [p["name"] for p in document["prompts"]] == ["summary"]
    assert document["prompts"][0]["arguments"] == ["service"]
    assert schema_errors(document) == []


def test_a_cached_surface_without_names_gives_the_same() -> None:
    cached = ServerReport(name="ops", ok=True, surface=REPORT.surface, surface_cached=True)
    assert surface_of(cached) == surface_of(REPORT)
