"""What MCB004 read of the distributions installed next to mcpbundle, remembered across runs
(``CACHE/installed/<environment>.json``).

Reading the ``METADATA`` and ``RECORD`` of fastmcp's whole dependency tree, and parsing
and evaluating its ``Requires-Dist`` lines, cost ``check`` more than all of its rules at
10 servers, and gave the same answers every run. The answers are kept per environment:
the key is a digest of the Python version, mcpbundle's reading code
(:mod:`mcpbundle.check.imports` and its tables) and every ``sys.path`` entry with its
modification time. Installing, upgrading or removing a distribution creates or removes
a ``*.dist-info`` directory (or a ``.pth`` file), which changes its directory's time,
and so the key: the old file is simply never read again.

An optimisation only: an unreadable, torn or foreign file means reading the metadata
again, and an unwritable cache means nothing is remembered. ``mcpbundle cache clear
installed`` removes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from functools import cache
from pathlib import Path
from typing import Any

from mcpbundle.base.cache_dir import cache_root
from mcpbundle.base.regular_file import open_regular

_FORMAT = 1
_READERS = ("imports.py", "dist_info.py", "installed_cache.py")
_READER_TABLES = ("import_names.py",)  # in mcpbundle.plan


@cache
def _reader_digest() -> str:
    digest = hashlib.sha256(f"{_FORMAT}\0{sys.version}\0{sys.prefix}".encode())
    here = Path(__file__).resolve().parent
    for path in (
        *(here / name for name in _READERS),
        *(here.parent / "plan" / n for n in _READER_TABLES),
    ):
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(path.name.encode())
    return digest.hexdigest()


def environment_key() -> str:
    """The digest the answers depend on (see the module docstring); ``sys.path`` is read
    each time (a test, or an embedding program, may change it)."""
    digest = hashlib.sha256(_reader_digest().encode())
    for entry in sys.path:
        try:
            stamp = os.stat(entry or ".").st_mtime_ns
        except OSError:
            stamp = -1
        digest.update(f"\0{entry}\0{stamp}".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class InstalledCache:
    """One environment's remembered answers: ``kind -> key -> JSON value``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, Any]] | None = None
        self._dirty = False

    def _load(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = {}
            try:
                with open_regular(self.path) as handle:  # never wait on a FIFO in the cache
                    document = json.loads(handle.read())
            except (OSError, ValueError):
                document = None
            if isinstance(document, dict) and document.get("format") == _FORMAT:
                kinds = document.get("kinds")
                if isinstance(kinds, dict):
                    self._data = {k: v for k, v in kinds.items() if isinstance(v, dict)}
        return self._data

    def get(self, kind: str, key: str) -> Any:
        """The remembered value, or None when there is none (values are never None)."""
        return self._load().get(kind, {}).get(key)

    def put(self, kind: str, key: str, value: Any) -> None:
        self._load().setdefault(kind, {})[key] = value
        self._dirty = True

    def save(self) -> None:
        """Write what was learnt (one rename: a reader sees the old file or the new one)."""
        if not self._dirty or self._data is None:
            return
        self._dirty = False
        data = json.dumps({"format": _FORMAT, "kinds": self._data}, sort_keys=True)
        tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(data, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                tmp.unlink()


_OPEN: dict[tuple[str, str], InstalledCache] = {}


def current() -> InstalledCache:
    """The cache of this environment in the current cache directory."""
    root = cache_root()
    key = environment_key()
    found = _OPEN.get((str(root), key))
    if found is None:
        found = _OPEN[(str(root), key)] = InstalledCache(root / "installed" / f"{key}.json")
    return found


def save_all() -> None:
    for store in _OPEN.values():
        store.save()
