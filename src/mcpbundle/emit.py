"""The directory writer: stage a complete output beside the old one, then swap it in.

A build writes into ``.<output>.mcpbundle-tmp-<pid>-<n>`` next to the output,
then exchanges the two directories in one ``renameat2(RENAME_EXCHANGE)`` call
where the kernel has it (Linux), else with two renames. A build that fails or
is killed part-way leaves the previous output as it was; the next build removes
leftover staging directories whose process is gone.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import os
import shutil
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from mcpbundle.errors import BuildError

_TMP_MARK = ".mcpbundle-tmp-"
_OLD_MARK = ".mcpbundle-old-"
_counter = itertools.count()


def staging_dir(output: Path) -> Path:
    """A fresh, empty directory beside ``output`` (same file system, so renames are atomic)."""
    parent = output.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(
            f"cannot create {parent}: {exc.strerror}", where=str(output), hint="pick another -o"
        ) from exc
    if output.exists() and not output.is_dir():
        raise BuildError("output path is a file", where=str(output), hint="remove it or use -o")
    clean_leftovers(output)
    path = parent / f".{output.name}{_TMP_MARK}{os.getpid()}-{next(_counter)}"
    try:
        path.mkdir()
    except OSError as exc:
        raise BuildError(
            f"output directory is not writable: {exc.strerror}",
            where=str(parent),
            hint="fix its permissions or pick another -o",
        ) from exc
    return path


def clean_leftovers(output: Path) -> None:
    """Remove staging/old directories left by builds that were killed."""
    parent = output.parent
    if not parent.is_dir():
        return
    prefix = f".{output.name}"
    for child in parent.iterdir():
        name = child.name
        if not name.startswith(prefix):
            continue
        rest = name[len(prefix) :]
        for mark in (_TMP_MARK, _OLD_MARK):
            if rest.startswith(mark):
                pid = rest[len(mark) :].split("-")[0]
                if pid.isdigit() and not _alive(int(pid)):
                    shutil.rmtree(child, ignore_errors=True)
    if not output.exists():
        # A build killed between the two fallback renames: put the old output back.
        olds = sorted(p for p in parent.glob(f".{output.name}{_OLD_MARK}*") if p.is_dir())
        if olds:
            olds[-1].rename(output)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def copy_file(source: Path, dest: Path) -> None:
    """Copy bytes and the executable bit; normalised modes keep outputs reproducible."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    real = source.resolve() if source.is_symlink() else source
    shutil.copyfile(real, dest)
    executable = os.stat(real).st_mode & stat.S_IXUSR
    os.chmod(dest, 0o755 if executable else 0o644)


def write_bytes(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)
    os.chmod(dest, 0o644)


def carry_over(old_output: Path, staging: Path, paths: Iterable[str]) -> None:
    """Bring unchanged parts of the previous output into the staging tree (hard links)."""
    for rel in paths:
        source = old_output / rel
        if not source.exists():
            continue
        target = staging / rel
        if source.is_dir():
            shutil.copytree(source, target, copy_function=_link_or_copy, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            _link_or_copy(str(source), str(target))


def _link_or_copy(source: str, target: str) -> str:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
    return target


def swap_in(staging: Path, output: Path) -> None:
    """Make ``staging`` the output; the previous output is removed afterwards."""
    if not output.exists():
        staging.rename(output)
        return
    if _exchange(staging, output):
        shutil.rmtree(staging, ignore_errors=True)
        return
    old = output.parent / f".{output.name}{_OLD_MARK}{os.getpid()}-{next(_counter)}"
    output.rename(old)
    staging.rename(output)
    shutil.rmtree(old, ignore_errors=True)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2``); False when unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise BuildError(f"cannot swap in the new output: {os.strerror(code)}", where=str(b))


@contextlib.contextmanager
def staged(output: Path) -> Iterator[Path]:
    """A staging directory that is discarded unless the caller swaps it in."""
    path = staging_dir(output)
    try:
        yield path
    finally:
        if path.exists():
            discard(path)
