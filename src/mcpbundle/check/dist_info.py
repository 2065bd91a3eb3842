"""One installed distribution's import names and requirements, read from its metadata.

The ``*.dist-info`` directories of ``sys.path`` are listed once per state of its
directories (an install changes one) and a distribution's ``METADATA``,
``top_level.txt`` and ``RECORD`` are read as text: no ``importlib.metadata`` (whose
import, with the email parser, cost a cold ``check`` at 10 servers more than all its
rules), no path object per installed file. Anything that
reading cannot answer (an ``.egg-info``, a zipped egg, a directory named unlike its
distribution, no file list) goes through ``importlib.metadata``, which finds the same
first match on ``sys.path``.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

if TYPE_CHECKING:
    from importlib import metadata


@dataclass(frozen=True, kw_only=True)
class Installed:
    """One installed distribution's import names and requirements."""

    imports: frozenset[str] | None  # None when the metadata does not list files
    requires: tuple[str, ...]


def read_installed(name: str) -> Installed | None:
    """The distribution ``name`` (canonical) importable next to mcpbundle, if any."""
    layout = site_layout(tuple((entry, _mtime(entry)) for entry in sys.path))
    where = layout.dist_info.get(name)
    if where is not None:
        found = _from_dist_info(where, name)
        if found is not None:
            return found
    elif not layout.opaque and name not in layout.others:
        return None  # no metadata of that name anywhere on sys.path
    return _from_importlib(name)


@dataclass(frozen=True)
class Layout:
    """What the directories of ``sys.path`` hold."""

    dist_info: dict[str, str]  # canonical name -> its first ``*.dist-info`` directory
    others: frozenset[str]  # canonical names of other metadata (``*.egg-info``, ``*.egg``)
    opaque: bool  # an entry that is not a directory (a zip): only importlib looks inside


def _mtime(entry: str) -> int:
    try:
        return os.stat(entry or ".").st_mtime_ns
    except OSError:
        return -1


@cache
def site_layout(path: tuple[tuple[str, int], ...]) -> Layout:
    """The metadata directories along ``path`` (entries with their modification times: an
    install adds a directory, which changes its parent's), listed once per state."""
    found: dict[str, str] = {}
    others: set[str] = set()
    opaque = False
    for entry, _stamp in path:
        try:
            names = sorted(os.listdir(entry or "."))
        except NotADirectoryError:
            opaque = True
            continue
        except OSError:
            continue
        for child in names:
            stem, dot, suffix = child.rpartition(".")
            if not dot:
                continue
            dist = canonicalize_name(stem.partition("-")[0])
            if suffix == "dist-info":
                found.setdefault(dist, os.path.join(entry or ".", child))
            elif suffix in ("egg-info", "egg", "egg-link"):
                others.add(dist)
    return Layout(dist_info=found, others=frozenset(others), opaque=opaque)


def _from_dist_info(directory: str, name: str) -> Installed | None:
    headers = headers_of(_read(directory, "METADATA") or "")
    found = next(iter(headers.get("name", ())), "")
    if not found or canonicalize_name(found) != name:
        return None  # named unlike its distribution: importlib decides
    top_level = _read(directory, "top_level.txt")
    if top_level:
        tops = {line.strip() for line in top_level.splitlines() if line.strip()}
        return Installed(imports=frozenset(tops), requires=_requires(headers))
    record = _read(directory, "RECORD")
    if not record:
        return None
    return Installed(
        imports=frozenset(import_names(record_tops(record))), requires=_requires(headers)
    )


def _from_importlib(name: str) -> Installed | None:
    from importlib import metadata  # only for what the dist-info reading cannot answer

    try:
        dist = metadata.distribution(name)
    except (metadata.PackageNotFoundError, ValueError):
        return None
    headers = headers_of(dist.read_text("METADATA") or dist.read_text("PKG-INFO") or "")
    found = next(iter(headers.get("name", ())), "")
    if not found or canonicalize_name(found) != name:
        return None
    names = _top_level_names(dist)
    return Installed(
        imports=None if names is None else frozenset(names), requires=_requires(headers)
    )


def _read(directory: str, name: str) -> str | None:
    try:
        with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return None


def _requires(headers: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(headers.get("requires-dist", ()))


def headers_of(text: str) -> dict[str, list[str]]:
    """The header fields of a core-metadata file (lower-cased names; folded lines joined),
    up to the blank line that starts the description."""
    fields: dict[str, list[str]] = {}
    last: list[str] | None = None
    for line in text.split("\n"):
        line = line.rstrip("\r")
        if not line:
            break
        if line[0] in " \t" and last:
            last[-1] = f"{last[-1]} {line.strip()}"
            continue
        key, colon, value = line.partition(":")
        if not colon:
            continue
        last = fields.setdefault(key.strip().lower(), [])
        last.append(value.strip())
    return fields


def _top_level_names(dist: metadata.Distribution) -> set[str] | None:
    text = dist.read_text("top_level.txt")
    if text:
        return {line.strip() for line in text.splitlines() if line.strip()}
    record = dist.read_text("RECORD")
    tops = record_tops(record) if record else _file_tops(dist)
    return None if tops is None else import_names(tops)


def import_names(tops: set[tuple[str, bool]]) -> set[str]:
    """The importable names among ``(first path part, whether it is the whole path)``."""
    names: set[str] = set()
    for first, alone in tops:
        if first in {"..", "__pycache__"} or first.endswith(
            (".dist-info", ".egg-info", ".data", ".pth")
        ):
            continue
        if alone:
            if not first.endswith((".py", ".so", ".pyd")):
                continue
            first = first.split(".", 1)[0]
        if first.isidentifier():
            names.add(first)
    return names


def record_tops(record: str) -> set[tuple[str, bool]]:
    """``(first path part, whether it is the whole path)`` of every ``RECORD`` row."""
    tops: set[tuple[str, bool]] = set()
    for row in csv.reader(record.splitlines()):
        if not row:
            continue
        parts = [part for part in row[0].split("/") if part not in ("", ".")]
        if parts:
            tops.add((parts[0], len(parts) == 1))
    return tops


def _file_tops(dist: metadata.Distribution) -> set[tuple[str, bool]] | None:
    """The same from importlib's file list (``installed-files.txt``, ``SOURCES.txt``)."""
    if dist.files is None:
        return None
    return {(file.parts[0], len(file.parts) == 1) for file in dist.files if file.parts}
