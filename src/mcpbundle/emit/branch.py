"""The git branch writer: commit a built directory as the tip of a branch, and push it.

Plumbing only, so the user's working tree, index, HEAD, stash and current branch
are never touched: blobs are written with ``hash-object -w``, a tree is built in
a *temporary* index (``GIT_INDEX_FILE`` in a temp dir) with ``update-index``,
then ``write-tree``, ``commit-tree`` and ``update-ref NEW OLD``. Passing OLD
makes git refuse the update if the branch moved since we read it.

Author and committer (names and both dates) come from the caller, never from
the user's config, so the same source gives the same commit sha. No hook of the
repository runs (``reference-transaction``, ``post-index-change``: git_call turns
hooks off); a push runs ``pre-push`` only when the caller asks (``run_hooks``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mcpbundle.base.errors import GitError, UsageError
from mcpbundle.base.temp_dirs import temp_dir
from mcpbundle.config.push_targets import split_target
from mcpbundle.git.source import git_call, git_checked, is_commit, reason, tree_entries

_SKIP = {".git"}
_NO_SPLIT = ("-c", "core.splitIndex=false")


@dataclass(frozen=True)
class BranchResult:
    commit: str  # the branch tip after the call
    parent: str | None  # that commit's parent (None: the first, orphan commit)
    created: bool  # the branch did not exist before
    unchanged: bool  # the tree equalled the tip's tree: no commit was made


def deploy_message(
    short: str, full: str, servers: Sequence[str], *, dirty: bool = False,
    removed: Sequence[str] = (),
) -> str:  # fmt: skip
    """The deploy commit's message. ``servers``: those whose bundle changed (``none``
    when only the index files did); ``dirty``: built from uncommitted changes."""
    trailers = [f"Source-Commit: {full}"]
    if dirty:
        trailers.append("Source-Dirty: true")
    trailers.append(f"Built-Servers: {', '.join(servers) if servers else 'none'}")
    if removed:
        trailers.append(f"Removed-Servers: {', '.join(removed)}")
    return f"mcpbundle build from {short}\n\n" + "".join(f"{t}\n" for t in trailers)


def branches_under(repo_root: Path, prefix: str) -> list[str]:
    """Local branches named ``<prefix>/...`` (git cannot have ``prefix`` beside them)."""
    out = git_call(repo_root, "for-each-ref", "--format=%(refname)", f"refs/heads/{prefix}/")
    return sorted(line.removeprefix("refs/heads/") for line in out.text.split() if line)


def check_branch(repo_root: Path, branch: str) -> str:
    """``refs/heads/<branch>`` if mcpbundle may write it; UsageError saying why not."""
    out = git_call(repo_root, "check-ref-format", "--branch", branch) if branch else None
    if (
        out is None
        or not out.ok
        or out.line != branch
        or branch.startswith("-")
        or branch == "HEAD"
    ):
        raise UsageError(
            f"'{branch}' is not a valid branch name",
            where="--branch",
            hint="use a name like 'deploy' (see git check-ref-format)",
        )
    ref = f"refs/heads/{branch}"
    head = git_call(repo_root, "symbolic-ref", "--quiet", "HEAD")
    if head.ok and head.line == ref:
        raise UsageError(
            f"branch '{branch}' is the branch checked out here; writing it would leave "
            "your working tree out of sync with it",
            where="--branch",
            hint="pick another branch (e.g. deploy) or switch to a different branch first",
        )
    listing = git_call(repo_root, "worktree", "list", "--porcelain")
    path = ""
    for line in listing.text.splitlines():
        if line.startswith("worktree "):
            path = line.removeprefix("worktree ")
        elif line == f"branch {ref}":
            raise UsageError(
                f"branch '{branch}' is checked out in the worktree {path}",
                where="--branch",
                hint="pick another branch or switch that worktree to a different branch",
            )
    return ref


def read_tip(repo_root: Path, ref: str) -> str | None:
    out = git_call(repo_root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    return out.line if out.ok and out.line else None


def commit_to_branch(
    *,
    repo_root: Path,
    tree_dir: Path,
    branch: str,
    message: str,
    author_name: str,
    author_email: str,
    date: str,
    replace_paths: Sequence[str] | None = None,
) -> BranchResult:
    """Commit ``tree_dir`` as the new tip of ``refs/heads/<branch>`` (see module doc).

    ``replace_paths=None``: the new tree is exactly ``tree_dir``. Otherwise start
    from the tip's tree and replace only those repo-relative paths (files or
    folders) with what ``tree_dir`` has under them (nothing: they are removed).
    """
    ref = check_branch(repo_root, branch)
    roots = None if replace_paths is None else [_clean_rel(p) for p in replace_paths]
    if not tree_dir.is_dir():
        raise GitError(f"'{tree_dir}' is not a directory", where="commit_to_branch")
    tip = read_tip(repo_root, ref)
    with temp_dir("git") as tmp:
        index_env = {"GIT_INDEX_FILE": str(tmp / "index")}
        entries = _hash_tree_dir(repo_root, tree_dir, roots, tmp)
        if roots is not None and tip is not None:
            kept = [e for e in tree_entries(repo_root, tip) if not _under_any(e[2], roots)]
            entries = kept + entries
        _write_index(repo_root, entries, tmp, index_env)
        tree = git_checked(
            repo_root, *_NO_SPLIT, "write-tree", env=index_env, what="git write-tree"
        ).line
        if tip is not None:
            tip_tree = git_checked(repo_root, "rev-parse", f"{tip}^{{tree}}").line
            if tree == tip_tree:
                parent = git_call(repo_root, "rev-parse", "--verify", "--quiet", f"{tip}^1")
                return BranchResult(
                    commit=tip, parent=parent.line if parent.ok else None,
                    created=False, unchanged=True,
                )  # fmt: skip
        commit = _commit_tree(
            repo_root, tree=tree, parent=tip, message=message, tmp=tmp,
            author_name=author_name, author_email=author_email, date=date,
        )  # fmt: skip
    _update_ref(repo_root, branch=branch, ref=ref, new=commit, old=tip)
    return BranchResult(commit=commit, parent=tip, created=tip is None, unchanged=False)


def _clean_rel(path: str) -> str:
    pure = PurePosixPath(path.replace("\\", "/"))
    parts = [p for p in pure.parts if p not in ("", ".")]
    if pure.is_absolute() or not parts or ".." in parts:
        raise UsageError(
            f"replace path {path!r} must be a relative path inside the bundle",
            where="commit_to_branch",
        )
    return "/".join(parts)


def _under_any(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root + "/") for root in roots)


def _scan(tree_dir: Path, roots: Sequence[str] | None) -> list[tuple[str, Path]]:
    """``(repo-relative posix path, absolute path)`` of every file and symlink to commit."""
    starts = [tree_dir] if roots is None else [tree_dir / root for root in roots]
    found: list[tuple[str, Path]] = []
    for start in starts:
        if start.is_symlink() or start.is_file():
            found.append((start.relative_to(tree_dir).as_posix(), start))
            continue
        if not start.is_dir():
            continue  # a replaced path the build no longer has: it is removed
        for here, dirs, files in os.walk(start):
            base = Path(here)
            dirs[:] = sorted(d for d in dirs if d not in _SKIP)
            for name in [*(d for d in dirs if (base / d).is_symlink()), *files]:
                if name not in _SKIP:
                    found.append(((base / name).relative_to(tree_dir).as_posix(), base / name))
    return sorted(set(found))


def _hash_tree_dir(
    repo_root: Path, tree_dir: Path, roots: Sequence[str] | None, tmp: Path
) -> list[tuple[str, str, str]]:
    """Write every file under ``tree_dir`` (or its ``roots``) as a blob: ``(mode, sha, path)``."""
    files = _scan(tree_dir, roots)
    sources: list[Path] = []
    modes: list[str] = []
    links = tmp / "links"
    for number, (rel, path) in enumerate(files):
        if "\n" in rel or "\r" in rel:
            raise GitError(f"cannot commit a file name with a line break: {rel!r}")
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            links.mkdir(exist_ok=True)
            target = links / str(number)
            target.write_bytes(os.fsencode(os.readlink(path)))
            sources.append(target)
            modes.append("120000")
        else:
            sources.append(path.resolve())
            modes.append("100755" if info.st_mode & stat.S_IXUSR else "100644")
    if not files:
        return []
    paths_file = tmp / "paths"
    paths_file.write_bytes(b"".join(os.fsencode(p) + b"\n" for p in sources))
    with paths_file.open("rb") as stdin:
        out = git_checked(
            repo_root, "hash-object", "-w", "--no-filters", "--stdin-paths",
            stdin=stdin, what="git hash-object",
        )  # fmt: skip
    shas = out.text.split()
    if len(shas) != len(files):
        raise GitError(f"git hash-object returned {len(shas)} ids for {len(files)} files")
    return [(mode, sha, rel) for mode, sha, (rel, _) in zip(modes, shas, files, strict=True)]


def _write_index(
    repo_root: Path, entries: Sequence[tuple[str, str, str]], tmp: Path, env: dict[str, str]
) -> None:
    if not entries:
        return  # a missing index file is an empty index: write-tree gives the empty tree
    info = tmp / "index-info"
    info.write_bytes(
        b"".join(
            f"{mode} {sha}\t".encode() + os.fsencode(path) + b"\0" for mode, sha, path in entries
        )
    )
    with info.open("rb") as stdin:
        git_checked(
            repo_root, *_NO_SPLIT, "update-index", "--add", "-z", "--index-info",
            env=env, stdin=stdin, what="git update-index",
        )  # fmt: skip


def _commit_tree(
    repo_root: Path,
    *,
    tree: str,
    parent: str | None,
    message: str,
    tmp: Path,
    author_name: str,
    author_email: str,
    date: str,
) -> str:
    env = {
        "GIT_AUTHOR_NAME": author_name,
        "GIT_AUTHOR_EMAIL": author_email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": author_name,
        "GIT_COMMITTER_EMAIL": author_email,
        "GIT_COMMITTER_DATE": date,
    }
    message_file = tmp / "message"
    message_file.write_bytes(message.encode())
    parents = ["-p", parent] if parent else []
    out = git_checked(
        repo_root, "commit-tree", "--no-gpg-sign", tree, *parents, "-F", str(message_file),
        env=env, what="git commit-tree",
    )  # fmt: skip
    return out.line


def _update_ref(repo_root: Path, *, branch: str, ref: str, new: str, old: str | None) -> None:
    expected = old or "0" * len(new)
    out = git_call(repo_root, "update-ref", "-m", "mcpbundle build", ref, new, expected)
    if out.ok:
        return
    if read_tip(repo_root, ref) != old:
        raise GitError(f"branch '{branch}' moved while building", hint="run the build again")
    raise GitError(f"could not update branch '{branch}': {reason(out.stderr)}")


# -- pushing -------------------------------------------------------------------------


def remote_tip(repo_root: Path, *, remote: str, branch: str) -> str | None:
    """The sha ``refs/heads/<branch>`` has on ``remote`` (a name or URL), None if absent."""
    _check_remote(remote)
    ref = f"refs/heads/{branch}"
    out = git_call(repo_root, "ls-remote", remote, ref)
    if not out.ok:
        raise GitError(f"cannot read '{remote}': {reason(out.stderr)}")
    for line in out.text.splitlines():
        sha, _, name = line.partition("\t")
        if name.strip() == ref:
            return sha.strip()
    return None


def sync_from_remote(
    repo_root: Path, *, remote: str, branch: str, remote_branch: str | None = None
) -> str | None:
    """Bring the local branch up to what ``remote`` has, before building on top of it.

    Returns the remote's sha (None: the remote has no such branch): pass it to
    :func:`push` as ``expected_old``. A missing local branch is created at the
    remote tip; one behind is fast-forwarded; one ahead is kept; one that has
    diverged is refused. Only ``refs/heads/<branch>`` and objects are written.
    ``remote_branch``: the branch's name on ``remote`` (default: ``branch``), e.g.
    ``main`` of the repository a ``--push-to`` names.
    """
    ref = check_branch(repo_root, branch)
    theirs = remote_branch or branch
    remote_sha = remote_tip(repo_root, remote=remote, branch=theirs)
    if remote_sha is None:
        return None
    if is_commit(repo_root, remote_sha) is None:
        fetched = git_call(
            repo_root, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", remote,
            f"refs/heads/{theirs}",
        )  # fmt: skip
        if not fetched.ok:
            raise GitError(f"cannot fetch '{theirs}' from '{remote}': {reason(fetched.stderr)}")
        if is_commit(repo_root, remote_sha) is None:
            raise GitError(
                f"branch '{theirs}' moved on '{remote}' while fetching", hint="run the build again"
            )
    local = read_tip(repo_root, ref)
    if local == remote_sha or (local is not None and _is_ancestor(repo_root, remote_sha, local)):
        return remote_sha
    if local is None or _is_ancestor(repo_root, local, remote_sha):
        _update_ref(repo_root, branch=branch, ref=ref, new=remote_sha, old=local)
        return remote_sha
    raise GitError(
        f"local branch '{branch}' and '{theirs}' on '{remote}' have diverged",
        hint=f"drop the local one (git branch -D {branch}) and build again",
    )


def _is_ancestor(repo_root: Path, older: str, newer: str) -> bool:
    return git_call(repo_root, "merge-base", "--is-ancestor", older, newer).ok


def push(
    repo_root: Path, *, remote: str, branch: str, expected_old: str | None, run_hooks: bool = False
) -> None:
    """Push ``refs/heads/<branch>``, refusing if the remote moved from ``expected_old``.

    Hooks (``pre-push``) are skipped unless ``run_hooks``."""
    _check_remote(remote)
    ref = f"refs/heads/{branch}"
    lease = f"--force-with-lease={ref}:{expected_old or ''}"
    out = git_call(
        repo_root, "push", *_push_flags(run_hooks), lease, remote, f"{ref}:{ref}", hooks=run_hooks
    )
    if not out.ok:
        raise GitError(f"push of '{branch}' to '{remote}' failed: {reason(out.stderr)}")


def _push_flags(run_hooks: bool) -> tuple[str, ...]:
    return () if run_hooks else ("--no-verify",)


def push_to(
    repo_root: Path, *, target: str, commit: str, run_hooks: bool = False,
    expected_old: str | None = None, known_old: bool = False,
) -> bool:  # fmt: skip
    """Push ``commit`` to the branch ``target`` names, with lease semantics (hooks as
    :func:`push`). ``known_old``: ``expected_old`` is what the target had when the
    build read it (else it is read now). False when the target already holds
    ``commit``: nothing is pushed."""
    url, branch = split_target(target)
    check = git_call(repo_root, "check-ref-format", "--branch", branch)
    if not check.ok or check.line != branch:
        raise UsageError(f"'{branch}' is not a valid branch name", where="--push-to")
    ref = f"refs/heads/{branch}"
    old = expected_old if known_old else remote_tip(repo_root, remote=url, branch=branch)
    if old == commit:
        return False
    out = git_call(
        repo_root, "push", *_push_flags(run_hooks), f"--force-with-lease={ref}:{old or ''}", url,
        f"{commit}:{ref}", hooks=run_hooks,
    )  # fmt: skip
    if not out.ok:
        raise GitError(f"push to '{url}' branch '{branch}' failed: {reason(out.stderr)}")
    return True


def _check_remote(remote: str) -> None:
    if not remote or remote.startswith("-"):
        raise UsageError(f"'{remote}' is not a remote name or URL", where="--remote")
