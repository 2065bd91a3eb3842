"""Names in one line: the first few, then how many more (a warning about 200 servers is
one readable line, not 200 names)."""

from __future__ import annotations

from collections.abc import Sequence


def first_few(names: Sequence[str], limit: int = 5) -> str:
    """``a, b, c`` or, past ``limit``, ``a, b, c, d, e and 3 more``."""
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown
