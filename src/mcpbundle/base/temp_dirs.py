"""Scratch directories that a killed process cannot leave behind for good, and tree removal.

:func:`temp_dir` makes ``cache_root()/tmp/mcpbundle-<purpose>-<pid>-<start>-<random>``:
the owning process's id and start time (from ``/proc``; 0 where there is none) are in
the name, so any later call can tell a live owner from a dead one (even after its pid
was reused) and :func:`sweep` removes the dead ones' directories. A ``kill -9`` of a
build therefore leaves its scratch tree only until the next mcpbundle run that needs
one. When the cache cannot be created the system temporary directory is used, with
the same names.

:func:`remove_tree` deletes a directory tree without recursion (and without paths
longer than the tree's own plus one name), so a hostile 2,000-level tree is removed
like any other.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from mcpbundle.base.cache_dir import cache_root

TMP_DIR = "tmp"
_NAME = re.compile(r"^mcpbundle-([a-z]+)-(\d+)-(\d+)-[A-Za-z0-9_]+$")
_PURPOSE = re.compile(r"^[a-z]+$")
_hoisted = itertools.count()


@contextlib.contextmanager
def temp_dir(purpose: str) -> Iterator[Path]:
    """A fresh scratch directory for the ``with`` block (see the module docstring)."""
    path = make_temp_dir(purpose)
    try:
        yield path
    finally:
        remove_tree(path)


def make_temp_dir(purpose: str) -> Path:
    """A fresh scratch directory the caller removes (:func:`remove_tree`); ``purpose`` is
    lowercase letters (``branch``, ``git``, ``resolve``...)."""
    if not _PURPOSE.match(purpose):
        raise ValueError(f"purpose must be lowercase letters, got {purpose!r}")
    base = tmp_root()
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.gettempdir())
    else:
        sweep(base)
    prefix = f"mcpbundle-{purpose}-{os.getpid()}-{_start_time(os.getpid())}-"
    return Path(tempfile.mkdtemp(prefix=prefix, dir=base))


def tmp_root() -> Path:
    return cache_root() / TMP_DIR


def sweep(base: Path | None = None) -> list[str]:
    """Remove the scratch directories in ``base`` whose owner is gone; return their names."""
    base = tmp_root() if base is None else base
    removed: list[str] = []
    try:
        children = list(os.scandir(base))
    except OSError:
        return removed
    for entry in children:
        match = _NAME.match(entry.name)
        if match is None or not entry.is_dir(follow_symlinks=False):
            continue
        if owner_alive(int(match.group(2)), int(match.group(3))):
            continue
        remove_tree(Path(entry.path))
        removed.append(entry.name)
    return removed


def owner_alive(pid: int, start: int) -> bool:
    """True if process ``pid`` runs and (when ``start`` is known) started at ``start``."""
    if pid == os.getpid():
        return start in (0, _start_time(pid))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    current = _start_time(pid)
    return start == 0 or current in (0, start)


def _start_time(pid: int) -> int:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
        return int(data[data.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        return 0


def remove_tree(top: Path) -> None:
    """Delete ``top`` and everything under it, best effort, iteratively.

    Every subdirectory is first renamed to a direct child of ``top`` so no path
    grows with the depth of the tree (``shutil.rmtree`` recurses once per level
    and needs the whole path). Symlinks are removed, never followed.
    """
    try:
        info = os.lstat(top)
    except OSError:
        return
    if not stat.S_ISDIR(info.st_mode):
        with contextlib.suppress(OSError):
            os.unlink(top)
        return
    pending = [str(top)]
    emptied: list[str] = []
    while pending:
        here = pending.pop()
        emptied.append(here)
        try:
            entries = list(os.scandir(here))
        except OSError:
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if not is_dir:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                continue
            hoisted = entry.path
            if here != str(top):
                hoisted = os.path.join(str(top), f".mcpbundle-rm-{os.getpid()}-{next(_hoisted)}")
                try:
                    os.rename(entry.path, hoisted)
                except OSError:
                    hoisted = entry.path
            pending.append(hoisted)
    # Every directory but ``top`` is now an empty direct child of it (or, when a rename
    # failed, nested: retried below in children-first order). Removing a directory can
    # wait on the file system (a ``discard`` mount trims its block: milliseconds each),
    # so many are removed side by side.
    inner = emptied[1:]
    if len(inner) >= _PARALLEL_RMDIR:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=8) as pool:
            removed = list(pool.map(_rmdir, inner))
        inner = [d for d, gone in zip(inner, removed, strict=True) if not gone]
    for directory in reversed([str(top), *inner]):
        _rmdir(directory)


_PARALLEL_RMDIR = 32


def _rmdir(directory: str) -> bool:
    try:
        os.rmdir(directory)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True
