"""Reading the source repository: its state, files at a commit, and its root.

Everything here only reads. Commands run with ``GIT_OPTIONAL_LOCKS=0`` so even
``git status`` does not refresh (rewrite) the user's index.

:func:`git_call` is the one place mcpbundle's git modules run the git CLI
(through :mod:`mcpbundle.base.runner`, hooks off); :mod:`mcpbundle.emit.branch`,
:mod:`mcpbundle.affected` and :mod:`mcpbundle.plan.repo_files` use it too.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mcpbundle.base.errors import GitError
from mcpbundle.base.runner import run_bytes, tail
from mcpbundle.git.worktree import git_root

log = logging.getLogger("mcpbundle")

# Never prompt (CI has no terminal), never take optional locks, English messages.
BASE_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GCM_INTERACTIVE": "never"}
# Hooks off for every internal git command (see git_call).
NO_HOOKS = ("-c", "core.hooksPath=/dev/null")


@dataclass(frozen=True)
class GitOutput:
    """What one git command printed, and its exit status."""

    status: int
    stdout: bytes
    stderr: str

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def line(self) -> str:
        """The output's first line, stripped (for commands that print one value)."""
        lines = self.text.strip().splitlines()
        return lines[0].strip() if lines else ""

    @property
    def ok(self) -> bool:
        return self.status == 0


@dataclass(frozen=True)
class SourceState:
    """The checkout a build comes from: its commit, branch and whether it is dirty."""

    commit: str | None  # None: no commit yet (unborn HEAD)
    short: str | None
    dirty: bool  # tracked files modified or staged; untracked files do not count
    date: str | None  # the commit's committer date, git's raw "<epoch> <tz>"
    branch: str | None  # None: detached HEAD


def git_call(
    repo_root: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    stdin: BinaryIO | None = None,
    hooks: bool = False,
) -> GitOutput:
    """Run ``git ARGS`` in ``repo_root``; never raises on a non-zero exit.

    The repository's hooks never run (``-c core.hooksPath=/dev/null``: internal
    plumbing must not start a ``reference-transaction``, ``post-index-change`` or
    ``pre-push`` hook) unless ``hooks=True``. The child runs in its own process
    group through :mod:`mcpbundle.base.runner`, so a signal stops it with mcpbundle.
    """
    full_env = dict(BASE_ENV)
    if env:
        full_env.update(env)
    log.info("+ git %s", shlex.join(args))
    command = ["git", *([] if hooks else NO_HOOKS), *args]
    try:
        done = run_bytes(command, cwd=repo_root, extra_env=full_env, stdin=stdin, quiet=True)
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH", hint="install git") from exc
    except NotADirectoryError as exc:
        raise GitError(f"not a directory: {repo_root}") from exc
    stderr = done.stderr.decode("utf-8", "replace") if done.stderr else ""
    return GitOutput(done.returncode, done.stdout or b"", stderr)


def git_checked(
    repo_root: Path, *args: str, env: Mapping[str, str] | None = None,
    stdin: BinaryIO | None = None, what: str | None = None,
) -> GitOutput:  # fmt: skip
    """:func:`git_call`, raising :class:`GitError` with git's own reason on failure."""
    out = git_call(repo_root, *args, env=env, stdin=stdin)
    if not out.ok:
        raise GitError(f"{what or 'git ' + args[0]} failed: {reason(out.stderr)}")
    return out


def reason(stderr: str) -> str:
    """git's own reason for a failure, on one line: its last meaningful stderr lines."""
    noise = ("hint:", "To ", "Please make sure you have the correct access rights",
             "and the repository exists.")  # fmt: skip
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    kept = [line for line in lines if not line.startswith(noise)]
    return " | ".join(kept[-3:]) or tail(stderr) or "git gave no reason"


def repo_root_of(path: Path) -> Path | None:
    """The top of the (non-bare) git work tree holding ``path``, or None."""
    start = path if path.is_dir() else path.parent
    if git_root(start) is None:
        return None
    out = git_call(start, "rev-parse", "--show-toplevel")
    return Path(out.line).resolve() if out.ok and out.line else None


def source_state(repo_root: Path) -> SourceState:
    head = git_call(repo_root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    commit = head.line if head.ok and head.line else None
    short = date = None
    if commit:
        short = git_checked(repo_root, "rev-parse", "--short", commit).line
        date = git_checked(repo_root, "show", "-s", "--format=%cd", "--date=raw", commit).line
    status = git_checked(
        repo_root, "status", "--porcelain=v1", "-z", "--untracked-files=no",
        "--ignore-submodules=none",
    )  # fmt: skip
    sym = git_call(repo_root, "symbolic-ref", "--quiet", "--short", "HEAD")
    branch = sym.line if sym.ok and sym.line else None
    return SourceState(
        commit=commit, short=short, dirty=bool(status.stdout.strip(b"\0\n")),
        date=date, branch=branch,
    )  # fmt: skip


def is_commit(repo_root: Path, ref: str) -> str | None:
    """The full sha ``ref`` names if it is a commit present locally, else None."""
    if not ref or ref.startswith("-"):
        return None
    out = git_call(repo_root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                   f"{ref}^{{commit}}")  # fmt: skip
    if not out.ok or not out.line:
        return None
    # A shallow clone can know a commit's sha (a boundary parent) without its object.
    present = git_call(repo_root, "cat-file", "-e", out.line)
    return out.line if present.ok else None


def read_file_at(repo_root: Path, ref: str, path: str) -> bytes | None:
    """The bytes of repo-relative ``path`` at commit ``ref``; None if either is missing."""
    if not ref or ref.startswith("-"):
        return None
    clean = Path(path).as_posix().lstrip("/")
    clean = clean.removeprefix("./")
    out = git_call(repo_root, "cat-file", "blob", f"{ref}:{clean}")
    return out.stdout if out.ok else None


def tree_entries(repo_root: Path, treeish: str) -> list[tuple[str, str, str]]:
    """``(mode, sha, path)`` for every non-tree entry under ``treeish``, recursively."""
    out = git_checked(repo_root, "ls-tree", "-r", "-z", "--full-tree", treeish)
    entries: list[tuple[str, str, str]] = []
    for record in out.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, name = record.partition(b"\t")
        mode, _kind, sha = meta.decode().split(" ")
        entries.append((mode, sha, name.decode("utf-8", "surrogateescape")))
    return entries


def split_z(data: bytes) -> list[str]:
    """NUL-separated git output as a list of paths."""
    return [p.decode("utf-8", "surrogateescape") for p in data.split(b"\0") if p]
