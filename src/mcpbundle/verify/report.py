"""What ``verify`` found, per server and in all, as text (one block per server) or JSON."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mcpbundle.base.errors import CheckFailed
from mcpbundle.verify.probe_runner import HttpCheck, SourceCheck

HINTS = {  # the first needle found in the error names the fix (most specific first)
    # The SDK's own FastMCP class, with an mcp old enough that only a fastmcp whose client
    # cannot take such an object fits (chroma-mcp: mcp==1.6.0, fastmcp 2.2.6).
    "Could not infer a valid transport from: <mcp.server.fastmcp": "the fastmcp these "
    "requirements allow cannot serve a server made with the MCP SDK's own FastMCP class "
    "(mcp.server.fastmcp); the host runs servers through fastmcp: build it with "
    "`from fastmcp import FastMCP`",
    "mcp.server.fastmcp": "MCP SDK 2.x removed mcp.server.fastmcp; "
    "use `from fastmcp import FastMCP` and list fastmcp in requirements.txt",
}
SETTING_ERRORS = ("KeyError: ", "ValidationError", "validation error for", "[type=missing")


@dataclass(frozen=True, kw_only=True)
class ServerReport:
    name: str
    ok: bool
    install_seconds: float | None = None
    import_seconds: float | None = None
    peak_memory_mb: float | None = None
    tools: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    http: HttpCheck | None = None
    source: SourceCheck | None = None  # None: not compared with the source tree
    error: str | None = None
    venv: str | None = None  # text output only: where it ran and whether the venv was reused
    python: str | None = None  # the version both loads ran under, e.g. "3.12.1"
    warnings: tuple[str, ...] = ()  # what the server's code did that it should not have
    isolation: str | None = None  # "namespace", "subreaper", "process-group"
    repository: str | None = None  # "overlay", "read-only", "reachable"
    surface: Mapping[str, Any] | None = None  # what the bundle exposes (verify/surface.py)
    surface_cached: bool = False  # read from the cache by bundle hash: nothing was loaded

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "install_seconds": self.install_seconds,
            "import_seconds": self.import_seconds,
            "peak_memory_mb": self.peak_memory_mb,
            "tools": list(self.tools),
            "resources": list(self.resources),
            "prompts": list(self.prompts),
            "http": asdict(self.http) if self.http else None,
            "source": self.source.to_json() if self.source else None,
            "error": self.error,
            "python": self.python,
            "warnings": list(self.warnings),
            "sandbox": (
                {"isolation": self.isolation, "repository": self.repository}
                if self.isolation
                else None
            ),
            "surface": self.surface,
        }


@dataclass(frozen=True)
class VerifyReport:
    servers: tuple[ServerReport, ...]

    @property
    def ok(self) -> bool:
        return all(server.ok for server in self.servers)

    def to_json(self) -> dict[str, Any]:
        return {"servers": [s.to_json() for s in self.servers], "ok": self.ok}

    def raise_for_failures(self) -> None:
        failed = [s.name for s in self.servers if not s.ok]
        if failed:
            raise CheckFailed(f"verify failed for {', '.join(failed)}")


def format_report(report: VerifyReport, json: bool) -> str:
    if json:
        return jsonlib.dumps(report.to_json(), indent=2)
    lines = [format_server(server) for server in report.servers]
    return "\n".join([*lines, format_summary(report)])


def format_summary(report: VerifyReport) -> str:
    """The closing lines: a note when the repository was reachable, then the count."""
    lines = []
    if any(s.repository == "reachable" for s in report.servers):
        lines.append(
            "note: the repository was reachable by the servers' import-time code "
            "(no mount namespace on this machine); writes seen are listed as warnings"
        )
    passed = sum(1 for s in report.servers if s.ok)
    lines.append(f"{passed} of {len(report.servers)} servers passed")
    return "\n".join(lines)


def format_server(server: ServerReport) -> str:
    """One server's block: its verdict line first, then what was measured and found."""
    lines = [f"{server.name}: {'ok' if server.ok else 'FAILED'}"]
    facts = []
    if server.install_seconds is not None:
        facts.append(f"install {server.install_seconds:.1f}s")
    if server.import_seconds is not None:
        facts.append(f"import {server.import_seconds:.2f}s")
    if server.peak_memory_mb is not None:
        facts.append(f"peak memory {server.peak_memory_mb:.0f} MB")
    if server.python:
        facts.append(f"Python {server.python}")
    if facts:
        lines.append("  " + ", ".join(facts))
    if server.venv:
        lines.append(f"  venv: {server.venv}")
    for label, items in (
        ("tools", server.tools),
        ("resources", server.resources),
        ("prompts", server.prompts),
    ):
        if items:
            lines.append(f"  {label} ({len(items)}): {', '.join(items)}")
    if server.source is not None:
        lines.append("  " + _source_line(server.source, server.error))
    if server.http is not None:
        lines.append("  " + _http_line(server.http))
    lines += [f"  warning: {warning}" for warning in server.warnings]
    if server.error:
        first, *rest = server.error.splitlines()
        lines.append(f"  error: {first}")
        lines += [f"         {line}" for line in rest]
    return "\n".join(lines)


def _source_line(check: SourceCheck, error: str | None) -> str:
    if check.ok:
        cached = " (cached load)" if check.cached else ""
        return f"source: same tools, resources and prompts as the source tree{cached}"
    if not check.error or check.error in (error or ""):
        return "source: FAILED (see error)"
    return f"source: {check.error.splitlines()[0]}"


def _http_line(check: HttpCheck) -> str:
    if not check.ok:
        return f"http: FAILED ({check.url})"
    text = f"http: ok, initialize {check.initialize_ms} ms, tools/list {check.round_trip_ms} ms"
    if check.called_tool:
        verdict = "ok" if check.call_ok else f"returned an error: {check.call_error}"
        text += f", tools/call {check.called_tool} {verdict}"
    else:
        text += ", tools/call skipped: no tool without arguments is annotated readOnlyHint"
    return text


EMPTY_SURFACE = (
    "the bundle loads but exposes no tools, resources or prompts, so the host serves nothing; "
    "register them at import (a decorator at module level, or a module the entrypoint "
    "imports), not in main() or a function the host never calls; a server that lists them "
    "only once configured (by a setting it reads) needs the settings the host sets: pass "
    "them with --env-file"
)


def empty_surface(
    tools: Sequence[str],
    resources: Sequence[str],
    prompts: Sequence[str],
    surface: Mapping[str, Any] | None,
) -> bool:
    """Whether a loaded server exposes nothing at all (resource templates count too)."""
    templates = surface.get("resource_templates") if surface else None
    return not (tools or resources or prompts or templates)


def with_hint(error: str, name: str = "NAME") -> str:
    """The error with the fix it calls for, when one is known."""
    for needle, hint in HINTS.items():
        if needle in error and hint not in error:
            return f"{error}\nhint: {hint}"
    if any(marker in error for marker in SETTING_ERRORS) and "--env-file" not in error:
        return (
            f"{error}\nhint: a setting the server reads at import is missing: add "
            f"env = {{...}} with a placeholder value to [servers.{name}], or pass --env-file"
        )
    return error
