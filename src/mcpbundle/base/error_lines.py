"""The one ``error:`` line for failures that are not an
:class:`~mcpbundle.base.errors.MCPBundleError`.

Modules turn the failures they expect into one-line errors where they happen
(with the file and key). What reaches :func:`mcpbundle.cli.entry.main` otherwise, an
``OSError`` from a full disk, a file-size limit or a permission, a
``RecursionError`` from a hostile input, is still said in one line naming the
file, never as a traceback; only a real bug says ``internal error``.
"""

from __future__ import annotations

import errno


def describe_unexpected(exc: Exception) -> str:
    """One line for an exception no module turned into an :class:`MCPBundleError`."""
    if isinstance(exc, OSError):
        where = f"{exc.filename}: " if exc.filename is not None else ""
        reason = {
            errno.ENOSPC: "no space left on the device; free some space and run again",
            errno.EDQUOT: "disk quota exceeded; free some space and run again",
            errno.EFBIG: "file too large for this process's file-size limit (ulimit -f); "
            "raise the limit and run again",
            errno.EACCES: "permission denied; fix its permissions or exclude it",
            errno.ENAMETOOLONG: "file name too long; shorten the path or exclude it",
        }.get(exc.errno or 0, f"{exc.strerror or exc}")
        return f"{where}{reason}"
    if isinstance(exc, RecursionError):
        return "an input is nested too deeply to process (RecursionError); run with --debug"
    return f"internal error: {type(exc).__name__}: {exc} (run with --debug to see more)"


def printable(text: str) -> str:
    """``text`` with undecodable file-name bytes shown as ``\\xNN`` (never a UnicodeError)."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")
