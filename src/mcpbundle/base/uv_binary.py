"""Where the uv binary is: the ``uv`` package installed with mcpbundle, else ``uv`` on PATH."""

from __future__ import annotations

import os
import shutil


def find_uv() -> str | None:
    """The uv executable, or None when uv is not installed."""
    try:
        import uv

        found = uv.find_uv_bin()
        if found and os.access(found, os.X_OK):
            return str(found)
    except (ImportError, FileNotFoundError, AttributeError):
        pass
    return shutil.which("uv")
