"""ANSI colour for the CLI's text output, imported only when a stream gets colour.

:meth:`mcpbundle.cli.options.State.colour` decides per stream (``--color``, ``NO_COLOR``,
``FORCE_COLOR``, a terminal); this module only paints. The styles are those of
``check``'s text format (:mod:`mcpbundle.check.colour`), plus ``ok``.
"""

from __future__ import annotations

import re

from mcpbundle.check.colour import STYLES as CHECK_STYLES

RESET = "\x1b[0m"
STYLES = {
    **CHECK_STYLES,  # error, warning, info, path, gutter, summary
    "ok": "\x1b[1;32m",  # bold green
    "code": "\x1b[1;35m",  # bold magenta
}


def paint(style: str, text: str) -> str:
    code = STYLES.get(style)
    return f"{code}{text}{RESET}" if code and text else text


_VERDICT = re.compile(r"^(?P<name>\S+): (?P<verdict>ok|FAILED)$")
_LABEL = re.compile(r"^(?P<indent>\s*)(?P<label>error|warning|note):")


def paint_lines(text: str) -> str:
    """Colour a plain report line by line: ``name: ok|FAILED`` verdicts, ``error:`` /
    ``warning:`` / ``note:`` labels, and a last line that is the summary."""
    lines = text.split("\n")
    out = []
    for index, line in enumerate(lines):
        verdict = _VERDICT.match(line)
        label = _LABEL.match(line)
        if verdict:
            style = "ok" if verdict["verdict"] == "ok" else "error"
            line = f"{paint('path', verdict['name'])}: {paint(style, verdict['verdict'])}"
        elif label:
            style = {"note": "info"}.get(label["label"], label["label"])
            rest = line[label.end() :]
            line = f"{label['indent']}{paint(style, label['label'] + ':')}{rest}"
        elif index == len(lines) - 1 and line:
            line = paint("summary", line)
        out.append(line)
    return "\n".join(out)
