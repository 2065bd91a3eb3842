"""The branch writer and source reader against real repositories in tmp dirs."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from mcpbundle.base.errors import GitError, UsageError
from mcpbundle.emit import branch as gitbranch
from mcpbundle.emit.branch import (
    commit_to_branch,
    deploy_message,
    push,
    push_to,
    remote_tip,
    split_target,
    sync_from_remote,
)
from mcpbundle.git.source import read_file_at, repo_root_of, source_state
from support.gitrepo import commit_all, git, init_repo
from support.gitsnap import snapshot, write_files

DATE = "1767323045 +0000"

Commit = Callable[..., gitbranch.BranchResult]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    repo = init_repo(tmp_path / "src")
    write_files(repo, {"servers/ops/server.py": "print('ops')\n", "README.md": "hi\n"})
    commit_all(repo, "first")
    return repo


@pytest.fixture
def built(tmp_path: Path) -> Path:
    return write_files(
        tmp_path / "dist",
        {
            "server-ops/server.py": "ops = 1\n",
            "server-ops/requirements.txt": "fastmcp==2.12.0\n",
            "server-web/server.py": "web = 1\n",
            "mcpbundle-manifest.json": "{}\n",
            "DEPLOY.md": "# deploy\n",
        },
    )


def build(
    repo: Path, tree: Path, *, branch: str = "deploy", **kw: object
) -> gitbranch.BranchResult:
    args: dict[str, object] = {
        "repo_root": repo,
        "tree_dir": tree,
        "branch": branch,
        "message": deploy_message("abc1234", "abc1234" + "0" * 33, ["ops", "web"]),
        "author_name": "mcpbundle",
        "author_email": "mcpbundle@localhost",
        "date": DATE,
    }
    args.update(kw)
    return commit_to_branch(**args)  # type: ignore[arg-type]


def files_on(repo: Path, rev: str) -> dict[str, str]:
    out = git(repo, "ls-tree", "-r", "--full-tree", rev)
    result = {}
    for line in out.splitlines():
        meta, path = line.split("\t")
        mode, _, sha = meta.split()
        result[path] = mode + ":" + git(repo, "cat-file", "blob", sha)
    return result


def make_origin(tmp_path: Path, source: Path, name: str = "origin.git") -> str:
    bare = tmp_path / name
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(bare))
    url = bare.as_uri()
    git(source, "remote", "add", "origin", url)
    git(source, "push", "-q", "origin", "main")
    return url


# -- commit_to_branch never touches the checkout --------------------------------------


def test_orphan_first_commit_on_clean_repo(source: Path, built: Path) -> None:
    before = snapshot(source, ignore_branch="deploy")
    result = build(source, built)
    assert snapshot(source, ignore_branch="deploy") == before
    assert result.created
    assert not result.unchanged
    assert result.parent is None
    assert git(source, "rev-parse", "refs/heads/deploy").strip() == result.commit
    assert git(source, "rev-list", "--parents", "-n1", result.commit).split() == [result.commit]
    assert set(files_on(source, "deploy")) == {
        "server-ops/server.py", "server-ops/requirements.txt", "server-web/server.py",
        "mcpbundle-manifest.json", "DEPLOY.md",
    }  # fmt: skip
    body = git(
        source, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%ad|%cd|%B", "--date=raw", "deploy"
    )
    assert body.startswith(
        "mcpbundle <mcpbundle@localhost>|mcpbundle <mcpbundle@localhost>|"
        f"{DATE}|{DATE}|mcpbundle build from abc1234\n\nSource-Commit: "
    )
    assert "Built-Servers: ops, web\n" in body


def test_dirty_staged_untracked_and_stash_untouched(source: Path, built: Path) -> None:
    (source / "README.md").write_text("changed, unstaged\n")
    write_files(source, {"staged.txt": "staged\n"})
    git(source, "add", "staged.txt")
    write_files(source, {"servers/ops/new.py": "untracked\n"})
    write_files(source, {"stashme.txt": "x\n"})
    git(source, "stash", "push", "-q", "--include-untracked", "--", "stashme.txt")
    before = snapshot(source, ignore_branch="deploy")
    assert before.status
    assert before.stash
    first = build(source, built)
    (built / "server-web" / "server.py").write_text("web = 2\n")
    second = build(source, built)
    assert snapshot(source, ignore_branch="deploy") == before
    assert second.parent == first.commit
    assert not second.created
    assert "staged.txt" not in files_on(source, "deploy")


def test_detached_head(source: Path, built: Path) -> None:
    commit_all(source, "second")
    git(source, "checkout", "-q", "--detach", "HEAD~1")
    before = snapshot(source, ignore_branch="deploy")
    result = build(source, built)
    assert snapshot(source, ignore_branch="deploy") == before
    assert result.created
    assert source_state(source).branch is None


def test_no_op_rebuild_makes_no_commit(source: Path, built: Path) -> None:
    first = build(source, built)
    before = snapshot(source)
    again = build(source, built, message="a different message\n")
    assert snapshot(source) == before
    assert again.unchanged
    assert not again.created
    assert again.commit == first.commit
    assert again.parent is None
    assert git(source, "rev-list", "--count", "deploy").strip() == "1"


def test_history_grows_with_parent(source: Path, built: Path) -> None:
    first = build(source, built)
    (built / "DEPLOY.md").write_text("# deploy v2\n")
    second = build(source, built)
    assert second.parent == first.commit
    assert not second.unchanged
    assert git(source, "rev-list", "--count", "deploy").strip() == "2"


def test_same_inputs_give_same_sha_in_two_clones(
    tmp_path: Path, source: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = make_origin(tmp_path, source)
    shas = []
    for name in ("clone-a", "clone-b"):
        clone = tmp_path / name
        git(tmp_path, "clone", "-q", url, str(clone))
        os.utime(clone / "README.md", (1, 1))  # different stat data must not matter
        # Neither the environment's nor the repo's identity may leak into the commit.
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"2030-01-0{len(shas) + 1}T00:00:00+00:00")
        monkeypatch.setenv("GIT_AUTHOR_NAME", name)
        git(clone, "config", "user.name", name)
        first = build(clone, built)
        (built / "DEPLOY.md").write_text("# v2\n")
        second = build(clone, built)
        (built / "DEPLOY.md").write_text("# deploy\n")
        shas.append((first.commit, second.commit))
    assert shas[0] == shas[1]


def test_partial_replace_keeps_other_folders(source: Path, built: Path, tmp_path: Path) -> None:
    build(source, built)
    partial = write_files(
        tmp_path / "partial",
        {
            "server-ops/server.py": "ops = 2\n",
            "server-web/server.py": "must not be taken\n",
            "mcpbundle-manifest.json": '{"v": 2}\n',
            "DEPLOY.md": "# deploy 2\n",
        },
    )
    before = snapshot(source, ignore_branch="deploy")
    result = build(
        source, partial, replace_paths=["server-ops", "mcpbundle-manifest.json", "DEPLOY.md"]
    )
    assert snapshot(source, ignore_branch="deploy") == before
    files = files_on(source, "deploy")
    assert files["server-ops/server.py"].endswith("ops = 2\n")
    assert "server-ops/requirements.txt" not in files  # replaced folder: stale files go
    assert files["server-web/server.py"].endswith("web = 1\n")  # kept from the tip
    assert files["mcpbundle-manifest.json"].endswith('{"v": 2}\n')
    assert result.parent is not None


def test_partial_replace_removes_a_path_the_build_lacks(
    source: Path, built: Path, tmp_path: Path
) -> None:
    build(source, built)
    empty = tmp_path / "empty"
    empty.mkdir()
    build(source, empty, replace_paths=["server-web/"])
    assert not any(p.startswith("server-web/") for p in files_on(source, "deploy"))
    assert "server-ops/server.py" in files_on(source, "deploy")


def test_partial_on_missing_branch_takes_only_named_paths(source: Path, built: Path) -> None:
    result = build(source, built, replace_paths=["server-ops"])
    assert result.created
    assert set(files_on(source, "deploy")) == {
        "server-ops/server.py",
        "server-ops/requirements.txt",
    }


def test_partial_rejects_escaping_path(source: Path, built: Path) -> None:
    with pytest.raises(UsageError, match="relative path inside"):
        build(source, built, replace_paths=["../x"])


def test_executable_bit_preserved(source: Path, built: Path) -> None:
    script = built / "server-ops" / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    build(source, built)
    files = files_on(source, "deploy")
    assert files["server-ops/run.sh"].startswith("100755:")
    assert files["server-ops/server.py"].startswith("100644:")
    script.chmod(0o644)
    assert not build(source, built).unchanged  # a mode change is a change


def test_gitignore_and_filters_do_not_apply(source: Path, built: Path) -> None:
    (source / ".gitattributes").write_text("*.txt text eol=crlf\n")
    (built / ".gitignore").write_text("*.txt\n")
    build(source, built)
    files = files_on(source, "deploy")
    assert files["server-ops/requirements.txt"] == "100644:fastmcp==2.12.0\n"
    assert ".gitignore" in files


def test_invalid_branch_name_is_refused(source: Path, built: Path) -> None:
    for bad in ("bad..name", "-x", "a b", "HEAD", "@{-1}", "x.lock", ""):
        with pytest.raises(UsageError, match="not a valid branch name") as info:
            build(source, built, branch=bad)
        assert info.value.exit_code == 2


def test_current_branch_is_refused(source: Path, built: Path) -> None:
    before = snapshot(source)
    with pytest.raises(UsageError, match="checked out here") as info:
        build(source, built, branch="main")
    assert info.value.exit_code == 2
    assert snapshot(source) == before


def test_branch_checked_out_in_another_worktree_is_refused(
    source: Path, built: Path, tmp_path: Path
) -> None:
    git(source, "worktree", "add", "-q", "-b", "deploy", str(tmp_path / "wt"))
    with pytest.raises(UsageError, match="worktree"):
        build(source, built)


def test_branch_moved_while_building(
    source: Path, built: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build(source, built)
    (built / "DEPLOY.md").write_text("# moved\n")
    real = gitbranch._commit_tree

    def racing(repo_root: Path, **kw: object) -> str:
        other = git(
            source, "commit-tree", "-m", "other", "-p", first.commit, first.commit + "^{tree}"
        ).strip()
        git(source, "update-ref", "refs/heads/deploy", other)
        return real(repo_root, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(gitbranch, "_commit_tree", racing)
    with pytest.raises(GitError, match="moved while building; run the build again") as info:
        build(source, built)
    assert info.value.exit_code == 1
    assert git(source, "rev-parse", "deploy").strip() != first.commit


def test_bad_date_is_a_git_error(source: Path, built: Path) -> None:
    with pytest.raises(GitError, match="commit-tree"):
        build(source, built, date="not a date at all")


# -- pushing -------------------------------------------------------------------------


def test_push_creates_and_updates_remote_branch(tmp_path: Path, source: Path, built: Path) -> None:
    url = make_origin(tmp_path, source)
    assert remote_tip(source, remote="origin", branch="deploy") is None
    first = build(source, built)
    push(source, remote="origin", branch="deploy", expected_old=None)
    assert remote_tip(source, remote=url, branch="deploy") == first.commit
    (built / "DEPLOY.md").write_text("# v2\n")
    second = build(source, built)
    push(source, remote="origin", branch="deploy", expected_old=first.commit)
    assert remote_tip(source, remote="origin", branch="deploy") == second.commit


def test_rejected_push_leaves_remote_untouched(tmp_path: Path, source: Path, built: Path) -> None:
    url = make_origin(tmp_path, source)
    build(source, built)
    push(source, remote="origin", branch="deploy", expected_old=None)
    lease = remote_tip(source, remote="origin", branch="deploy")
    # Another clone pushes in between.
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", url, str(other))
    git(other, "fetch", "-q", "origin", "deploy:deploy")
    (built / "DEPLOY.md").write_text("# from the other clone\n")
    theirs = build(other, built)
    push(other, remote="origin", branch="deploy", expected_old=lease)
    # Ours, built on the old tip, must be refused.
    (built / "DEPLOY.md").write_text("# ours\n")
    build(source, built)
    with pytest.raises(
        GitError, match=r"push of 'deploy' to 'origin' failed: .*(stale info|rejected)"
    ) as info:
        push(source, remote="origin", branch="deploy", expected_old=lease)
    assert info.value.exit_code == 1
    assert "\n" not in str(info.value)
    assert remote_tip(source, remote="origin", branch="deploy") == theirs.commit


def test_push_to_unknown_remote_is_one_line_git_error(source: Path, built: Path) -> None:
    build(source, built)
    with pytest.raises(GitError, match="does not appear to be a git repository") as info:
        push(source, remote="nosuch", branch="deploy", expected_old=None)
    assert "\n" not in str(info.value)


def test_push_to_second_repository_main(tmp_path: Path, source: Path, built: Path) -> None:
    second = tmp_path / "deploy-repo.git"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(second))
    result = build(source, built)
    before = snapshot(source, ignore_branch="deploy")
    push_to(source, target=f"{second.as_uri()}:main", commit=result.commit)
    assert git(second, "rev-parse", "main").strip() == result.commit
    (built / "DEPLOY.md").write_text("# v2\n")
    again = build(source, built)
    push_to(source, target=f"{second.as_uri()}:main", commit=again.commit)
    assert git(second, "rev-parse", "main").strip() == again.commit
    assert snapshot(source, ignore_branch="deploy") == before


def test_push_to_missing_repository_fails_cleanly(
    tmp_path: Path, source: Path, built: Path
) -> None:
    result = build(source, built)
    target = f"{(tmp_path / 'nope.git').as_uri()}:main"
    with pytest.raises(GitError) as info:
        push_to(source, target=target, commit=result.commit)
    assert info.value.exit_code == 1
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("file:///x/y.git:main", ("file:///x/y.git", "main")),
        ("git@host:org/repo.git:main", ("git@host:org/repo.git", "main")),
        ("origin:main", ("origin", "main")),
        ("https://host:8443/org/r.git:release/v1", ("https://host:8443/org/r.git", "release/v1")),
        ("ssh://git@host:22/org/r.git:deploy", ("ssh://git@host:22/org/r.git", "deploy")),
    ],
)
def test_split_target(target: str, expected: tuple[str, str]) -> None:
    assert split_target(target) == expected


@pytest.mark.parametrize(
    "target",
    ["origin", "https://host/x.git", "https://host:8443/x.git", "git@host:x.git", "a:", ":b"],
)
def test_split_target_without_branch(target: str) -> None:
    with pytest.raises(UsageError, match="does not name a branch"):
        split_target(target)


def test_sync_from_remote_in_a_fresh_clone(tmp_path: Path, source: Path, built: Path) -> None:
    url = make_origin(tmp_path, source)
    first = build(source, built)
    push(source, remote="origin", branch="deploy", expected_old=None)
    ci = tmp_path / "ci"
    git(tmp_path, "clone", "-q", "--single-branch", "--branch", "main", url, str(ci))
    before = snapshot(ci, ignore_branch="deploy")
    lease = sync_from_remote(ci, remote="origin", branch="deploy")
    assert lease == first.commit
    assert git(ci, "rev-parse", "deploy").strip() == first.commit
    (built / "DEPLOY.md").write_text("# ci\n")
    second = build(ci, built)
    assert second.parent == first.commit  # history continues, no orphan
    push(ci, remote="origin", branch="deploy", expected_old=lease)
    assert remote_tip(ci, remote="origin", branch="deploy") == second.commit
    assert snapshot(ci, ignore_branch="deploy") == before


def test_sync_from_remote_without_remote_branch(tmp_path: Path, source: Path) -> None:
    make_origin(tmp_path, source)
    assert sync_from_remote(source, remote="origin", branch="deploy") is None


def test_sync_from_remote_refuses_diverged(tmp_path: Path, source: Path, built: Path) -> None:
    make_origin(tmp_path, source)
    build(source, built)
    push(source, remote="origin", branch="deploy", expected_old=None)
    git(source, "branch", "-f", "deploy", "main")  # unrelated local history
    with pytest.raises(GitError, match="diverged"):
        sync_from_remote(source, remote="origin", branch="deploy")


# -- gitsource -----------------------------------------------------------------------


def test_source_state_clean_dirty_untracked(source: Path) -> None:
    state = source_state(source)
    head = git(source, "rev-parse", "HEAD").strip()
    assert state.commit == head
    assert head.startswith(state.short or "-")
    assert state.branch == "main"
    assert not state.dirty
    assert state.date == git(source, "show", "-s", "--format=%cd", "--date=raw").strip()
    write_files(source, {"untracked.txt": "x\n"})
    assert not source_state(source).dirty
    os.utime(source / "README.md", (5, 5))  # touched, same content: still clean
    before = snapshot(source)
    assert not source_state(source).dirty
    assert snapshot(source) == before  # status did not rewrite the index
    (source / "README.md").write_text("changed\n")
    assert source_state(source).dirty
    git(source, "checkout", "-q", "--", "README.md")
    git(source, "add", "untracked.txt")
    assert source_state(source).dirty


def test_source_state_unborn(tmp_path: Path) -> None:
    repo = init_repo(tmp_path / "new")
    state = source_state(repo)
    assert state.commit is None
    assert state.short is None
    assert state.date is None
    assert state.branch == "main"
    assert not state.dirty


def test_read_file_at_and_repo_root_of(source: Path, tmp_path: Path) -> None:
    first = git(source, "rev-parse", "HEAD").strip()
    (source / "README.md").write_text("new\n")
    commit_all(source, "second")
    assert read_file_at(source, first, "README.md") == b"hi\n"
    assert read_file_at(source, "HEAD", "./README.md") == b"new\n"
    assert read_file_at(source, first, "missing.txt") is None
    assert read_file_at(source, "no-such-ref", "README.md") is None
    assert repo_root_of(source / "servers" / "ops") == source.resolve()
    assert repo_root_of(source / "servers" / "ops" / "server.py") == source.resolve()
    outside = tmp_path / "outside"
    outside.mkdir()
    assert repo_root_of(outside) is None
