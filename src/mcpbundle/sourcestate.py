"""The source a build comes from: commit and dirtiness, or nothing outside git."""

from __future__ import annotations

from pathlib import Path

from mcpbundle.gitsource import SourceState, repo_root_of, source_state
from mcpbundle.manifest import Source


def current_state(root: Path) -> SourceState | None:
    repo = repo_root_of(root)
    return source_state(repo) if repo is not None else None


def current_source(root: Path) -> Source:
    state = current_state(root)
    if state is None:
        return Source(commit=None, dirty=False)
    return Source(commit=state.commit, dirty=state.dirty)
