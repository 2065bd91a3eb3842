"""ANSI colour for ``check``'s text format (imported only when colour is on).

:func:`wanted` decides: ``NO_COLOR`` (non-empty) turns colour off, ``FORCE_COLOR``
(non-empty) turns it on even when the output is not a terminal, otherwise colour
only on a terminal. ``NO_COLOR`` wins when both are set.
"""

from __future__ import annotations

from collections.abc import Mapping

_RESET = "\x1b[0m"
STYLES: Mapping[str, str] = {
    "error": "\x1b[1;31m",  # bold red
    "warning": "\x1b[1;33m",  # bold yellow
    "info": "\x1b[1;36m",  # bold cyan
    "path": "\x1b[1m",  # bold
    "gutter": "\x1b[34m",  # blue
    "summary": "\x1b[1m",
}


def paint(style: str, text: str) -> str:
    code = STYLES.get(style)
    return f"{code}{text}{_RESET}" if code and text else text


def wanted(env: Mapping[str, str], is_terminal: bool) -> bool:
    """Whether to colour, from the environment and whether stdout is a terminal."""
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    return is_terminal and env.get("TERM") != "dumb"
