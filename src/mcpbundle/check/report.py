"""Format findings as text, JSON or GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Literal

from mcpbundle.check.model import Finding

Format = Literal["text", "json", "github"]
FORMATS: tuple[Format, ...] = ("text", "json", "github")
_GITHUB_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    return {
        "errors": sum(f.severity == "error" for f in findings),
        "warnings": sum(f.severity == "warning" for f in findings),
        "infos": sum(f.severity == "info" for f in findings),
        "servers": len({f.server for f in findings}),
    }


def format_text(findings: Sequence[Finding], *, servers: int | None = None) -> str:
    lines = [
        f"{f.file}:{f.line}:{f.column}: {f.code} {f.severity}: {f.message} (fix: {f.fix})"
        for f in findings
    ]
    counts = summary(findings)
    n_servers = counts["servers"] if servers is None else servers
    parts = [_plural(counts["errors"], "error"), _plural(counts["warnings"], "warning")]
    if counts["infos"]:
        parts.append(_plural(counts["infos"], "info"))
    lines.append(f"{', '.join(parts)} in {_plural(n_servers, 'server')}")
    return "\n".join(lines)


def format_json(findings: Sequence[Finding], *, servers: int | None = None) -> str:
    counts = summary(findings)
    if servers is not None:
        counts["servers"] = servers
    data = {
        "findings": [
            {
                "code": f.code,
                "severity": f.severity,
                "server": f.server,
                "file": f.file,
                "line": f.line,
                "column": f.column,
                "message": f.message,
                "fix": f.fix,
            }
            for f in findings
        ],
        "summary": counts,
    }
    return json.dumps(data, indent=2, sort_keys=True)


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


def format_github(findings: Sequence[Finding]) -> str:
    return "\n".join(
        f"::{_GITHUB_LEVEL[f.severity]} file={_escape_property(f.file)},line={f.line},"
        f"col={f.column},title={_escape_property(f.code)}::"
        f"{_escape_data(f'{f.message} (fix: {f.fix})')}"
        for f in findings
    )


def format_findings(
    findings: Sequence[Finding], fmt: Format = "text", *, servers: int | None = None
) -> str:
    """Render ``findings``; ``servers`` is the number checked (default: those with findings)."""
    if fmt == "text":
        return format_text(findings, servers=servers)
    if fmt == "json":
        return format_json(findings, servers=servers)
    if fmt == "github":
        return format_github(findings)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
