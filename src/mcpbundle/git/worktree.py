"""Where the enclosing git work tree starts, found without running git or importing GitPython."""

from __future__ import annotations

import os


def git_root(start: str | os.PathLike[str]) -> str | None:
    """The nearest directory at or above ``start`` holding ``.git`` (a directory or a file)."""
    current = os.path.abspath(start)
    while True:
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent
