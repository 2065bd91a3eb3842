"""Format findings as text, JSON or GitHub Actions annotations.

The text format is one headline per finding (``file:line:col: CODE severity:
message (fix: ...)``), followed, when the source line is known, by a code frame
like ruff's: the line with its number and a caret under the finding. ANSI colour
only when asked for (:mod:`.colour` is imported only then).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Literal

from mcpbundle.base.redact import mask_urls
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


def format_text(
    findings: Sequence[Finding],
    *,
    servers: int | None = None,
    colour: bool = False,
    summary_line: bool = True,
) -> str:
    paint: Painter = _plain
    if colour:
        from mcpbundle.check.colour import paint as ansi

        paint = ansi
    lines: list[str] = []
    for f in findings:
        lines.append(
            f"{paint('path', f.file)}:{f.line}:{f.column}: {paint(f.severity, f.code)} "
            f"{paint(f.severity, f.severity)}: {f.message} (fix: {f.fix})"
        )
        if f.source is not None:
            lines.extend(_frame(f, paint))
            lines.append("")
    if not summary_line:  # check -q: the findings alone
        return "\n".join(lines).rstrip("\n")
    counts = summary(findings)
    n_servers = counts["servers"] if servers is None else servers
    parts = [_plural(counts["errors"], "error"), _plural(counts["warnings"], "warning")]
    if counts["infos"]:
        parts.append(_plural(counts["infos"], "info"))
    lines.append(paint("summary", f"{', '.join(parts)} in {_plural(n_servers, 'server')}"))
    return "\n".join(lines)


Painter = Callable[[str, str], str]


def _plain(_style: str, text: str) -> str:
    return text


def _frame(f: Finding, paint: Painter) -> list[str]:
    """The source line with a gutter and a caret under the finding (tabs shown as spaces)."""
    assert f.source is not None
    line = f.source.rstrip()
    masked = mask_urls(line)  # a credential in a URL never reaches the output
    raw = masked.encode("utf-8")
    if masked != line:
        start, end = 0, len(raw)  # positions moved: underline the line
    else:
        start = min(max(f.column - 1, 0), len(raw))  # columns count UTF-8 bytes, as `ast` does
        end = len(raw) if f.span <= 0 else min(start + f.span, len(raw))
    before = raw[:start].decode("utf-8", "replace").expandtabs(4)
    marked = raw[start:end].decode("utf-8", "replace").expandtabs(4)
    text = raw.decode("utf-8", "replace").expandtabs(4)
    if start == 0 and end == len(raw):  # the whole line: from its first non-blank character
        stripped = marked.lstrip()
        before, marked = " " * (len(marked) - len(stripped)), stripped
    number = str(f.line)
    pad = " " * len(number)
    bar = paint("gutter", "|")
    carets = "^" * max(len(marked), 1)
    return [
        f"{pad} {bar}",
        f"{paint('gutter', number)} {bar} {text}",
        f"{pad} {bar} {' ' * len(before)}{paint(f.severity, carets)}",
    ]


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
    findings: Sequence[Finding],
    fmt: Format = "text",
    *,
    servers: int | None = None,
    colour: bool = False,
    summary: bool = True,
) -> str:
    """Render ``findings``; ``servers`` is the number checked (default: those with findings).

    ``colour`` adds ANSI colour to the text format (the others never have any);
    ``summary=False`` leaves out its closing count line."""
    if fmt == "text":
        return format_text(findings, servers=servers, colour=colour, summary_line=summary)
    if fmt == "json":
        return format_json(findings, servers=servers)
    if fmt == "github":
        return format_github(findings)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
