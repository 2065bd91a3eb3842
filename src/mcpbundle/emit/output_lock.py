"""One build of an output at a time: an advisory lock file beside the output.

``output_lock(output, wait=...)`` takes an exclusive ``fcntl.flock`` on
``<parent>/.<output name>.lock`` and holds it from planning to the swap. A
second build of the same output waits (saying so once on stderr) or, with
``wait=False``, fails at once with a :class:`~mcpbundle.base.errors.BuildError`.
The kernel drops the lock when the holder exits, even on SIGKILL, so a killed
build never leaves a stale lock behind. The holder removes the lock file when it
is done (so no ``.dist.lock`` lingers in ``git status``); a waiter that then
wins the lock on the removed file notices (the path no longer names the file it
locked) and starts over on a fresh one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from mcpbundle.base.errors import BuildError

LOCK_SUFFIX = ".lock"


def lock_path(output: Path) -> Path:
    """``.<name>.lock`` in the output's parent (never inside the output that is swapped)."""
    return output.parent / f".{output.name}{LOCK_SUFFIX}"


@contextlib.contextmanager
def output_lock(output: Path, *, wait: bool, stream: TextIO | None = None) -> Iterator[Path]:
    """Hold the build lock of ``output`` for the ``with`` block; yield the lock file's path."""
    path = lock_path(output)
    fd = _acquire(path, output, wait=wait, stream=stream if stream is not None else sys.stderr)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # still locked: nobody else can hold this file now
        os.close(fd)  # closing the descriptor releases the lock


def _acquire(path: Path, output: Path, *, wait: bool, stream: TextIO) -> int:
    told = False
    while True:
        fd = _open(path)
        try:
            if not _try_lock(fd, output):
                if not wait:
                    raise BuildError(
                        "another build of this output is running",
                        where=str(output),
                        hint="wait for it to finish, or run without --no-wait to queue behind it",
                    )
                if not told:
                    print(f"waiting for another build of {output}…", file=stream, flush=True)
                    told = True
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                except OSError as exc:
                    raise _lock_failed(output, exc) from exc
            if _same_file(fd, path):
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # we locked a file the previous holder removed: start over


def _open(path: Path) -> int:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise BuildError(
            f"cannot create the build lock: {exc.strerror}",
            where=str(path),
            hint="make the output's parent directory writable or pick another -o",
        ) from exc


def _try_lock(fd: int, output: Path) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            return False
        raise _lock_failed(output, exc) from exc
    return True


def _same_file(fd: int, path: Path) -> bool:
    try:
        named = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (named.st_dev, named.st_ino) == (held.st_dev, held.st_ino)


def _lock_failed(output: Path, exc: OSError) -> BuildError:
    return BuildError(
        f"cannot lock the output: {exc.strerror}",
        where=str(output),
        hint="the file system may not support locks; pick another -o",
    )
