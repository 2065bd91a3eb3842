"""Where mcpbundle keeps its cache (git checkouts, venvs).

``$MCPBUNDLE_CACHE_DIR``, else ``$XDG_CACHE_HOME/mcpbundle``, else
``~/.cache/mcpbundle``. Nothing is created here; callers make the
subdirectory they need.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The mcpbundle cache directory (absolute, possibly not yet created)."""
    explicit = os.environ.get("MCPBUNDLE_CACHE_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():  # the XDG spec says to ignore relative values
        return Path(xdg) / "mcpbundle"
    return Path.home() / ".cache" / "mcpbundle"
