"""Contents the scanner would not look at, told without importing it (``CACHE/scans/``).

:func:`mcpbundle.emit.secret_engine.scan_text` analyses only the lines one of its gates
matches (each plugin's literal-led patterns, see its ``_GATES``); a text none of them
matches has no finding. Importing detect-secrets to learn that cost a one-file rebuild
more than the rest of its scan. So the first process that imports the engine writes
the gates beside the clean memo (``<scanner key>.gates``: the key covers detect-secrets'
version and mcpbundle's scan modules, this one included), and later ones apply them to
a content the memo does not know. Binary contents and ``.env.example`` files (every line
of which is analysed) always go to the engine.

An optimisation only: a missing, torn or foreign file means the engine is imported.
"""

from __future__ import annotations

import json
import os
import re
import string
from collections.abc import Iterable, Sequence
from pathlib import Path

from mcpbundle.base.regular_file import open_regular

_FORMAT = 1
_BINARY_PROBE = 8192
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

Gates = tuple[tuple[tuple[re.Pattern[str], bool], ...], frozenset[str]]
_LOADED: dict[str, Gates | None] = {}


def save(path: Path, gates: Iterable[tuple[str, int, bool]], whole_files: Iterable[str]) -> None:
    """Write the gates once (a reader sees the whole file or none)."""
    if path.exists():
        return
    document = {"format": _FORMAT, "gates": [list(g) for g in gates], "whole": sorted(whole_files)}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(document), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        if tmp.exists():
            tmp.unlink()


def _load(path: Path) -> Gates | None:
    key = str(path)
    if key not in _LOADED:
        _LOADED[key] = _read(path)
    return _LOADED[key]


def _read(path: Path) -> Gates | None:
    try:
        with open_regular(path) as handle:  # never wait on a FIFO in the cache
            document = json.loads(handle.read())
        if document.get("format") != _FORMAT:
            return None
        compiled = tuple(
            (re.compile(str(source), int(flags)), bool(lowered))
            for source, flags, lowered in document["gates"]
        )
        return compiled, frozenset(str(name) for name in document["whole"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError, re.error):
        return None


def untouched(path: Path, data: bytes, name: str) -> bool:
    """True when the engine would analyse no line of ``data`` (the content of a file
    named ``name``); False when it might, or when the gates are not known yet."""
    gates = _load(path)
    if gates is None or b"\0" in data[:_BINARY_PROBE]:
        return False
    patterns, whole = gates
    if name in whole:
        return False
    joined = "\n".join(data.decode("utf-8", errors="replace").splitlines())
    lowered = joined.lower() if joined.isascii() else joined.translate(_ASCII_LOWER)
    return not any(p.search(lowered if low else joined) for p, low in patterns)


def forget(paths: Sequence[Path] = ()) -> None:
    """Drop what this process read (tests: a new process)."""
    for path in paths or [Path(k) for k in _LOADED]:
        _LOADED.pop(str(path), None)
