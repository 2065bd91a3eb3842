"""Where the uv binary is (the ``uv`` package installed with mcpbundle, else ``uv`` on
PATH), and what version it is.

The version is part of every resolution's cache key, so a build needs it each time;
asking (``uv --version``) is a process start, 5-10 ms of a one-file rebuild. It is
remembered in ``CACHE/interpreters/uv-<key>``, keyed by the binary's real path and its
stat: an upgrade writes a new file (a new inode and change time), and a moved link
names another real path. A version taken from there is announced as the audit event
:data:`PROGRAM_EVENT`, so the no-op stamp still lists uv among the programs the build's
answers came from (:mod:`mcpbundle.incremental.read_recorder`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import sys

# The audit event of a program whose answer was taken from a cache instead of running it
# (its one argument: the program's path).
PROGRAM_EVENT = "mcpbundle.program"


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


def uv_version(uv: str) -> str:
    """The version ``uv --version`` prints ("0.13.9"), or "unknown" when it fails."""
    memo = _memo_path(uv)
    if memo is not None:
        try:
            with open(memo, encoding="utf-8") as handle:
                remembered = handle.read().strip()
        except (OSError, UnicodeDecodeError):
            remembered = ""
        if remembered:
            sys.audit(PROGRAM_EVENT, uv)
            return remembered
    from mcpbundle.base.runner import run

    done = run([uv, "--version"], timeout=60)
    words = done.stdout.split()
    if done.returncode != 0 or len(words) < 2:
        return "unknown"
    if memo is not None:
        _remember(memo, words[1])
    return words[1]


def _memo_path(uv: str) -> str | None:
    from mcpbundle.base.cache_dir import cache_root_path

    try:
        real = os.path.realpath(uv)
        st = os.stat(real)
    except OSError:
        return None
    identity = f"{real}\0{st.st_dev}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}"
    key = hashlib.sha256(identity.encode("utf-8", "surrogateescape")).hexdigest()
    return os.path.join(cache_root_path(), "interpreters", f"uv-{key}")


def _remember(memo: str, version: str) -> None:
    temporary = f"{memo}.{os.getpid()}.tmp"
    try:
        os.makedirs(os.path.dirname(memo), exist_ok=True)
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(version + "\n")
        os.replace(temporary, memo)
    except OSError:  # a cache that cannot be written: uv is asked again next time
        with contextlib.suppress(OSError):
            os.unlink(temporary)
