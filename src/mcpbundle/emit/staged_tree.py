"""Writing one staging tree: each directory made once, each content written once.

A build stages every server's folder beside the output (:mod:`mcpbundle.emit.directory`
swaps it in). At 200 servers that is thousands of files, most of them the same shared
library vendored again and again, so a :class:`StagedTree`:

- makes each directory once (not one ``mkdir`` per file);
- writes each distinct content once and hard-links every other path that ships the same
  bytes with the same mode (the manifest still lists every path with its digest);
- links a file of the previous output instead when it holds those bytes (its mtime is
  kept), verifying that file by content once per inode;
- creates files with their final mode, calling ``chmod`` only when the umask would
  strip a bit of it.

Nothing is ever written through a link: a path written twice is replaced, never
rewritten in place, so the previous output (and other paths of one inode) never change.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from pathlib import Path

from mcpbundle.emit.directory import checkpoint, copy_file, io_error
from mcpbundle.emit.manifest import sha256_file

_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
_verified: dict[tuple[int, ...], str] = {}  # previous output's inodes checked by content


def digest_of(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _read_umask() -> int | None:
    """This process's umask without setting it (which would race other threads)."""
    try:
        with open("/proc/self/status", "rb") as handle:
            for line in handle:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


_UMASK = _read_umask()


def _needs_chmod(mode: int) -> bool:
    return _UMASK is None or bool(_UMASK & mode)


class StagedTree:
    """The files of one staging directory, written through :meth:`put_bytes`,
    :meth:`put_copy` and :meth:`link_previous`; paths are relative to ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._root = str(root)  # joined as text: a Path per file was a fifth of a rebuild
        self._dirs: set[str] = {""}
        self._by_content: dict[tuple[str, int], str] = {}  # (digest, mode) -> first path
        self._content_of: dict[str, tuple[str, int]] = {}  # path -> what it holds

    def path(self, rel: str) -> Path:
        return self.root / rel

    def put_bytes(self, rel: str, data: bytes, mode: int = 0o644, digest: str | None = None) -> str:
        """``rel`` holds ``data``: linked to a path holding it already, else written. Its digest."""
        digest = digest or digest_of(data)
        dest = self._prepare(rel)
        if not self._link_same(rel, dest, digest, mode):
            try:
                _create(dest, data, mode)
            except OSError as exc:
                raise io_error(exc, Path(dest)) from exc
            self._remember(rel, digest, mode)
            checkpoint()
        return digest

    def put_copy(self, rel: str, source: Path, mode: int, digest: str | None = None) -> str:
        """``rel`` is a copy of ``source`` (large or sparse: streamed). ``digest``: its content's,
        when known (then a path holding it already is linked instead). The copy's digest."""
        dest = self._prepare(rel)
        if digest is not None and self._link_same(rel, dest, digest, mode):
            return digest
        copy_file(source, Path(dest))
        written = sha256_file(Path(dest))
        self._remember(rel, written, mode)
        return written

    def link_previous(self, previous: str | Path, rel: str, digest: str, mode: int) -> bool:
        """Hard-link ``previous`` (a file of the old output) to ``rel`` if it holds exactly
        ``digest`` with ``mode``; False (nothing written) otherwise."""
        try:
            info = os.lstat(previous)
            if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != mode:
                return False
            if _digest_of_inode(previous, info) != digest:
                return False
            dest = self._prepare(rel)
            _link(os.fspath(previous), dest)
            _relinked(previous, info, digest)
        except OSError:
            return False
        self._remember(rel, digest, mode)
        checkpoint()
        return True

    def _prepare(self, rel: str) -> str:
        """The absolute path of ``rel``, its directory made (once), nothing there any more."""
        parent, _, _name = rel.rpartition("/")
        if parent not in self._dirs:
            try:
                os.makedirs(f"{self._root}/{parent}", exist_ok=True)
            except OSError as exc:
                raise io_error(exc, self.root / parent) from exc
            while parent and parent not in self._dirs:
                self._dirs.add(parent)
                parent = parent.rpartition("/")[0]
        dest = f"{self._root}/{rel}"
        held = self._content_of.pop(rel, None)
        if held is not None:  # written before: replaced, never written through
            if self._by_content.get(held) == rel:
                del self._by_content[held]
            with contextlib.suppress(FileNotFoundError):
                os.unlink(dest)
        return dest

    def _link_same(self, rel: str, dest: str, digest: str, mode: int) -> bool:
        first = self._by_content.get((digest, mode))
        if first is None:
            return False
        try:
            _link(f"{self._root}/{first}", dest)
        except OSError:
            return False
        self._content_of[rel] = (digest, mode)
        checkpoint()
        return True

    def _remember(self, rel: str, digest: str, mode: int) -> None:
        self._content_of[rel] = (digest, mode)
        self._by_content.setdefault((digest, mode), rel)


def verified_digest(path: Path) -> str:
    """The digest of a file of an output, read once per inode (hard links share it)."""
    return _digest_of_inode(path, os.stat(path))


def _digest_of_inode(path: str | Path, info: os.stat_result) -> str:
    key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    digest = _verified.get(key)
    if digest is None:
        if len(_verified) > 100_000:  # a long-lived process: forget, do not grow
            _verified.clear()
        digest = _verified[key] = sha256_file(Path(path))
    return digest


def _relinked(path: str | Path, before: os.stat_result, digest: str) -> None:
    """A link to ``path`` changed its inode's ctime, not its bytes: its digest stays known
    (else every further path sharing the inode, a file vendored by many servers, would be
    read and hashed again)."""
    info = os.stat(path)
    if (info.st_ino, info.st_size, info.st_mtime_ns) == (
        before.st_ino, before.st_size, before.st_mtime_ns,
    ):  # fmt: skip
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        _verified[key] = digest


def _create(path: str, data: bytes, mode: int) -> None:
    try:
        fd = os.open(path, _CREATE, mode)
    except FileExistsError:
        os.unlink(path)
        fd = os.open(path, _CREATE, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    if _needs_chmod(mode):
        os.chmod(path, mode)


def _link(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except FileExistsError:
        os.unlink(dest)
        os.link(source, dest)
