"""The source a build comes from: commit and dirtiness, or nothing outside git."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcpbundle.git.worktree import git_root

if TYPE_CHECKING:
    from mcpbundle.git.source import SourceState


@dataclass(frozen=True, kw_only=True)
class Source:
    """The commit a build comes from (None outside git) and whether the tree was dirty."""

    commit: str | None
    dirty: bool

    def to_json(self) -> dict[str, Any]:
        return {"commit": self.commit, "dirty": self.dirty}


def current_state(root: Path) -> SourceState | None:
    if git_root(root) is None:
        return None  # not in a work tree: no need to load GitPython
    from mcpbundle.git.source import repo_root_of, source_state

    repo = repo_root_of(root)
    return source_state(repo) if repo is not None else None


def current_source(root: Path) -> Source:
    state = current_state(root)
    if state is None:
        return Source(commit=None, dirty=False)
    return Source(commit=state.commit, dirty=state.dirty)
