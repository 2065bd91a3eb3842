"""How the text reports of ``diff`` and ``verify --drift`` take colour.

They are rendered with a ``paint(style, text)`` function the CLI passes in (its painter:
:mod:`mcpbundle.cli.colour`, imported only when a terminal gets colour), so this package
never imports the CLI and piped output never loads the colour code.
"""

from __future__ import annotations

from collections.abc import Callable

Painter = Callable[[str, str], str]  # (style, text) -> text

# a change's level -> the painter's style: breaking fails like an error, compatible warns
LEVEL_STYLE = {"breaking": "error", "compatible": "warning", "info": "info"}


def plain(_style: str, text: str) -> str:
    """The painter without colour."""
    return text
