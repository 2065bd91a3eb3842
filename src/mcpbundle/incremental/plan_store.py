"""The cache of server plans that ``build`` and ``check`` share (``CACHE/plans/``).

It sits beside the read cache, below both commands, so that ``check`` opens it without
importing the build's writers and resolvers: a check after a build takes the build's
plans. The caller passes the planner's fact makers (this package knows nothing of the
pipeline), and the configuration and listing are read through the little they need.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping
from typing import Protocol

from mcpbundle.base.cache_dir import cache_root_path
from mcpbundle.incremental.read_cache import ReadCache


class _Config(Protocol):
    @property
    def root(self) -> os.PathLike[str]: ...


class _Listing(Protocol):
    @property
    def root(self) -> os.PathLike[str]: ...
    @property
    def from_git(self) -> bool: ...
    @property
    def paths(self) -> object: ...
    @property
    def special(self) -> Mapping[str, object]: ...


def plan_cache(
    config: _Config,
    files: _Listing,
    output: os.PathLike[str],
    facts: Mapping[str, Callable[..., object]],
) -> ReadCache | None:
    """The cache of server plans for this configuration and file listing; None when the
    configuration cannot name itself reliably (an object without a stable repr)."""
    described = repr(config)
    if " at 0x" in described:
        return None
    listing = (str(files.root), files.from_git, files.paths, sorted(files.special.items()))
    parts = ("plans", described, hashlib.sha256(repr(listing).encode()).hexdigest())
    directory = os.path.join(cache_root_path(), "plans")
    return ReadCache.open(
        directory, os.fspath(config.root), parts, hidden=[os.fspath(output)], facts=facts
    )
