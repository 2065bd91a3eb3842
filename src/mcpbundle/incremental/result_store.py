"""Results of a pure function kept across builds, keyed by everything they depend on.

For work whose answer depends only on its arguments (the secret scan of one file's
bytes, say): the caller makes the key (a digest of the content and the other
arguments); :func:`code_state` and the caller's own parts make the *base*, so a new
mcpbundle, an installed or upgraded package (detect-secrets) or another environment
starts afresh. One file per store name under the cache directory, written atomically
with its checksum; entries not asked for in a build are dropped when it saves.
This module knows nothing of the pipeline.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mcpbundle.incremental.read_cache import code_state, environment_state

FORMAT = 1
MAGIC = b"mcpbundle-result-store 1\n"
MAX_BYTES = 64 * 1024 * 1024
_MISSING = object()


@dataclass
class ResultStore:
    path: str
    base: str
    _entries: dict[str, Any] = field(default_factory=dict)
    _used: set[str] = field(default_factory=set)
    _dirty: bool = False
    hits: int = 0
    misses: int = 0

    @classmethod
    def open(cls, directory: str, name: str, parts: Iterable[object]) -> ResultStore:
        base = hashlib.sha256(
            repr((FORMAT, code_state(), environment_state(), *parts)).encode()
        ).hexdigest()
        store = cls(path=os.path.join(directory, f"{name}.pickle"), base=base)
        store._entries = store._load()
        return store

    def get(self, key: str) -> Any:
        """The stored value, or :data:`None` when there is none."""
        value = self._entries.get(key, _MISSING)
        if value is _MISSING:
            self.misses += 1
            return None
        self.hits += 1
        self._used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        self._entries[key] = value
        self._used.add(key)
        self._dirty = True

    def save(self) -> None:
        if not self._dirty and self._used == set(self._entries):
            return
        kept = {k: v for k, v in self._entries.items() if k in self._used}
        try:
            payload = pickle.dumps({"format": FORMAT, "base": self.base, "entries": kept})
        except Exception:
            return
        data = MAGIC + hashlib.sha256(payload).hexdigest().encode() + b"\n" + payload
        tmp = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, self.path)
        except OSError:  # a read-only cache: the next build scans again
            if os.path.exists(tmp):
                os.unlink(tmp)
        self._dirty = False

    def _load(self) -> dict[str, Any]:
        try:
            with open(self.path, "rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError:
            return {}
        if not data.startswith(MAGIC) or len(data) > MAX_BYTES:
            return {}
        checksum, _, payload = data[len(MAGIC) :].partition(b"\n")
        if hashlib.sha256(payload).hexdigest().encode() != checksum:
            return {}
        try:
            document = pickle.loads(payload)
        except Exception:
            return {}
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            return {}
        if document.get("base") != self.base or not isinstance(document.get("entries"), dict):
            return {}
        return dict(document["entries"])
