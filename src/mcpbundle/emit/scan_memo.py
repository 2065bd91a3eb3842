"""Contents the secret scan found clean, remembered across runs (``CACHE/scans/``).

A build and the ``check`` after it scan the same files; so does every build after a
one-file change. Each clean result is remembered by a digest of everything the scan's
result depends on: the scanner (mcpbundle's scan modules and the detect-secrets
version), the file's name (detect-secrets picks rules by file type), whether a
documentation file is a requirement file, and the bytes. Only *clean* contents are remembered, as
digests: a file with a finding is scanned again every time, so nothing of a secret,
not even its line, is written to the cache.

The memo is an optimisation: a cache directory that cannot be read or written only
means every file is scanned. Concurrent runs append whole lines with one ``write``;
a torn or foreign line is ignored. ``mcpbundle cache clear scans`` removes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
from functools import cache
from pathlib import Path

from mcpbundle.base.cache_dir import cache_root, cache_root_path
from mcpbundle.base.regular_file import open_regular

_DIGEST = re.compile(r"[0-9a-f]{64}")
_SCANNER_MODULES = (
    "secret_scan.py", "secret_engine.py", "secret_shapes.py", "scan_memo.py", "scan_gates.py",
)  # fmt: skip


@cache
def _scanner_key() -> str:
    """What the scan's verdict depends on besides the file: the scanner's own code and
    detect-secrets' version (its ``__version__.py``, found without importing the package:
    the metadata machinery alone cost ``check`` more than its secret rule)."""
    from importlib.util import find_spec

    digest = hashlib.sha256()
    spec = find_spec("detect_secrets")
    version = b"detect-secrets: unknown"
    if spec is not None and spec.origin:
        with contextlib.suppress(OSError):
            version = Path(spec.origin).with_name("__version__.py").read_bytes()
    digest.update(version)
    here = Path(__file__).resolve().parent
    for name in _SCANNER_MODULES:
        try:
            digest.update((here / name).read_bytes())
        except OSError:
            digest.update(name.encode())
    return digest.hexdigest()[:16]


def memo_path() -> Path:
    return cache_root() / "scans" / f"{_scanner_key()}.clean"


def gates_path() -> Path:
    """The scanner's gates (:mod:`mcpbundle.emit.scan_gates`), beside its memo."""
    return memo_path().with_suffix(".gates")


def content_key(data: bytes, display: str, listed_doc: bool) -> str:
    """The key of one scan: ``listed_doc``, a documentation file listed as a requirement
    file (which makes its findings errors, not warnings)."""
    digest = hashlib.sha256()
    for part in (display.encode("utf-8", "surrogateescape"), b"r" if listed_doc else b"-"):
        digest.update(len(part).to_bytes(8, "big") + part)
    digest.update(data)
    return digest.hexdigest()


class CleanMemo:
    """The remembered clean digests, read once per process; new ones appended by :meth:`flush`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._known: set[str] | None = None
        self._new: list[str] = []

    def _load(self) -> set[str]:
        if self._known is None:
            try:
                with open_regular(self.path) as handle:  # never wait on a FIFO in the cache
                    text = handle.read().decode("ascii", errors="replace")
            except OSError:
                text = ""
            self._known = {line for line in text.split("\n") if _DIGEST.fullmatch(line)}
        return self._known

    def __contains__(self, key: str) -> bool:
        return key in self._load()

    def add(self, key: str) -> None:
        known = self._load()
        if key not in known:
            known.add(key)
            self._new.append(key)

    def flush(self) -> None:
        """Append the digests learnt since the last flush (one write: lines stay whole)."""
        if not self._new:
            return
        data = "".join(f"{key}\n" for key in self._new).encode("ascii")
        self._new = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK
            fd = os.open(self.path, flags, 0o644)
            try:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    return  # a FIFO or a device where the memo goes: nothing remembered
                os.write(fd, data)
            finally:
                os.close(fd)
        except OSError:
            return  # an unwritable cache only costs the next run a scan


_MEMOS: dict[str, CleanMemo] = {}


def clean_memo() -> CleanMemo:
    """The memo of the current cache directory (``MCPBUNDLE_CACHE_DIR`` read each time: it
    is asked once per file scanned, so by the directory's name, not a path object)."""
    root = cache_root_path()
    memo = _MEMOS.get(root)
    if memo is None:
        memo = _MEMOS[root] = CleanMemo(memo_path())
    return memo
