"""``did you mean ...?``: the closest of some names to a misspelt one.

difflib is imported only when an error needs a suggestion: every command validates the
config, and almost none of them fails.
"""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The choice most like ``word`` at least ``cutoff`` alike (difflib's ratio), if any."""
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return found[0] if found else None
