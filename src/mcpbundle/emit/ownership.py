"""Who owns the output directory: mcpbundle replaces only what it can prove it wrote.

A build swaps the whole output directory, so before it does, :func:`claim` checks
that everything in the existing output is mcpbundle's:

* every file (or link, FIFO...) in the output must be listed by the previous
  build: in the marker file :data:`MARKER_NAME` at the output root (mcpbundle's
  signature line, then every file it wrote, one per line) or in the previous
  manifest's ``files``. Anything else makes the build refuse with one line naming
  it, unless ``--force``. Python's ``__pycache__/*.pyc`` files are the exception
  (bytecode an interpreter wrote when the bundle was run in place);
* an output outside the repository (``-o`` only; the config's ``output`` is checked
  at validation) must be new, empty, or carry a valid marker and a manifest that reads:
  ``-o ~/Documents`` is never replaced, with or without ``--force``.

The marker is written into the staging directory with the rest of the output, so it
is swapped in atomically with it. Inside the repository a truncated or corrupt manifest
is no obstacle while the marker lists the files: the build is then a full rebuild that
repairs it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.emit.manifest import DEPLOY_NAME, MANIFEST_NAME, output_files, parse_manifest
from mcpbundle.plan.repo_files import OUTPUT_MARKER, read_capped

log = logging.getLogger("mcpbundle")

MARKER_NAME = OUTPUT_MARKER
SIGNATURE = "mcpbundle-output 1"
INDEX_NAMES = (MANIFEST_NAME, DEPLOY_NAME, MARKER_NAME)
_MAX_INDEX_BYTES = 64 * 1024 * 1024
_MARKER_NOTE = (
    "# Written by mcpbundle build. mcpbundle replaces this directory on every build;\n"
    "# it refuses to when a file below is missing from this list (pass --force).\n"
)


def listed_files(entries: Mapping[str, Mapping[str, Any]]) -> set[str]:
    """Every file of an output holding ``entries`` (manifest server entries), index files too."""
    files = set(INDEX_NAMES)
    for entry in entries.values():
        files.update(output_files(entry))
    return files


def render_marker(entries: Mapping[str, Mapping[str, Any]]) -> bytes:
    """The marker for an output holding ``entries`` (manifest server entries) + index files."""
    lines = [SIGNATURE, *sorted(listed_files(entries))]
    return (lines[0] + "\n" + _MARKER_NOTE + "".join(f"{rel}\n" for rel in lines[1:])).encode()


def read_marker(output: Path) -> set[str] | None:
    """The files the marker lists; None when it is missing, not a regular file, or not ours."""
    data = _read_index(output / MARKER_NAME)
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = text.split("\n")
    if lines[0] != SIGNATURE or not text.endswith("\n"):
        return None  # not mcpbundle's, or cut short: its list cannot be trusted
    return {line for line in lines[1:] if line and not line.startswith("#")}


def previous_manifest(output: Path) -> tuple[dict[str, Any] | None, str | None]:
    """``(manifest, problem)``: the previous manifest, or None and why it cannot be used."""
    path = output / MANIFEST_NAME
    data = _read_index(path)
    if data is None:
        return None, ("is not a regular file" if os.path.lexists(path) else None)
    try:
        return parse_manifest(data, str(path)), None
    except BuildError as exc:
        return None, exc.message


@dataclass(frozen=True)
class Claim:
    """The output may be replaced: its previous manifest, and any files mcpbundle did not write."""

    previous: dict[str, Any] | None  # the previous manifest (None: none, or unreadable)
    foreign: tuple[str, ...] = ()  # files mcpbundle did not write (only with force)


def claim(output: Path, *, repo_root: Path, force: bool = False) -> Claim:
    """Check that the build may replace ``output`` (see the module docstring).

    An unreadable previous manifest is logged as a warning (the build repairs it).
    With ``force``, files mcpbundle did not write are returned in ``foreign``: the
    build must then write the output anew even if nothing else changed.
    """
    if output.is_symlink():
        raise UsageError(
            "the output is a symlink; a build would replace what it points at",
            where=str(output),
            hint="point -o / [bundle] output at a real directory",
        )
    if not output.is_dir():
        return Claim(None)
    present = output_entries(output)
    marker = read_marker(output)
    manifest, problem = previous_manifest(output)
    if problem is not None:
        log.warning("%s: %s; rebuilding every server to repair it", output / MANIFEST_NAME, problem)
    if not present:
        return Claim(manifest)
    # outside the repository the proof is the marker and a manifest that reads (a marker
    # alone only repairs a build inside it, where the files are the user's own to restore)
    if (marker is None or manifest is None) and not output.is_relative_to(repo_root):
        missing = MARKER_NAME if marker is None else f"readable {MANIFEST_NAME}"
        raise UsageError(
            f"{output} is outside the repository and was not written by mcpbundle (no {missing})",
            where="-o/--output",
            hint="pick a new or empty directory, or one inside the repository",
        )
    known = _known(marker, manifest)
    foreign = sorted(present - known)
    if foreign and not force:
        more = f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else ""
        what = (
            "was not written by mcpbundle (the previous build does not list it)"
            if known
            else f"is in an output mcpbundle cannot prove it wrote (no readable manifest or "
            f"{MARKER_NAME})"
        )
        raise BuildError(
            f"{what}{more}, and a build replaces the whole output",
            where=str(output / foreign[0]),
            hint="move it out of the output, or pass --force to replace the output anyway",
        )
    if foreign:
        log.warning("replacing %d file(s) mcpbundle did not write in %s (--force)",
                    len(foreign), output)  # fmt: skip
    return Claim(manifest, tuple(foreign))


def _known(marker: set[str] | None, manifest: Mapping[str, Any] | None) -> set[str]:
    known: set[str] = set(marker or ())
    if manifest is not None:
        known.update(INDEX_NAMES)
        for entry in manifest.get("servers", {}).values():
            if isinstance(entry, dict):
                known.update(output_files(entry))
    return known


def output_entries(output: Path) -> set[str]:
    """Every non-directory under ``output`` (files, links, FIFOs...), as relative paths,
    without bytecode caches. Iterative: a deep tree costs no recursion."""
    found: set[str] = set()
    pending = [""]
    while pending:
        rel_dir = pending.pop()
        try:
            entries = list(os.scandir(f"{output}/{rel_dir}" if rel_dir else output))
        except OSError:
            found.add(rel_dir or ".")  # unreadable: it cannot be proven to be ours
            continue
        for entry in entries:  # the kind from the listing (d_type): no stat per file
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                pending.append(rel)
            elif not _bytecode(rel):
                found.add(rel)
    return found


def _bytecode(rel: str) -> bool:
    parts = rel.split("/")
    return len(parts) >= 2 and parts[-2] == "__pycache__" and parts[-1].endswith(".pyc")


def _read_index(path: Path) -> bytes | None:
    try:
        return read_capped(path, _MAX_INDEX_BYTES, display=str(path), follow=False)
    except (OSError, BuildError):
        return None
