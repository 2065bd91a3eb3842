"""The previous output, kept after a swap as the next build's starting tree.

A build swaps its staged tree in for the old output whole (a SIGKILL at any point
leaves the old output or the new one, never a mix). Staging every file anew costs a
directory per folder and a link per file of the whole output, and removing the old
output another unlink per file, whatever changed: at 200 servers that was most of a
rebuild after a one-line change. So the old output is not removed: it is moved to
``CACHE/stamps/<sha256 of the output path>.spare`` and the next build of that output
takes it as its staging directory (:class:`~mcpbundle.emit.staged_tree.StagedTree`
with a base): it rewrites only the paths whose bytes differ and removes what the new
output does not list, then swaps as before.

The spare is checked, not trusted: a file stays only when its content (hashed once per
inode) and mode are what the new output ships, so a spare that was edited, left half
updated by a killed build, or shares an inode with a live file edited in place costs
writes, never wrong bytes. It lives in the cache, not beside the output, so nothing new
shows in ``git status`` or in the directory the output is in; where the cache is on
another file system (a rename cannot move it) or cannot be written, the old output is
removed as before. ``mcpbundle cache clear stamps`` removes it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from mcpbundle.base.cache_dir import cache_root_path
from mcpbundle.base.temp_dirs import remove_tree
from mcpbundle.emit.directory import checkpoint, discard, staging_dir
from mcpbundle.emit.staged_tree import Base, StagedTree, walk_base

SUFFIX = ".spare"


def spare_path(output: Path) -> Path:
    """Where the spare of ``output`` (by its absolute path) is kept."""
    key = hashlib.sha256(os.fsencode(os.path.abspath(output))).hexdigest()
    return Path(cache_root_path()) / "stamps" / f"{key}{SUFFIX}"


@contextlib.contextmanager
def staged(output: Path) -> Iterator[StagedTree]:
    """A staging tree beside ``output``: the spare when there is one, else empty. Unless
    the caller swaps it in, it becomes the spare again (its files are checked on use)."""
    path = staging_dir(output)
    tree = StagedTree(path, _adopt(output, path))
    try:
        yield tree
    finally:
        if path.exists() and not keep(path, output):
            discard(path)


def _adopt(output: Path, staging: Path) -> Base | None:
    """Move the spare of ``output`` onto the empty ``staging`` directory; what it holds."""
    spare = spare_path(output)
    try:
        os.rename(spare, staging)  # onto an empty directory: replaces it
    except OSError:
        return None  # none, or on another file system
    checkpoint()
    try:
        return walk_base(staging)
    except OSError:
        remove_tree(staging)
        staging.mkdir()
        return None


def keep(tree: Path, output: Path) -> bool:
    """Make ``tree`` (the old output after a swap, or an unused staging tree) the spare of
    ``output``; False when it cannot be (the caller removes it)."""
    spare = spare_path(output)
    try:
        spare.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(spare):
            return False  # another build's: the caller removes this one instead
        os.rename(tree, spare)
    except OSError:
        return False
    checkpoint()
    return True
