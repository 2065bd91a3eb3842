"""Duration parsing, a module local to server-ops (imported as a sibling of server.py)."""

from __future__ import annotations

import re

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """Seconds in ``"1h30m"``, ``"2d 4h"``, ``"45s"``; a bare number is seconds."""
    stripped = text.strip()
    if re.fullmatch(r"\d+", stripped):
        return int(stripped)
    total = 0.0
    consumed = 0
    for match in _PART.finditer(stripped):
        total += float(match.group(1)) * _SECONDS[match.group(2).lower()]
        consumed += len(match.group(0))
    if consumed == 0 or consumed != len(stripped.replace(" ", "")):
        raise ValueError(f"cannot parse duration {text!r}; use forms like '1h30m' or '45s'")
    return round(total)
