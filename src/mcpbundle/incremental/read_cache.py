"""Results cached by what they were computed from: a key plus every file read meanwhile.

Planning one server is a pure function of the configuration, the repository's file
listing, the interpreter, mcpbundle's own code, the environment and the files it reads
(its requirement files, pyprojects, the Python files it parses, the directories it
looks into). :class:`ReadCache` keeps such results across builds: the caller names
the first group in the *base* (one per build) and in each entry's key; the files,
directories and programs are recorded as the result is computed
(:mod:`mcpbundle.incremental.read_recorder`), with

* every file read: its sha256 (or that it was missing);
* every directory listed, and the directories above each file up to the root: a
  digest of their listing (a file created beside one that was read, a pyproject that
  appears, shows up as a changed listing, so existence checks are covered too);
* every program started, and every one started earlier in the same build (a worker
  started once serves later entries too): its stat.

An entry is used only when all of that is as recorded, checked with each file hashed
(each directory listed) at most once per build, and not at all while its stat is the one
stored with it: size, times, inode and mode, kept only for a file or directory that had
not changed just before it was stored (:func:`mcpbundle.incremental.stamp.racy`, the no-op
stamp's rule). A result computed while something asked the network (the recording
is *volatile*) is never stored. Everything lives in one file per repository under
``cache_root()/plans/``, written atomically with its checksum; a file that does not
match its checksum, or was made for another base, is ignored.

This module knows nothing of the pipeline: values are pickled as they are.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from mcpbundle import __version__
from mcpbundle.base.redact import has_credentials
from mcpbundle.base.regular_file import open_regular
from mcpbundle.incremental.read_recorder import note_programs, recording
from mcpbundle.incremental.stamp import (
    PSEUDO_ROOTS,
    build_environment,
    racy,
    site_packages_state,
)
from mcpbundle.incremental.stamp_file import file_sha256, stat_of

FORMAT = 3
MAGIC = b"mcpbundle-read-cache 3\n"
MAX_BYTES = 256 * 1024 * 1024
MCPBUNDLE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

T = TypeVar("T")
Kind = tuple[str, ...]
_UNKNOWN = object()


class Noted(Protocol):
    """Files read for one fact only (see :mod:`mcpbundle.plan.derived_reads`)."""

    @property
    def facts(self) -> Mapping[str, tuple[Kind, object]]: ...  # path -> (kind, value)

    @property
    def reads(self) -> Mapping[str, int]: ...  # path -> opens made for those facts


def code_state() -> str:
    """mcpbundle's own modules (an edit to an editable install invalidates) and the
    site-packages directories (an install or upgrade changes their mtime)."""
    parts = [__version__, sys.version, sys.executable]
    for dirpath, dirnames, filenames in os.walk(MCPBUNDLE_DIR):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                st = os.stat(os.path.join(dirpath, name))
                parts.append(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}")
    parts += site_packages_state()
    return _digest("\n".join(parts).encode("utf-8", "surrogateescape"))


Stat = tuple[int, ...]  # size, mtime, ctime, inode, mode


@dataclass
class _Entry:
    """One cached value and everything it was computed from."""

    files: list[tuple[str, str | None, Stat | None]]  # path, sha256, settled stat
    dirs: list[tuple[str, str | None, Stat | None]]  # path, listing digest, settled stat
    programs: list[tuple[str, tuple[int, ...] | None]]
    value: bytes
    facts: list[tuple[str, Kind, object]] = field(default_factory=list)


@dataclass
class ReadCache:
    """One build's view of the cache file for ``root``; see the module docstring."""

    directory: str  # cache_root()/plans
    root: str  # the repository root (absolute): directories above files are listed up to it
    base: str  # digest of what every entry depends on (caller's parts + code_state())
    hits: int = 0
    misses: int = 0
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _dirty: bool = False
    _files: dict[str, str | None] = field(default_factory=dict)
    _listings: dict[str, str | None] = field(default_factory=dict)
    _now: dict[str, Stat | None] = field(default_factory=dict)  # stats taken this build
    _programs: set[str] = field(default_factory=set)  # started so far in this build
    _makers: Mapping[str, Callable[..., object]] = field(default_factory=dict)  # fact kinds
    _facts: dict[tuple[str, Kind], object] = field(default_factory=dict)
    _skip: tuple[str, ...] = ()
    _hidden: tuple[str, ...] = ()
    _started_ns: int = 0  # a file changed since is not trusted as recorded

    @classmethod
    def open(
        cls,
        directory: str,
        root: str,
        parts: Iterable[object],
        *,
        hidden: Iterable[str] = (),
        facts: Mapping[str, Callable[..., object]] | None = None,
    ) -> ReadCache:
        """``hidden``: paths (the output) left out of directory listings, with what
        mcpbundle keeps beside them (``.<name>*``: its lock and staging directories).
        ``facts``: how to compute each kind of fact a result may depend on instead of a
        file's bytes (kind name -> ``(path, *args) -> value``)."""
        root = os.path.abspath(root)
        base = _digest(repr((FORMAT, code_state(), build_environment(os.environ), *parts)).encode())
        cache = cls(directory=directory, root=root, base=base)
        cache._hidden = tuple(os.path.abspath(h) for h in hidden)
        cache._makers = dict(facts or {})
        cache._started_ns = time.time_ns()
        cache._skip = (
            MCPBUNDLE_DIR, sys.prefix, sys.base_prefix, sys.exec_prefix, *PSEUDO_ROOTS,
            os.path.abspath(directory),
        )  # fmt: skip
        cache._entries = cache._load()
        return cache

    @property
    def path(self) -> str:
        return os.path.join(self.directory, _digest(self.root.encode("utf-8", "surrogateescape")))

    # -- use ---------------------------------------------------------------------------

    def compute(self, key: str, make: Callable[[], tuple[T, bool, Noted | None]]) -> T:
        """The cached value for ``key``, else ``make()`` -> ``(value, storable, noted)``;
        ``noted``: the files it read for a fact only, which it depends on through the fact."""
        entry = self._entries.get(key)
        if entry is not None and self._valid(entry):
            try:
                value: T = pickle.loads(entry.value)
            except Exception:  # a stale class layout: compute afresh
                pass
            else:
                self.hits += 1
                note_programs(p for p, _ in entry.programs)
                return value
        self.misses += 1
        with recording() as reads:
            value, storable, noted = make()
        self._programs.update(reads.programs)
        if storable and reads.volatile is None:
            facts: dict[str, tuple[Kind, object]] = {}
            if noted is not None:
                for path, (kind, found) in noted.facts.items():
                    # only when the fact was the one reason the file was opened
                    known = bool(kind) and kind[0] in self._makers
                    if known and reads.opened.get(path, 0) == noted.reads.get(path, 0):
                        facts[path] = (kind, found)
            self._store(key, reads.files, reads.dirs, self._programs, value, facts)
        return value

    def save(self) -> None:
        """Write the file if an entry was added. Entries this build did not ask for are kept
        (a partial build plans some servers only); a new base starts the file afresh, and
        within one base an entry's key names its server, so the file stays bounded."""
        if not self._dirty:
            return
        payload = pickle.dumps({"format": FORMAT, "base": self.base, "entries": self._entries})
        data = MAGIC + _digest(payload).encode() + b"\n" + payload
        os.makedirs(self.directory, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path)
        except OSError:
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._dirty = False

    # -- entries -----------------------------------------------------------------------

    def _store(
        self,
        key: str,
        files: Iterable[str],
        dirs: Iterable[str],
        programs: Iterable[str],
        value: T,
        facts: Mapping[str, tuple[Kind, object]],
    ) -> None:
        try:
            data = pickle.dumps(value)
            pickle.dumps(dict(facts))
        except Exception:  # not picklable: not cached
            return
        if any(has_credentials(text) for text in (key, data.decode("latin-1"), repr(facts))):
            return  # never write a credential: what names one is computed afresh each time
        kept = sorted(p for p in set(files) if not self._skipped(p))
        if any(self._changed_since_start(p) for p in kept):
            return  # edited while it was computed: the value may not match what is recorded
        listed = {d for d in dirs if not self._skipped(d)}
        roots = {self.root, os.path.realpath(self.root)}  # files are named either way
        for path in kept:
            for root in roots:
                listed.update(_parents(path, root))
        for path, (kind, found) in facts.items():
            self._facts.setdefault((path, kind), found)
        self._entries[key] = _Entry(
            files=[(p, *self._recorded(p, self._file)) for p in kept if p not in facts],
            dirs=[(d, *self._recorded(d, self._listing)) for d in sorted(listed)],
            programs=[(p, self._stat(p)) for p in sorted(programs)],
            value=data,
            facts=[(p, kind, found) for p, (kind, found) in sorted(facts.items())],
        )
        self._dirty = True

    def _changed_since_start(self, path: str) -> bool:
        try:
            return os.stat(path).st_ctime_ns >= self._started_ns
        except OSError:
            return False

    def _valid(self, entry: _Entry) -> bool:
        return (
            all(self._stat(p) == st for p, st in entry.programs)
            and all(self._is(d, listing, st, self._listing) for d, listing, st in entry.dirs)
            and all(self._is(p, digest, st, self._file) for p, digest, st in entry.files)
            and all(self._fact(p, kind) == found for p, kind, found in entry.facts)
        )

    def _is(
        self, path: str, recorded: str | None, stat: Stat | None, now: Callable[[str], str | None]
    ) -> bool:
        """Whether ``path``'s digest (``now``) is still ``recorded``: without reading it
        when its settled ``stat`` is unchanged."""
        return (stat is not None and self._stat_now(path) == stat) or now(path) == recorded

    def _recorded(
        self, path: str, now: Callable[[str], str | None]
    ) -> tuple[str | None, Stat | None]:
        """``(digest, stat)`` to store for ``path``: the stat taken before the digest, kept
        only when it had settled by then (a later change could otherwise keep its times)."""
        stat = self._stat_now(path)
        digest = now(path)
        if stat is None or racy(stat[2], time.time_ns()):
            return digest, None
        return digest, stat

    def _stat_now(self, path: str) -> Stat | None:
        """``path``'s stat (:data:`Stat`), taken once per build."""
        if path not in self._now:
            try:
                self._now[path] = tuple(stat_of(path))
            except OSError:
                self._now[path] = None
        return self._now[path]

    def _fact(self, path: str, kind: Kind) -> object:
        """The fact ``kind`` of ``path`` now, computed once per build."""
        if (path, kind) not in self._facts:
            maker = self._makers.get(kind[0]) if kind else None
            try:
                self._facts[(path, kind)] = _UNKNOWN if maker is None else maker(path, *kind[1:])
            except Exception:  # cannot tell: the entry is not used
                self._facts[(path, kind)] = _UNKNOWN
        return self._facts[(path, kind)]

    def _skipped(self, path: str) -> bool:
        return any(path == s or path.startswith(s.rstrip(os.sep) + os.sep) for s in self._skip)

    def _file(self, path: str) -> str | None:
        if path not in self._files:
            try:
                self._files[path] = file_sha256(path)  # a FIFO read while planning: unknown
            except OSError:
                self._files[path] = None
        return self._files[path]

    def _listing(self, path: str) -> str | None:
        if path not in self._listings:
            try:
                names = sorted(os.listdir(path))
            except OSError:
                self._listings[path] = None
            else:
                names = [n for n in names if not self._is_hidden(path, n)]
                self._listings[path] = _digest("\0".join(names).encode("utf-8", "surrogateescape"))
        return self._listings[path]

    def _is_hidden(self, directory: str, name: str) -> bool:
        for hidden in self._hidden:
            parent, base = os.path.split(hidden)
            if parent == directory and (name == base or name.startswith(f".{base}")):
                return True
        return False

    def _stat(self, path: str) -> tuple[int, ...] | None:
        """A program's stat as entries record it: :data:`Stat` without the change time."""
        stat = self._stat_now(path)
        return None if stat is None else (stat[0], stat[1], stat[3], stat[4])

    def _load(self) -> dict[str, _Entry]:
        try:
            with open_regular(self.path) as handle:  # never wait on a FIFO in the cache
                data = handle.read(MAX_BYTES + 1)
        except OSError:
            return {}
        if not data.startswith(MAGIC) or len(data) > MAX_BYTES:
            return {}
        checksum, _, payload = data[len(MAGIC) :].partition(b"\n")
        if _digest(payload).encode() != checksum:
            return {}
        try:
            document = pickle.loads(payload)
        except Exception:
            return {}
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return {}
        if document.get("base") != self.base:
            return {}
        entries = document.get("entries")
        return dict(entries) if isinstance(entries, dict) else {}


def _parents(path: str, root: str) -> list[str]:
    """The directories from ``path``'s parent up to ``root`` (none when outside it)."""
    found: list[str] = []
    prefix = root.rstrip(os.sep) + os.sep
    current = os.path.dirname(path)
    while current == root or current.startswith(prefix):
        found.append(current)
        if current == root:
            break
        current = os.path.dirname(current)
    return found


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
