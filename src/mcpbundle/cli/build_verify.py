"""``mcpbundle build --verify``: load each server the way verify does, so the build knows
its tools and prompts (an MCP Bundle manifest lists them).

The directory output is built first (only the ``dir`` format: a .mcpb is written
once, with the surface), every server is verified from it, and the surface of each
load becomes the :class:`~mcpbundle.emit.mcpb_manifest.Surface` the .mcpb writer
puts in its manifest. A server that fails verify fails the build (exit 1) and no
.mcpb is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import CheckFailed
from mcpbundle.config.settings import Config
from mcpbundle.emit.mcpb_manifest import Prompt, Surface
from mcpbundle.verify.report import ServerReport


def verified_surfaces(
    config: Config, servers: Sequence[str], output: Path | None
) -> dict[str, Surface]:
    """Verify ``servers`` (all when empty) and return what each one's load listed."""
    from mcpbundle.verify.from_config import run_verify

    report = run_verify(
        config,
        servers=servers,
        http=False,
        env_file=None,
        output=output,
        formats=("dir",),
    )
    failed = [s for s in report.servers if not s.ok]
    if failed:
        shown = "; ".join(f"{s.name}: {s.error}" for s in failed)
        raise CheckFailed(
            f"verify failed, no .mcpb written ({shown})",
            hint="run `mcpbundle verify` for the full report",
        )
    return {server.name: surface_of(server) for server in report.servers}


def surface_of(server: ServerReport) -> Surface:
    """The tools and prompts of the load's normalized surface (verify/surface.py); a
    report without one (an older cache) still names every tool and prompt."""
    surface: Mapping[str, Any] = server.surface or {}
    tools = {t["name"]: t for t in _items(surface.get("tools"))}
    prompts = {p["name"]: p for p in _items(surface.get("prompts"))}
    tool_names = sorted(set(server.tools) | set(tools))  # a cached surface has no names
    prompt_names = sorted(set(server.prompts) | set(prompts))
    return Surface(
        tools=tuple((name, _text(tools.get(name, {}).get("description"))) for name in tool_names),
        prompts=tuple(_prompt(name, prompts.get(name, {})) for name in prompt_names),
    )


def _items(value: object) -> list[Mapping[str, Any]]:
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, Mapping) and isinstance(v.get("name"), str)]


def _prompt(name: str, info: Mapping[str, Any]) -> Prompt:
    arguments = info.get("arguments")
    return Prompt(
        name=name,
        description=_text(info.get("description")),
        arguments=tuple(a["name"] for a in _items(arguments)),
    )


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None
