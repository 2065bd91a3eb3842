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
  strip a bit of it;
- may start from a *base*: the output of the build before the previous one (the spare,
  :mod:`mcpbundle.emit.spare`). A base path that holds the wanted bytes with the wanted
  mode (checked by content, once per inode) stays as it is, any other is replaced, and
  :meth:`StagedTree.finish` removes what the new output does not list. A one-file change
  then costs a few writes, not a link per file of the whole output.

Nothing is ever written through a link: a path written twice is replaced, never
rewritten in place, so the previous output (and other paths of one inode) never change.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from mcpbundle.base.errors import BuildError
from mcpbundle.base.temp_dirs import remove_tree
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


@dataclass
class Base:
    """What a staging directory held when a build took it over: its files (with their
    ``lstat``) and directories, relative to its root."""

    files: dict[str, os.stat_result] = field(default_factory=dict)
    dirs: set[str] = field(default_factory=set)


def walk_base(root: Path) -> Base:
    """Everything under ``root`` (iteratively: a deep tree costs no recursion).

    A further name of an inode seen already takes that name's ``lstat`` (an output's
    identical files are one inode: 5,000 names, 650 inodes at 200 servers), where the
    listing's inode number is the file's own (not on overlayfs)."""
    base = Base()
    seen: dict[tuple[int, int], os.stat_result] = {}  # (device, inode) -> its lstat
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        directory = f"{root}/{rel_dir}" if rel_dir else str(root)
        device = os.stat(directory).st_dev
        with os.scandir(directory) as entries:
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                if entry.is_dir(follow_symlinks=False):
                    base.dirs.add(rel)
                    pending.append(rel)
                    continue
                info = seen.get((device, entry.inode()))
                if info is None:
                    info = entry.stat(follow_symlinks=False)
                    if info.st_ino == entry.inode() and info.st_dev == device:
                        seen[(device, info.st_ino)] = info
                base.files[rel] = info
    return base


class StagedTree:
    """The files of one staging directory, written through :meth:`put_bytes`,
    :meth:`put_copy`, :meth:`link_previous` and :meth:`carry_over`; paths are relative
    to ``root``. ``base``: what ``root`` holds already (see the module docstring)."""

    def __init__(self, root: Path, base: Base | None = None) -> None:
        self.root = root
        self._root = str(root)  # joined as text: a Path per file was a fifth of a rebuild
        self._base = base or Base()
        self._base_dirs = set(self._base.dirs)
        self._dirs: set[str] = {"", *self._base.dirs}
        self._by_content: dict[tuple[str, int], str] = {}  # (digest, mode) -> first path
        self._content_of: dict[str, tuple[str, int]] = {}  # path -> what it holds
        # contents whose first path here was linked from the previous output
        self._from_previous: set[tuple[str, int]] = set()

    def path(self, rel: str) -> Path:
        return self.root / rel

    def put_bytes(self, rel: str, data: bytes, mode: int = 0o644, digest: str | None = None) -> str:
        """``rel`` holds ``data``: linked to a path holding it already, else written. Its digest."""
        digest = digest or digest_of(data)
        if self._keep(rel, digest, mode):
            return digest
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
        if digest is not None and self._keep(rel, digest, mode):
            return digest
        dest = self._prepare(rel)
        if digest is not None and self._link_same(rel, dest, digest, mode):
            return digest
        copy_file(source, Path(dest))
        written = sha256_file(Path(dest))
        self._remember(rel, written, mode)
        return written

    def link_previous(self, previous: str | Path, rel: str, digest: str, mode: int) -> bool:
        """Hard-link ``previous`` (a file of the old output) to ``rel`` if it holds exactly
        ``digest`` with ``mode``; False (nothing written) otherwise. A base path holding
        them already stays. Once one path here is such a link, a further path of the same
        content links to it without checking its old file again (in an output mcpbundle
        wrote, identical files are one inode already): a rebuild without a spare links
        ~3,000 vendored files."""
        if self._keep(rel, digest, mode):
            return True
        if (digest, mode) in self._from_previous:  # its first name here is a link of it:
            dest = self._prepare(rel)  # the old output's identical files are one inode
            if self._link_same(rel, dest, digest, mode):
                return True
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
        if self._by_content[(digest, mode)] == rel:
            self._from_previous.add((digest, mode))
        checkpoint()
        return True

    def carry_over(self, old_output: Path, paths: Iterable[str]) -> None:
        """Bring unchanged files of the previous output in (hard links); a base path that
        is that very file stays. ``paths`` are files (a server's folder may hold another
        server's, so folders are never carried whole); the directories made for them keep
        the old ones' mtimes."""
        old = str(old_output)
        made = set(self._dirs)
        for rel in paths:
            source = f"{old}/{rel}"
            try:
                info = os.stat(source)
            except OSError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            held = self._base.files.get(rel)
            if held is not None and os.path.samestat(held, info):
                del self._base.files[rel]
                continue
            _link_or_copy(source, self._prepare(rel))
            checkpoint()
        for rel in sorted(self._dirs - made, key=lambda p: -p.count("/")):
            with contextlib.suppress(OSError):
                shutil.copystat(f"{old}/{rel}", f"{self._root}/{rel}")

    def release(self, rel: str) -> None:
        """Another writer writes ``rel`` (the index files, a .mcpb): a base file there goes."""
        if self._base.files.pop(rel, None) is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self._root}/{rel}")

    def finish(self, listed: Collection[str]) -> None:
        """Remove the base files the new output does not list (``listed``: every file it
        holds), then the base directories left empty. A listed base file that nothing
        wrote, kept or released would ship stale bytes: that is an error."""
        for rel in sorted(self._base.files):
            if rel in listed:
                raise BuildError(
                    "internal error: the staged output would keep a file of an older build",
                    where=rel,
                    hint="report it; `mcpbundle cache clear stamps` and build again",
                )
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{self._root}/{rel}")
        self._base.files.clear()
        for rel in sorted(self._base_dirs, key=lambda p: -p.count("/")):
            with contextlib.suppress(OSError):
                os.rmdir(f"{self._root}/{rel}")  # only when empty
        self._base_dirs.clear()

    def _keep(self, rel: str, digest: str, mode: int) -> bool:
        """Whether the base file at ``rel`` holds ``digest`` with ``mode`` (then it stays)."""
        info = self._base.files.get(rel)
        if info is None or not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != mode:
            return False
        try:
            if _digest_of_inode(f"{self._root}/{rel}", info) != digest:
                return False
        except OSError:
            return False
        del self._base.files[rel]
        self._remember(rel, digest, mode)
        return True

    def _clear_base(self, rel: str) -> None:
        """Nothing of the base is in the way of writing ``rel``: a base file at one of its
        parents goes, and so does a base directory at ``rel`` itself."""
        parts = rel.split("/")
        for depth in range(1, len(parts)):
            above = "/".join(parts[:depth])
            if self._base.files.pop(above, None) is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{self._root}/{above}")
        if rel in self._base_dirs:
            remove_tree(Path(f"{self._root}/{rel}"))
            inside = f"{rel}/"
            for gone in [p for p in self._base.files if p.startswith(inside)]:
                del self._base.files[gone]
            for gone in [d for d in self._dirs if d == rel or d.startswith(inside)]:
                self._dirs.discard(gone)
                self._base_dirs.discard(gone)
        self._base.files.pop(rel, None)  # replaced below, never written through

    def _prepare(self, rel: str) -> str:
        """The absolute path of ``rel``, its directory made (once), nothing there any more."""
        if self._base_dirs or self._base.files:
            self._clear_base(rel)
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
                self._from_previous.discard(held)
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


def verified_digest(path: str | Path) -> str:
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


def _link_or_copy(source: str, target: str) -> None:
    try:
        _link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _link(source: str, dest: str) -> None:
    try:
        os.link(source, dest)
    except FileExistsError:
        os.unlink(dest)
        os.link(source, dest)
