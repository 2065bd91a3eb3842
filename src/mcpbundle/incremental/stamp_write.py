"""Writing a stamp (:mod:`mcpbundle.incremental.stamp`): what a finished build read and wrote.

Apart from the replay so the no-op shortcut loads none of it. Every file the build read
(its stat and sha256), the directories above them and those it listed (stat and a
digest of the listing), the output it left (each file and directory), the programs it
ran and mcpbundle's own state. An entry of the stamp it replaces whose stat is as
recorded, and settled, is taken as it is: a rebuild after a one-file change does not
read the whole output again.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from mcpbundle.git.worktree import git_root
from mcpbundle.incremental.stamp import (
    LOADED,
    PACKAGE_DIR,
    PSEUDO_ROOTS,
    code_state,
    git_status,
    racy,
    stamp_key,
    stamp_path,
)
from mcpbundle.incremental.stamp_file import FORMAT, file_sha256
from mcpbundle.incremental.stamp_file import digest as _digest
from mcpbundle.incremental.stamp_file import listing as _listing  # (tests count the calls)
from mcpbundle.incremental.stamp_file import load as load_stamp
from mcpbundle.incremental.stamp_file import stat_of as _stat
from mcpbundle.incremental.stamp_file import store as _store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from mcpbundle.incremental.read_recorder import Reads

_now_ns = time.time_ns  # (tests move the clock)


def write(
    argv: Sequence[str],
    *,
    reads: Reads,
    root: str,
    output: str,
    stdout: str,
    stderr: str,
    started_ns: int,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """Stamp a finished build; None when it cannot be replayed (why: logged by the caller)."""
    if reads.volatile is not None:
        return None
    from mcpbundle.base.cache_dir import cache_root

    key = stamp_key(argv, cwd or os.getcwd(), os.environ if environ is None else environ)
    known = _known(stamp_path(key))
    skip: tuple[str, ...] = (str(cache_root()), output, PACKAGE_DIR, sys.prefix, sys.base_prefix)
    skip = (*skip, sys.exec_prefix, *PSEUDO_ROOTS)
    files: dict[str, list[Any]] = {}
    hashed: dict[tuple[int, ...], str] = {}
    devices: dict[str, int] = {}  # path -> st_dev, for the hard links
    skipped, in_root = _inside(skip), _inside((root,))
    parents: set[str] = set()
    for path in sorted(reads.files):
        if skipped(path) or _in_git_dir(path) or not os.path.isfile(path):
            continue  # covered elsewhere, or a temporary file that is gone
        entry = _file_entry(path, hashed, devices, known)
        if entry[2] >= started_ns:
            return None  # changed while the build ran: the output may not match it
        files[path] = entry
        _add_parents(path, root, in_root, parents)
    dirs = {os.path.dirname(output), *parents}
    dirs.update(d for d in reads.dirs if not skipped(d) and not _in_git_dir(d))
    listed = {d: _dir_entry(d, known) for d in sorted(dirs) if os.path.isdir(d)}
    linked: dict[str, str] = {}  # further names of the output's inodes -> the first
    listed.update(_output_tree(output, files, linked, hashed, devices, known["files"]))
    repo = git_root(root)
    follows = {**_hard_links(files, devices), **linked}
    document: dict[str, Any] = {
        "format": FORMAT,
        "key": key,
        "code": code_state(),
        "root": root,
        "git_root": repo,
        "git": git_status(repo) if repo is not None else None,
        "dirs": dict(sorted(listed.items())),
        "files": files,
        "follows": follows,
        "programs": {p: _stat(p) for p in sorted(reads.programs) if os.path.isfile(p)},
        "stdout": stdout,
        "stderr": stderr,
    }
    _store(stamp_path(key), document)
    return key


def _known(path: str) -> Mapping[str, Mapping[str, Sequence[Any]]]:
    """The entries of the stamp this build replaces (as replay read it, else from disk):
    a file or directory whose stat is as recorded there, and settled, is not read again."""
    document = LOADED.pop(path, None)
    if document is None:
        try:
            document = load_stamp(path)
        except (OSError, ValueError, EOFError, TypeError):
            document = None
    if document is None:
        return {"files": {}, "dirs": {}}
    return {"files": document.get("files") or {}, "dirs": document.get("dirs") or {}}


def _still(recorded: Sequence[Any] | None, stat: Sequence[int], at_ns: int) -> str | None:
    """The digest (or listing) of ``recorded`` (stat..., digest, racy) if it holds for
    ``stat``: the same stat, and neither racy; else None."""
    if recorded is None or list(recorded[:5]) != list(stat) or recorded[6]:
        return None
    return None if racy(stat[2], at_ns) else str(recorded[5])


def _file_entry(
    path: str,
    hashed: dict[tuple[int, ...], str],
    devices: dict[str, int],
    known: Mapping[str, Mapping[str, Sequence[Any]]],
) -> list[Any]:
    """Stat, sha256 and raciness (against the time of the stat), hashing each inode once
    (and not at all when the replaced stamp holds it settled); the file's device goes to
    ``devices``."""
    at_ns = _now_ns()
    st = os.stat(path)
    devices[path] = st.st_dev
    stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode]
    key = (st.st_dev, *stat)
    digest = hashed.get(key)
    if digest is None:
        digest = hashed[key] = _still(known["files"].get(path), stat, at_ns) or file_sha256(path)
    return [*stat, digest, racy(stat[2], at_ns)]


def _output_tree(
    output: str,
    files: dict[str, list[Any]],
    follows: dict[str, str],
    hashed: dict[tuple[int, ...], str],
    devices: dict[str, int],
    known: Mapping[str, Sequence[Any]],
) -> dict[str, list[Any]]:
    """The entries of every file (into ``files``, a further name of an inode into
    ``follows`` instead) and directory (returned) of the output.

    One ``scandir`` per directory serves both its listing and its files' stats: at 200
    servers the output is 5,000 files in 1,000 directories, and walking it, then stat-ing
    and listing each part again, was most of writing the stamp. A directory is stat-ed
    before it is read, as :func:`_dir_entry` does; raciness is judged against the time
    before each directory is read (earlier than each file's stat, so never less strict).
    A further name of an inode already stat-ed here (the build hard-links identical
    files: one inode may have hundreds of names) is recorded as following that first name,
    with no entry of its own: one stat shows them all, and replay checks each name's
    directory (a name whose directory changed is checked against the first name's entry)."""
    dirs: dict[str, list[Any]] = {}
    first: dict[tuple[int, int], str] = {}  # (device, inode) -> its first name here
    pending = [output]
    while pending:
        directory = pending.pop()
        at_ns = _now_ns()
        try:
            dir_st = os.stat(directory)
            dir_dev = dir_st.st_dev
            dir_stat = [dir_st.st_size, dir_st.st_mtime_ns, dir_st.st_ctime_ns]
            dir_stat += [dir_st.st_ino, dir_st.st_mode]
            with os.scandir(directory) as entries:
                found = list(entries)
        except (FileNotFoundError, NotADirectoryError):
            continue
        names = []
        for entry in found:
            names.append(entry.name)
            if entry.is_dir():  # a link to a directory is listed, not followed
                if not entry.is_symlink():
                    pending.append(entry.path)
                continue
            leader = first.get((dir_dev, entry.inode()))
            if leader is not None and not entry.is_symlink():  # a further name of an inode
                follows[entry.path] = leader
                continue
            st = entry.stat()
            if st.st_ino == entry.inode() and not entry.is_symlink():  # (not on overlayfs)
                first[(dir_dev, st.st_ino)] = entry.path
            devices[entry.path] = st.st_dev
            stat = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode]
            key = (st.st_dev, *stat)
            digest = hashed.get(key)
            if digest is None:
                digest = _still(known.get(entry.path), stat, at_ns) or file_sha256(entry.path)
                hashed[key] = digest
            files[entry.path] = [*stat, digest, racy(stat[2], at_ns)]
        names.sort()
        listing = _digest("\0".join(names).encode("utf-8", "surrogateescape"))
        dirs[directory] = [*dir_stat, listing, racy(dir_stat[2], at_ns)]
    return dirs


def _hard_links(files: Mapping[str, Sequence[Any]], devices: Mapping[str, int]) -> dict[str, str]:
    """Each further name of a file (a hard link: the build links identical vendored files)
    -> the first name, which replay checks for all of them.

    One stat of any name shows a change made through any other: they share the inode,
    its times and its bytes. Replacing a name (an editor's rename, ``rm``) changes its
    directory, and replay checks every file of a changed directory itself."""
    first: dict[tuple[int, ...], str] = {}
    follows: dict[str, str] = {}
    for path, entry in files.items():
        inode = (devices[path], entry[3], entry[0], entry[1], entry[2], entry[4])
        leader = first.setdefault(inode, path)
        if leader != path:
            follows[path] = leader
    return follows


def _dir_entry(path: str, known: Mapping[str, Mapping[str, Sequence[Any]]]) -> list[Any]:
    at_ns = _now_ns()
    stat = _stat(path)
    listing = _still(known["dirs"].get(path), stat, at_ns) or _listing(path)
    return [*stat, listing, racy(stat[2], at_ns)]


def _add_parents(path: str, root: str, in_root: Callable[[str], bool], found: set[str]) -> None:
    """Add the directories from ``path``'s parent up to ``root`` (none outside it) to
    ``found``; a directory already there had its own parents added with it."""
    if not in_root(path):
        return
    current = os.path.dirname(path)
    while current not in found and in_root(current):
        found.add(current)
        if current == root:
            break
        current = os.path.dirname(current)


def _inside(parents: Iterable[str]) -> Callable[[str], bool]:
    """Whether a path is one of ``parents`` or inside one."""
    exact = frozenset(parents)
    prefixes = tuple(p.rstrip(os.sep) + os.sep for p in exact)
    return lambda path: path in exact or path.startswith(prefixes)


def _in_git_dir(path: str) -> bool:
    return f"{os.sep}.git{os.sep}" in path or path.endswith(f"{os.sep}.git")
