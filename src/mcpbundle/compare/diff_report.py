"""``mcpbundle diff`` output: ``text``, ``json``, ``markdown`` (a table ready for a PR
comment or ``$GITHUB_STEP_SUMMARY``) and ``github`` (workflow annotations: breaking is
an error, compatible a warning, info a notice). Deterministic: servers by name,
changes most severe first.

The text format alone is coloured (``paint``, the CLI's painter: breaking in the error
colour, compatible in the warning colour, info in the info colour, server names as
paths, the summary line bold) and, under ``-q``, filtered (``levels``: the changes
shown, without the servers left with none, the note and the summary line)."""

from __future__ import annotations

import json
from collections.abc import Collection

from mcpbundle.compare.diff import DiffReport, ServerDiff
from mcpbundle.compare.surface_diff import LEVELS, Change, rank
from mcpbundle.compare.text_style import LEVEL_STYLE, Painter, plain

FORMATS = ("text", "json", "markdown", "github")
_ANNOTATION = {"breaking": "error", "compatible": "warning", "info": "notice"}


def format_diff(
    report: DiffReport,
    fmt: str,
    *,
    paint: Painter = plain,
    levels: Collection[str] | None = None,
) -> str:
    """``report`` in ``fmt``; for ``text``, ``paint`` colours it and ``levels`` (``-q``)
    keeps only the changes at those levels, with no summary ("" when none is left)."""
    if fmt == "json":
        return json.dumps(report.to_json(), indent=2, sort_keys=True)
    if fmt == "markdown":
        return _markdown(report)
    if fmt == "github":
        return _github(report)
    return _text(report, paint, levels)


def quiet_levels(quiet: int, fail_on: str | None) -> frozenset[str]:
    """The changes ``-q`` shows: breaking and compatible (``-qq``: breaking), and every
    level ``--fail-on`` fails on, since those explain the exit status."""
    shown = {"breaking"} if quiet > 1 else {"breaking", "compatible"}
    if fail_on is not None:
        shown |= {level for level in LEVELS if rank(level) >= rank(fail_on)}
    return frozenset(shown)


def _summary(report: DiffReport) -> str:
    counts = report.counts()
    return ", ".join(f"{counts[level]} {level}" for level in reversed(LEVELS))


def _status(server: ServerDiff, paint: Painter) -> str:
    if server.status == "new":
        return paint(LEVEL_STYLE["compatible"], "new server")
    if server.status == "removed":
        return paint(LEVEL_STYLE["breaking"], "server removed")
    count = len(server.changes)
    return f"{count} change{'s' if count != 1 else ''}" if count else paint("ok", "no change")


def _text(report: DiffReport, paint: Painter, levels: Collection[str] | None) -> str:
    lines = []
    if not report.against.found and levels is None:
        lines.append(f"no {report.against.label} branch yet: every server is new")
    for server in report.servers:
        changes = [c for c in server.changes if levels is None or c.level in levels]
        if levels is not None and not changes:
            continue
        lines.append(f"{paint('path', server.name)}: {_status(server, paint)}")
        if server.status in ("changed",):
            lines += [_change_line(c, paint) for c in changes]
    if levels is None:
        lines.append(paint("summary", f"against {report.against.label}: {_summary(report)}"))
    return "\n".join(lines)


def _change_line(change: Change, paint: Painter) -> str:
    pad = " " * (10 - len(change.level))  # the level in a column, padded outside its colour
    return f"  {paint(LEVEL_STYLE[change.level], change.level)}{pad}  {change.describe()}"


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _what(change: Change) -> str:
    if change.kind == "server":
        return "server"
    return f"{change.kind} `{_cell(change.name).replace('`', '')}`"


def _markdown(report: DiffReport) -> str:
    lines = [f"### MCP surface changes against `{report.against.label}`", ""]
    if not report.against.found:
        lines += [f"No `{report.against.label}` branch yet: every server is new.", ""]
    rows = [(s, c) for s in report.servers for c in s.changes]
    if rows:
        lines += [f"{_summary(report)}.", ""]
        lines += ["| server | level | what | change |", "| --- | --- | --- | --- |"]
        for server, change in rows:
            level = f"**{change.level}**" if change.level == "breaking" else change.level
            lines.append(
                f"| {_cell(server.name)} | {level} | {_what(change)} | {_cell(change.what)} |"
            )
        lines.append("")
    unchanged = [s.name for s in report.servers if not s.changes]
    if unchanged:
        lines.append(f"No change to the MCP surface of {', '.join(unchanged)}.")
    elif not rows:
        lines.append("No server compared.")
    return "\n".join(lines).rstrip("\n")


def _escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _github(report: DiffReport) -> str:
    lines = []
    for server in report.servers:
        for change in server.changes:
            title = _escape(f"MCP surface: {server.name} ({change.level})", prop=True)
            lines.append(f"::{_ANNOTATION[change.level]} title={title}::"
                         + _escape(f"{server.name}: {change.describe()}"))  # fmt: skip
    lines.append(f"against {report.against.label}: {_summary(report)}")
    return "\n".join(lines)
