"""What a build reads, recorded as it happens (for the no-op stamp in
:mod:`mcpbundle.incremental.stamp`).

A build's inputs are spread over many modules (config, requirement files, lock
files, pyprojects, the files it copies, directory walks, the tools it runs).
Rather than have each module declare what it read, and miss one, a Python audit
hook (PEP 578) sees every file opened for reading, every directory listed and
every program started while :func:`recording` is active (and every program whose answer
came from a cache, announced as :data:`PROGRAM_EVENT`). Programs that reach the
network for their answer (``git ls-remote``, ``fetch``, ``clone``) make the
recording *volatile*: such a build is never stamped.

The hook is installed once per process (audit hooks cannot be removed) and does
nothing outside a recording.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from mcpbundle.base.uv_binary import PROGRAM_EVENT

# git subcommands whose result depends on a remote, not on the files here.
NETWORK_GIT = frozenset({"ls-remote", "fetch", "clone", "pull", "remote-https", "submodule"})


@dataclass
class Reads:
    """Absolute paths a build read: files, listed directories, programs run."""

    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    programs: set[str] = field(default_factory=set)
    volatile: str | None = None  # why the result may change with no local change
    opened: Counter[str] = field(default_factory=Counter)  # file -> times opened for reading


_lock = threading.Lock()
_active: list[Reads] = []
_installed = False


@contextlib.contextmanager
def recording() -> Iterator[Reads]:
    """Record into a fresh :class:`Reads` for the ``with`` block (nested blocks each see all)."""
    global _installed  # noqa: PLW0603 - one hook per process, installed on first use
    reads = Reads()
    with _lock:
        if not _installed:
            sys.addaudithook(_hook)
            _installed = True
        _active.append(reads)
    try:
        yield reads
    finally:
        with _lock:
            _active.remove(reads)


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not _active:
        return
    try:
        if event == "open":
            _opened(args)
        elif event in ("os.listdir", "os.scandir"):
            _listed(args[0] if args else None)
        elif event == "subprocess.Popen":
            _started(args)
        elif event == PROGRAM_EVENT:
            note_programs([os.fsdecode(args[0])])
    except Exception:  # an audit hook that raises would break the audited call itself
        for reads in list(_active):
            reads.volatile = reads.volatile or f"could not record a {event} event"


def _absolute(path: Any) -> str | None:
    if path is None:
        path = "."
    if isinstance(path, int):
        return None  # a file descriptor: nothing to watch by name
    try:
        text = os.fsdecode(os.fspath(path))
    except TypeError:
        return None
    return os.path.abspath(text)


def _opened(args: tuple[Any, ...]) -> None:
    path, mode, flags = (*args, None, None, None)[:3]
    if isinstance(mode, str) and any(c in mode for c in "wax+"):
        return
    if isinstance(flags, int) and (
        flags & os.O_ACCMODE != os.O_RDONLY or flags & (os.O_CREAT | os.O_TRUNC)
    ):
        return
    absolute = _absolute(path)
    if absolute is not None:
        for reads in list(_active):
            reads.files.add(absolute)
            reads.opened[absolute] += 1


def _listed(path: Any) -> None:
    absolute = _absolute(path)
    if absolute is not None:
        for reads in list(_active):
            reads.dirs.add(absolute)


def _started(args: tuple[Any, ...]) -> None:
    executable, argv, _cwd, env = (*args, None, None, None, None)[:4]
    words = [os.fsdecode(a) for a in argv] if isinstance(argv, list | tuple) else []
    program = executable if executable is not None else (words[0] if words else None)
    if program is None:
        return
    name = os.fsdecode(program)
    search = env.get("PATH") if isinstance(env, dict) else None
    found = name if os.sep in name else shutil.which(name, path=search)
    volatile = None
    if os.path.basename(name).startswith("git") and NETWORK_GIT.intersection(words[1:]):
        volatile = f"ran {' '.join(words[:3])}"
    for reads in list(_active):
        if found is not None:
            reads.programs.add(os.path.abspath(found))
        if volatile is not None and reads.volatile is None:
            reads.volatile = volatile


def note_programs(paths: Iterable[str]) -> None:
    """Add ``paths`` to every active recording's programs, as if they had been started: a
    result taken from a cache (:mod:`mcpbundle.incremental.read_cache`) depends on the
    programs that computed it."""
    kept = [os.path.abspath(p) for p in paths]
    if not kept:
        return
    with _lock:
        active = list(_active)
    for reads in active:
        reads.programs.update(kept)
