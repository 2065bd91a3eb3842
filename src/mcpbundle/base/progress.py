"""Progress of long steps (resolution, git clones, installs) on stderr.

On a terminal one status line is redrawn with the elapsed time; otherwise one
line per finished step. ``-q`` turns it off. Progress never goes to stdout,
which belongs to reports and JSON.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator

_enabled = True


def configure(*, enabled: bool) -> None:
    global _enabled  # noqa: PLW0603 - one process-wide switch, set once by the CLI
    _enabled = enabled


@contextlib.contextmanager
def step(subject: str, action: str) -> Iterator[None]:
    """Report ``subject: action`` while the block runs, with its elapsed time."""
    if not _enabled:
        yield
        return
    from mcpbundle.base.redact import mask_urls

    subject = mask_urls(subject)
    stream = sys.stderr
    start = time.monotonic()
    live = stream.isatty()
    stop = threading.Event()
    ticker = None
    if live:

        def redraw() -> None:
            while not stop.wait(0.2):
                elapsed = time.monotonic() - start
                stream.write(f"\r\x1b[K{subject}: {action} ({elapsed:.1f}s)")
                stream.flush()

        ticker = threading.Thread(target=redraw, daemon=True)
        ticker.start()
    ok = False
    try:
        yield
        ok = True
    finally:
        stop.set()
        if ticker is not None:
            ticker.join()
        elapsed = time.monotonic() - start
        status = "" if ok else " failed"
        prefix = "\r\x1b[K" if live else ""
        stream.write(f"{prefix}{subject}: {action}{status} ({elapsed:.1f}s)\n")
        stream.flush()
