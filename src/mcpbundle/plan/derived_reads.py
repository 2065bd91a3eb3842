"""Files planning reads for one *fact* only, and how to compute that fact again.

The plan cache (:mod:`mcpbundle.incremental.read_cache`) makes a plan depend on the
bytes of every file planning opened. Some files are opened for one small fact: every
vendored Python file is read only to see whether, and on which lines, it imports
``mcp.server.fastmcp`` (:mod:`mcpbundle.plan.sdk_compat`). Such a read is *noted*
here with the fact found; when that was the only reason the file was opened, the cache
keeps the fact instead of the digest, and a later build computes the fact again
(:data:`FACTS`) instead of comparing bytes. A shared library's module edited without
touching its imports then leaves the plans of the servers vendoring it valid.

A fact's kind is a tuple: its name in :data:`FACTS`, then the arguments after the path.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

Kind = tuple[str, ...]


@dataclass
class Noted:
    """Facts noted while active: path -> (kind, value), and how often each path was read."""

    facts: dict[str, tuple[Kind, object]] = field(default_factory=dict)
    reads: Counter[str] = field(default_factory=Counter)


FACTS: dict[str, Callable[..., object]] = {}  # kind name -> (path, *args) -> value
_lock = threading.Lock()
_active: list[Noted] = []


@contextlib.contextmanager
def noting() -> Iterator[Noted]:
    noted = Noted()
    with _lock:
        _active.append(noted)
    try:
        yield noted
    finally:
        with _lock:
            _active.remove(noted)


def note(path: str, kind: Kind, value: object) -> None:
    """``path`` (absolute) was opened once to find ``value``, the fact ``kind`` of it."""
    with _lock:
        for noted in _active:
            previous = noted.facts.get(path)
            if previous is not None and previous != (kind, value):
                noted.reads[path] += 1 << 20  # two different facts of one file: keep its bytes
            noted.facts[path] = (kind, value)
            noted.reads[path] += 1
