"""The source a build comes from: commit and dirtiness, or nothing outside git."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mcpbundle.manifest import Source
from mcpbundle.worktree import git_root

if TYPE_CHECKING:
    from mcpbundle.gitsource import SourceState


def current_state(root: Path) -> SourceState | None:
    if git_root(root) is None:
        return None  # not in a work tree: no need to load GitPython
    from mcpbundle.gitsource import repo_root_of, source_state

    repo = repo_root_of(root)
    return source_state(repo) if repo is not None else None


def current_source(root: Path) -> Source:
    state = current_state(root)
    if state is None:
        return Source(commit=None, dirty=False)
    return Source(commit=state.commit, dirty=state.dirty)
