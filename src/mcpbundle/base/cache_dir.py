"""Where mcpbundle keeps its cache (git checkouts, venvs).

``$MCPBUNDLE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mcpbundle``, else
``~/.cache/mcpbundle``. Nothing is created here; callers make the
subdirectory they need.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # typing is not imported: the no-op shortcut reads this module
if TYPE_CHECKING:
    from pathlib import Path


def cache_root_path() -> str:
    """:func:`cache_root` as a string, without importing pathlib (for the no-op shortcut)."""
    explicit = os.environ.get("MCPBUNDLE_CACHE_DIR", "").strip()
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and os.path.isabs(xdg):  # the XDG spec says to ignore relative values
        return os.path.join(xdg, "mcpbundle")
    return os.path.join(os.path.expanduser("~"), ".cache", "mcpbundle")


def cache_root() -> Path:
    """The mcpbundle cache directory (absolute, possibly not yet created)."""
    from pathlib import Path

    return Path(cache_root_path())
