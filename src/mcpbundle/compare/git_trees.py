"""Bundles held in git: a commit's files written out to a scratch directory, and the
commits that hold a deploy (its branch, a remote's copy, the split branches).

Only reads the repository (``ls-tree``, ``cat-file --batch``, ``rev-parse``,
``log``): nothing in the user's checkout, index or refs changes.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mcpbundle.base.errors import GitError
from mcpbundle.git.source import git_call, git_checked, is_commit

SOURCE_COMMIT = re.compile(r"^Source-Commit:\s*([0-9a-f]{40,64})\s*$", re.MULTILINE)
BUILT_SERVERS = re.compile(r"^Built-Servers:\s*(.*?)\s*$", re.MULTILINE)
SOURCE_DIRTY = re.compile(r"^Source-Dirty:\s*true\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Entry:
    mode: str
    sha: str
    path: str  # relative to the tree that was listed


def entries(repo: Path, treeish: str, under: str = "") -> list[Entry]:
    """Files and symlinks of ``treeish`` (below ``under``, paths relative to it)."""
    spec = f"{treeish}:{under}" if under not in ("", ".") else f"{treeish}^{{tree}}"
    out = git_call(repo, "ls-tree", "-r", "-z", "--end-of-options", spec)
    if not out.ok:
        return []
    found = []
    for record in out.stdout.split(b"\0"):
        meta, _, name = record.partition(b"\t")
        parts = meta.decode("ascii", "replace").split(" ")
        if len(parts) == 3 and parts[1] == "blob":
            found.append(Entry(parts[0], parts[2], name.decode("utf-8", "surrogateescape")))
    return found


def read_blobs(repo: Path, shas: Sequence[str]) -> dict[str, bytes]:
    """The contents of the blobs ``shas``, read in one ``git cat-file --batch``."""
    wanted = sorted(set(shas))
    if not wanted:
        return {}
    with tempfile.TemporaryFile() as stdin:
        stdin.write("".join(f"{sha}\n" for sha in wanted).encode())
        stdin.seek(0)
        out = git_checked(repo, "cat-file", "--batch", stdin=stdin, what="git cat-file")
    data, found, at = out.stdout, {}, 0
    for sha in wanted:
        end = data.index(b"\n", at)
        header = data[at:end].decode("ascii", "replace").split()
        if len(header) != 3 or header[1] != "blob":
            raise GitError(f"git cat-file: no blob {sha}")
        size = int(header[2])
        found[sha] = data[end + 1 : end + 1 + size]
        at = end + 1 + size + 1
    return found


def safe_rel(path: str) -> bool:
    """A path that stays inside the directory it is written to."""
    pure = PurePosixPath(path)
    return bool(pure.parts) and not pure.is_absolute() and not {"..", ".git"} & set(pure.parts)


def extract(repo: Path, treeish: str, dest: Path, under: str = "") -> int:
    """Write the files of ``treeish`` (below ``under``) into ``dest``, with their executable
    bits and symlinks (a link leaving ``dest`` is skipped); returns how many were written."""
    listed = [e for e in entries(repo, treeish, under) if safe_rel(e.path)]
    blobs = read_blobs(repo, [e.sha for e in listed])
    for entry in listed:
        target = dest / entry.path
        target.parent.mkdir(parents=True, exist_ok=True)
        data = blobs[entry.sha]
        if entry.mode == "120000":
            link = os.fsdecode(data)
            inside = (target.parent / link).resolve().is_relative_to(dest.resolve())
            if not os.path.isabs(link) and inside:
                os.symlink(link, target)
            continue
        target.write_bytes(data)
        target.chmod(0o755 if entry.mode == "100755" else 0o644)
    return len(listed)


def find_ref(repo: Path, branch: str) -> tuple[str, str] | None:
    """``(name shown, commit)`` of a local branch, else of ``origin``'s copy (a CI clone
    has the deploy branch only as ``origin/<branch>``)."""
    for ref, shown in ((f"refs/heads/{branch}", branch),
                       (f"refs/remotes/origin/{branch}", f"origin/{branch}")):  # fmt: skip
        sha = is_commit(repo, ref)
        if sha is not None:
            return shown, sha
    return None


def branches_below(repo: Path, base: str) -> dict[str, tuple[str, str]]:
    """Split deploy branches ``<base>/<server>``: server -> (name shown, commit); local
    branches win over ``origin``'s."""
    found: dict[str, tuple[str, str]] = {}
    for prefix, shown in ((f"refs/remotes/origin/{base}/", f"origin/{base}/"),
                          (f"refs/heads/{base}/", f"{base}/")):  # fmt: skip
        out = git_call(repo, "for-each-ref", "--format=%(objectname) %(refname)", prefix)
        for line in out.text.splitlines():
            sha, _, ref = line.partition(" ")
            name = ref.removeprefix(prefix)
            if name and "/" not in name and is_commit(repo, sha):
                found[name] = (shown + name, sha)
    return found


def message(repo: Path, commit: str) -> str:
    return git_checked(repo, "show", "-s", "--format=%B", commit).text


def short(repo: Path, commit: str) -> str:
    return git_checked(repo, "rev-parse", "--short", commit).line
