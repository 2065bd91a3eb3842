"""Whether a process still runs, read from /proc (Linux)."""

from __future__ import annotations


def running(pid: int) -> bool:
    """True while ``pid`` runs, checked once: a zombie has ended, it only awaits its reaper."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except FileNotFoundError:
        return False
