"""A content-addressed cache of resolver results.

A server's pins are a pure function of what the resolver is given: the merged
``requirements.in`` text, the previous pins it keeps, the upgrade flags, the
resolver itself (:func:`mcpbundle.resolve.resolver.resolver_identity`: resolver, version,
python, platform) and the index settings. The key is the sha256 of a canonical
JSON document of exactly those; the entry lives in
``cache_root()/resolve/<key[:2]>/<key>.json`` as ``{"key", "output", "sha256"}``.

* Entries are written atomically (temporary file + ``os.replace``). A corrupt or
  partial entry (bad JSON, checksum mismatch, wrong key) is removed, never trusted.
* The previous pins enter the key as their requirement lines only (comments,
  ``# via`` annotations and the header do not change what the resolver does).
* A resolver keeps pins that still satisfy the input, so the result of a miss is
  also stored under the key with ``previous = result`` (the *fixed point*): the
  rebuild after a first build, whose previous pins are that first result, hits.
* ``--upgrade`` / ``--upgrade-package`` ask the index for what is newest *now*:
  such requests always run the resolver (the result is still stored).
* A local ``find-links`` directory enters the key with a listing of its files
  (name, size, mtime), so adding a wheel there is a miss.
* Every hit is re-verified (:func:`mcpbundle.plan.pinned_text.verify_pins`) with the
  request's vendored names, exactly like a fresh resolution.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from mcpbundle.base.cache_dir import cache_root
from mcpbundle.base.errors import UsageError
from mcpbundle.base.regular_file import NotRegular, TooLarge, read_regular
from mcpbundle.base.temp_dirs import remove_tree
from mcpbundle.plan.pinned_text import logical_lines, verify_pins
from mcpbundle.resolve.resolver import (
    OUT_FILE,
    ResolveRequest,
    ResolverSettings,
    _absolute_link,
    resolve,
    resolver_identity,
)

log = logging.getLogger("mcpbundle")

KEY_VERSION = 1
KINDS = ("resolve", "git", "venvs", "stamps", "plans", "scans", "installed", "interpreters")
MAX_ENTRY_BYTES = 16 * 1024 * 1024


# -- the key ------------------------------------------------------------------------


def pin_lines(text: str | None) -> list[str]:
    """The requirement lines of a requirements file, canonical and sorted.

    Comments and blank lines are dropped, ``\\`` continuations (``--hash``) are
    joined, whitespace is collapsed. ``None`` and a file without requirements
    give ``[]``.
    """
    if not text:
        return []
    return sorted(" ".join(line.split()) for _number, line in logical_lines(text))


def _links_fingerprint(link: str) -> Any:
    absolute = _absolute_link(link)
    path = Path(absolute)
    if "://" in absolute or not path.is_dir():
        return absolute
    listing = []
    with os.scandir(path) as entries:
        for entry in entries:
            with contextlib.suppress(OSError):
                stat = entry.stat()
                listing.append([entry.name, stat.st_size, stat.st_mtime_ns])
    return [absolute, sorted(listing)]


def key_document(request: ResolveRequest, settings: ResolverSettings) -> dict[str, Any]:
    """Exactly what the pins depend on, as JSON-ready data (see the module docstring)."""
    requirements = request.requirements_in
    if not requirements.endswith("\n"):
        requirements += "\n"
    upgrade_packages = (
        [] if request.upgrade else sorted({canonicalize_name(n) for n in request.upgrade_packages})
    )
    return {
        "version": KEY_VERSION,
        "requirements_in": requirements,
        "previous": None if request.upgrade else pin_lines(request.previous),
        "upgrade": request.upgrade,
        "upgrade_packages": upgrade_packages,
        "resolver": resolver_identity(settings),
        "index": {
            "index_url": settings.index_url,
            "extra_index_urls": list(settings.extra_index_urls),
            "find_links": [_links_fingerprint(link) for link in settings.find_links],
            "no_index": settings.no_index,
            "hashes": settings.hashes,
        },
    }


def cache_key(request: ResolveRequest, settings: ResolverSettings) -> str:
    """sha256 hex of the canonical JSON of :func:`key_document`."""
    document = key_document(request, settings)
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- entries --------------------------------------------------------------------------


def resolve_dir() -> Path:
    return cache_root() / "resolve"


def entry_path(key: str) -> Path:
    return resolve_dir() / key[:2] / f"{key}.json"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_entry(key: str) -> str | None:
    """The cached output for ``key``; None (and the entry removed) if absent or bad."""
    path = entry_path(key)
    try:
        raw = read_regular(path, MAX_ENTRY_BYTES, follow=False)  # never a FIFO or a device
    except (NotRegular, TooLarge):
        log.debug("ignoring resolver cache entry %s: not a regular file of sane size", path)
        return None
    except OSError:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
        output = data["output"]
        if (
            isinstance(data, dict)
            and data.get("key") == key
            and isinstance(output, str)
            and data.get("sha256") == _sha256(output)
        ):
            return output
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        pass
    log.debug("discarding corrupt resolver cache entry %s", path)
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def write_entry(key: str, output: str) -> None:
    """Store ``output`` under ``key`` atomically; a failure to write only logs."""
    path = entry_path(key)
    data = json.dumps({"key": key, "output": output, "sha256": _sha256(output)}, sort_keys=True)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        log.debug("cannot write resolver cache entry %s: %s", path, exc)


# -- the API --------------------------------------------------------------------------


def cached_resolve(
    request: ResolveRequest, settings: ResolverSettings, *, enabled: bool = True
) -> tuple[str, bool]:
    """:func:`mcpbundle.resolve.resolver.resolve` through the cache: ``(requirements.txt, hit)``.

    With ``enabled=False`` the cache is neither read nor written.
    """
    if not enabled:
        return resolve(request, settings), False
    key = cache_key(request, settings)
    upgrading = request.upgrade or bool(request.upgrade_packages)
    if not upgrading:
        cached = read_entry(key)
        if cached is not None:
            verify_pins(
                cached, vendored=request.vendored, where=f"server '{request.server}' {OUT_FILE}"
            )
            log.info("resolver cache hit for server '%s' (%s)", request.server, key[:12])
            return cached, True
    output = resolve(request, settings)
    write_entry(key, output)
    fixed = ResolveRequest(
        server=request.server,
        requirements_in=request.requirements_in,
        previous=output,
        vendored=request.vendored,
    )
    fixed_key = cache_key(fixed, settings)
    if fixed_key != key:
        write_entry(fixed_key, output)
    return output, False


def _tree_size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


# Directories beside the venvs that verify keeps; cleared with them, not counted as entries.
_SIDE_CACHES = (".source-loads", ".surfaces")
# What mcpbundle writes in each kind's directory; `cache clear` removes these and nothing
# else, so a cache directory shared with other files (MCPBUNDLE_CACHE_DIR=~) loses only ours.
_ENTRY_NAMES = {
    "resolve": re.compile(r"[0-9a-f]{2}"),  # <key[:2]>/ holding <key>.json (and .tmp files)
    "git": re.compile(r"[0-9a-f]{16}"),  # <sha256(url)[:16]>/
    # venvs/<key>/, their .tmp builds, and verify's side caches (source loads, surfaces)
    "venvs": re.compile(
        "|".join(
            [r"[0-9a-f]{64}", r"\.tmp-[0-9a-f]{12}-[A-Za-z0-9_]+", *map(re.escape, _SIDE_CACHES)]
        )
    ),
    "stamps": re.compile(r"[0-9a-f]{64}\.(?:stamp(?:\.\d+\.tmp)?|spare)"),  # and outputs kept
    "plans": re.compile(r"[0-9a-f]{64}(?:\.\d+\.tmp)?"),  # one file per repository root
    # the secret scan's clean contents and its gates
    "scans": re.compile(r"[0-9a-f]{16}\.(?:clean|gates(?:\.\d+\.tmp)?)"),
    # what check read of the distributions next to mcpbundle, one file per environment
    "installed": re.compile(r"[0-9a-f]{64}\.json(?:\.\d+\.tmp)?"),
    # the target interpreters pip-tools imported under (empty markers), uv binaries' versions
    "interpreters": re.compile(r"piptools-[0-9a-f]{64}|uv-[0-9a-f]{64}(?:\.\d+\.tmp)?"),
}
_RESOLVE_FILES = re.compile(r"[0-9a-f]{64}\.json|\.[0-9a-f]{8}-[A-Za-z0-9_]+\.tmp")


def _owned(kind: str, path: Path) -> list[Path]:
    """The entries of ``kind`` under ``path`` that mcpbundle wrote (by name)."""
    if not path.is_dir() or path.is_symlink():
        return []
    found = []
    for child in sorted(path.iterdir()):
        if _ENTRY_NAMES[kind].fullmatch(child.name):
            found.append(child)
    return found


def _entries(kind: str, path: Path) -> int:
    if kind == "resolve":
        return sum(
            1
            for bucket in _owned(kind, path)
            if bucket.is_dir()
            for entry in bucket.iterdir()
            if entry.name.endswith(".json") and _RESOLVE_FILES.fullmatch(entry.name)
        )
    return sum(1 for entry in _owned(kind, path) if entry.name not in _SIDE_CACHES)


def cache_info() -> dict[str, Any]:
    """``{"path", "entries", "bytes", "kinds": {kind: {"path", "entries", "bytes"}}}``."""
    root = cache_root()
    kinds: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        path = root / kind
        size = _tree_size(path) if path.is_dir() else 0
        kinds[kind] = {"path": str(path), "entries": _entries(kind, path), "bytes": size}
    return {
        "path": str(root),
        "entries": sum(k["entries"] for k in kinds.values()),
        "bytes": sum(k["bytes"] for k in kinds.values()),
        "kinds": kinds,
    }


def cache_clear(kinds: Sequence[str] = KINDS) -> int:
    """Remove the cached ``kinds`` (default: all); return how many entries were removed."""
    root = cache_root()
    removed = 0
    for kind in kinds:
        if kind not in KINDS:
            raise UsageError(f"unknown cache kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
        path = root / kind
        removed += _entries(kind, path)
        for entry in _owned(kind, path):
            if kind == "resolve" and entry.is_dir() and not entry.is_symlink():
                _clear_bucket(entry)
            else:
                remove_tree(entry)
        with contextlib.suppress(OSError):
            path.rmdir()  # only when nothing but ours was in it
    return removed


def _clear_bucket(bucket: Path) -> None:
    for entry in bucket.iterdir():
        if _RESOLVE_FILES.fullmatch(entry.name):
            with contextlib.suppress(OSError):
                entry.unlink()
    with contextlib.suppress(OSError):
        bucket.rmdir()
