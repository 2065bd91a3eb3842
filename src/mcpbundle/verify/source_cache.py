"""The source tree's load, cached by the hash of everything it reads.

Loading a server from its source tree again gives the same tools, resources and
prompts while nothing it loads from changed, so a clean load (``ok``, no
warnings) is kept in ``CACHE/venvs/.source-loads/<key>.json``. The key hashes the
probe script, the interpreter (its path and version: the venv stands for the
installed requirements), the server's placeholder settings, how the server is
loaded (entrypoint, object, shim) and the *contents* of every file under its
directory and each directory on its path (skipping bytecode, VCS and virtualenv
directories and the output); a directory is hashed once per run however many
servers share it. The cache directory is among those a load may not write.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mcpbundle import __version__
from mcpbundle.verify.probe_runner import PROBE, Load, LoadContext, SourceSpec, load_source
from mcpbundle.verify.sandbox import Box
from mcpbundle.verify.venvs import python_info

SKIP_DIRS = frozenset(
    {"__pycache__", ".git", ".hg", ".venv", "venv", "node_modules", ".mypy_cache",
     ".pytest_cache", ".ruff_cache", ".tox", ".nox"}
)  # fmt: skip


def cache_path(cache_dir: Path) -> Path:
    return cache_dir / "venvs" / ".source-loads"


def metadata_path(cache_dir: Path) -> Path:
    """Where the source loads' dist-info directories are kept (guarded like the verdicts)."""
    return cache_path(cache_dir) / "dist-info"


class SourceCache:
    """Lookups and stores for one verify run (directory digests are memoized)."""

    def __init__(self, cache_dir: Path, skip: Sequence[Path] = ()) -> None:
        self.root = cache_path(cache_dir)
        self.skip = frozenset(p.resolve() for p in skip)
        self._digests: dict[Path, str] = {}
        self._lock = threading.Lock()

    def key(self, spec: SourceSpec, *, python: Path, version: str, env: Mapping[str, str]) -> str:
        digest = hashlib.sha256()

        def feed(*parts: str) -> None:
            for part in parts:
                digest.update(part.encode("utf-8", "surrogateescape") + b"\0")

        feed(__version__, hashlib.sha256(PROBE.read_bytes()).hexdigest())
        feed(str(python), version, json.dumps(sorted(env.items())))
        feed(str(spec.entry), str(spec.object), spec.shim or "", str(spec.root))
        feed(self.tree(spec.root))
        if not spec.entry.resolve().is_relative_to(spec.root.resolve()):
            feed(self.tree(spec.entry.parent))
        for path in spec.paths:
            feed(self.tree(path))  # by content: a per-run metadata directory has a new name
        return digest.hexdigest()

    def tree(self, path: Path) -> str:
        """sha256 of the relative paths and contents of the files under ``path``."""
        path = path.resolve()
        with self._lock:
            known = self._digests.get(path)
        if known is not None:
            return known
        digest = hashlib.sha256()
        for rel, file in sorted(self._files(path)):
            digest.update(rel.encode("utf-8", "surrogateescape") + b"\0")
            try:
                digest.update(hashlib.sha256(file.read_bytes()).digest())
            except OSError:
                digest.update(b"unreadable")
        result = digest.hexdigest()
        with self._lock:
            self._digests[path] = result
        return result

    def _files(self, top: Path) -> list[tuple[str, Path]]:
        found = []
        for directory, dirs, files in os.walk(top):
            here = Path(directory)
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and (here / d) not in self.skip]
            for name in files:
                if not name.endswith((".pyc", ".pyo")):
                    file = here / name
                    found.append((file.relative_to(top).as_posix(), file))
        return found

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            document = json.loads((self.root / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return document if isinstance(document, dict) and document.get("ok") else None

    def put(self, key: str, verdict: Mapping[str, Any]) -> None:
        """Keep a clean load (written whole, then renamed: readers never see half a file)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            partial = self.root / f".{key}.{os.getpid()}.{threading.get_ident()}"
            partial.write_text(json.dumps(verdict, sort_keys=True), encoding="utf-8")
            partial.replace(self.root / f"{key}.json")
        except OSError:
            return  # a cache that cannot be written only costs the next run a load


def load_cached(
    cache: SourceCache | None,
    ctx: LoadContext,
    spec: SourceSpec,
    box: Callable[[], Box],
    env: Mapping[str, str],
    version: str | None = None,
) -> Load:
    """The source tree's load, or the verdict of a clean earlier one of the same inputs.

    ``box``: makes the load's sandbox (not made when the verdict is cached). ``version``:
    ``ctx.python``'s (a venv's is its base interpreter's, known already; None: asked)."""
    if cache is None:
        return load_source(ctx, spec, box())
    version = version or python_info(ctx.python)[0]
    key = cache.key(spec, python=ctx.python, version=version, env=env)
    known = cache.get(key)
    if known is not None:
        return Load(verdict={**known, "cached": True})
    loaded = load_source(ctx, spec, box())
    if loaded.verdict.get("ok") and not loaded.warnings:
        cache.put(key, loaded.verdict)
    return loaded
