"""Snapshots of everything a user could notice in a checkout (tree, index, HEAD, status)."""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Snapshot:
    tree: str
    index: str
    head_file: str
    head: str
    status: str
    stash: str
    refs: str


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0"}
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, env=env, check=False
    )
    return done.stdout


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    paths: list[Path] = []
    for here, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        paths.extend(Path(here) / name for name in files)
    for path in sorted(paths):
        info = path.lstat()
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(oct(info.st_mode).encode() + b"\0")
        digest.update(path.read_bytes() if path.is_file() else os.readlink(path).encode())
    return digest.hexdigest()


def snapshot(repo: Path, *, ignore_branch: str | None = None) -> Snapshot:
    """Read the index's bytes first: nothing here may rewrite it."""
    index = repo / ".git" / "index"
    index_hash = hashlib.sha256(index.read_bytes()).hexdigest() if index.exists() else "-"
    refs = "\n".join(
        line
        for line in _git(repo, "for-each-ref", "--format=%(refname) %(objectname)").splitlines()
        if ignore_branch is None or not line.startswith(f"refs/heads/{ignore_branch} ")
    )
    return Snapshot(
        tree=tree_hash(repo),
        index=index_hash,
        head_file=(repo / ".git" / "HEAD").read_text(),
        head=_git(repo, "rev-parse", "--verify", "--quiet", "HEAD"),
        status=_git(repo, "status", "--porcelain"),
        stash=_git(repo, "stash", "list"),
        refs=refs,
    )


def write_files(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root
