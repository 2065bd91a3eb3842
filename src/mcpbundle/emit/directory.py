"""The directory writer: stage a complete output beside the old one, then swap it in.

A build writes into ``.<output>.mcpbundle-tmp-<pid>-<n>`` next to the output,
then exchanges the two directories in one ``renameat2(RENAME_EXCHANGE)`` call
where the kernel has it (Linux), else with two renames. A build that fails or
is killed part-way leaves the previous output as it was; the next build removes
leftover staging directories whose process is gone.

Test-only hooks (read from the environment at each call; never set them in real
use): ``MCPBUNDLE_TEST_KILL_AFTER_WRITES=N`` sends this process SIGKILL right
after its N-th write step (a file written or linked, or a step of the swap), so
tests can kill a build at every point; ``MCPBUNDLE_TEST_NO_EXCHANGE=1`` skips
``renameat2`` and takes the two-rename fallback.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import os
import shutil
import signal
import stat
from collections.abc import Callable
from pathlib import Path

from mcpbundle.base.errors import BuildError
from mcpbundle.base.temp_dirs import remove_tree
from mcpbundle.emit.manifest import sha256_file

_TMP_MARK = ".mcpbundle-tmp-"
_OLD_MARK = ".mcpbundle-old-"
_counter = itertools.count()
_writes = itertools.count(1)

KILL_AFTER_WRITES_ENV = "MCPBUNDLE_TEST_KILL_AFTER_WRITES"
NO_EXCHANGE_ENV = "MCPBUNDLE_TEST_NO_EXCHANGE"


# read once: a first rebuild at 200 servers takes 5,100 write steps, and an environment lookup
# each was 3 ms of it (the tests that set it start a new process)
_KILL_AFTER = os.environ.get(KILL_AFTER_WRITES_ENV)


def checkpoint() -> None:
    """Test hook: SIGKILL ourselves after the N-th write step (see the module docstring)."""
    if _KILL_AFTER is None:
        return
    if next(_writes) >= int(_KILL_AFTER):
        os.kill(os.getpid(), signal.SIGKILL)


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
    """Put back an output lost mid-swap, then remove dirs left by builds that were killed."""
    parent = output.parent
    if not parent.is_dir():
        return
    dead = _dead_leftovers(output)
    if not output.exists():
        # A build killed between the two fallback renames: put the old output back
        # (before the cleanup below, which would otherwise delete it).
        olds = sorted((p for p, mark in dead if mark == _OLD_MARK), key=_leftover_order)
        if olds:
            olds[-1].rename(output)
    for child, _ in dead:
        if child.exists():
            remove_tree(child)


def _dead_leftovers(output: Path) -> list[tuple[Path, str]]:
    """Staging/old directories beside ``output`` whose build process is gone."""
    prefix = f".{output.name}"
    found = []
    for child in output.parent.iterdir():
        rest = child.name[len(prefix) :] if child.name.startswith(prefix) else ""
        for mark in (_TMP_MARK, _OLD_MARK):
            if rest.startswith(mark) and child.is_dir() and not child.is_symlink():
                pid = rest[len(mark) :].split("-")[0]
                if pid.isdigit() and not _alive(int(pid)):
                    found.append((child, mark))
    return found


def _leftover_order(path: Path) -> tuple[int, str]:
    try:
        return (path.stat().st_mtime_ns, path.name)
    except OSError:
        return (0, path.name)


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
    """Copy bytes and the executable bit; normalised modes keep outputs reproducible.

    A sparse source is copied sparsely (its holes stay holes), so an 8 GiB file of
    holes costs what its data costs; where the file system cannot say where the
    holes are, such a file is refused rather than inflated.
    """
    real = source.resolve() if source.is_symlink() else source
    try:
        reader = open(real, "rb")  # noqa: SIM115 - closed below; its errors are reading errors
    except OSError as exc:
        raise io_error(exc, source, reading=True) from exc
    try:
        with reader:
            info = os.fstat(reader.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise BuildError("is not a regular file", where=str(source))
            dest.parent.mkdir(parents=True, exist_ok=True)
            _unlink(dest)
            with open(dest, "wb") as writer:
                if getattr(info, "st_blocks", info.st_size) * 512 < info.st_size:
                    _copy_sparse(reader.fileno(), writer.fileno(), info.st_size, source)
                else:
                    shutil.copyfileobj(reader, writer, 1 << 20)
        os.chmod(dest, mode_for(real))
    except OSError as exc:
        raise io_error(exc, dest) from exc
    checkpoint()


def _copy_sparse(reader: int, writer: int, size: int, shown: Path) -> None:
    offset = 0
    while offset < size:
        try:
            start = os.lseek(reader, offset, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                break  # nothing but a hole up to the end
            raise BuildError(
                "is a sparse file and this file system cannot tell its holes from its data",
                where=str(shown),
                hint="exclude it, or store it without holes",
            ) from exc
        end = os.lseek(reader, start, os.SEEK_HOLE)
        os.lseek(reader, start, os.SEEK_SET)
        os.lseek(writer, start, os.SEEK_SET)
        remaining = end - start
        while remaining > 0:
            chunk = os.read(reader, min(remaining, 1 << 20))
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                view = view[os.write(writer, view) :]
            remaining -= len(chunk)
        offset = end
    os.ftruncate(writer, size)


def write_bytes(dest: Path, data: bytes) -> None:
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        _unlink(dest)
        dest.write_bytes(data)
        os.chmod(dest, 0o644)
    except OSError as exc:
        raise io_error(exc, dest) from exc
    checkpoint()


def io_error(exc: OSError, path: Path, *, reading: bool = False) -> BuildError:
    """A failed write to ``path`` (or read of it) as one line; a staging path is shown as
    the output path it stands for. Nothing is swapped in: the previous output stays."""
    shown = str(path) if reading else _as_output(path)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return BuildError(
            "no space left on the device (the previous output is unchanged)",
            where=shown,
            hint="free some space and build again",
        )
    if exc.errno == errno.EFBIG:
        return BuildError(
            "file too large: the file-size limit of this process was reached (ulimit -f); "
            "the previous output is unchanged",
            where=shown,
            hint="raise the limit (ulimit -f unlimited) and build again",
        )
    verb = "cannot read" if reading else "cannot write"
    return BuildError(f"{verb}: {exc.strerror or exc}", where=shown)


def _as_output(path: Path) -> str:
    """``/x/.dist.mcpbundle-tmp-12-0/ops/a.py`` -> ``/x/dist/ops/a.py``."""
    parts = list(path.parts)
    for index, part in enumerate(parts):
        if part.startswith(".") and (_TMP_MARK in part or _OLD_MARK in part):
            mark = _TMP_MARK if _TMP_MARK in part else _OLD_MARK
            parts[index] = part[1 : part.index(mark)]
            break
    return str(Path(*parts))


def mode_for(source: Path) -> int:
    """The output mode of a copy of ``source``: 0o755 if it is executable, else 0o644."""
    return 0o755 if os.stat(source).st_mode & stat.S_IXUSR else 0o644


def link_previous(previous: Path, dest: Path, digest: str, mode: int) -> bool:
    """Hard-link ``previous`` (a file of the old output) to ``dest`` if it holds exactly
    ``digest`` with ``mode``; False (nothing written) otherwise.

    Creating a file costs far more than linking one, and an unchanged file keeps its
    mtime. The old output is never written through: :func:`copy_file` and
    :func:`write_bytes` replace a staged path instead of writing into it.
    """
    try:
        info = os.lstat(previous)
        if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != mode:
            return False
        if sha256_file(previous) != digest:
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        _unlink(dest)
        os.link(previous, dest)
    except OSError:
        return False
    checkpoint()
    return True


def _unlink(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def swap_in(staging: Path, output: Path, keep_old: Callable[[Path], bool] | None = None) -> None:
    """Make ``staging`` the output; the previous output is then given to ``keep_old``
    (:func:`mcpbundle.emit.spare.keep`), or removed when it is not kept."""
    checkpoint()
    if not output.exists():
        staging.rename(output)
        return
    if _exchange(staging, output):
        checkpoint()
        old = staging
    else:
        old = output.parent / f".{output.name}{_OLD_MARK}{os.getpid()}-{next(_counter)}"
        output.rename(old)
        checkpoint()
        staging.rename(output)
        checkpoint()
    if keep_old is None or not keep_old(old):
        remove_tree(old)


def discard(staging: Path) -> None:
    remove_tree(staging)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths (Linux ``renameat2``); False when unsupported."""
    if os.environ.get(NO_EXCHANGE_ENV) == "1":
        return False
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
