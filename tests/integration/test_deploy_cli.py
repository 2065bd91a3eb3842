"""`mcpbundle build --branch/--push` end to end, on real git repos with a bare origin."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from support.gitrepo import commit_all, git, init_repo
from support.gitsnap import snapshot
from support.monorepo import make_monorepo, mcpbundle


@pytest.fixture
def repo(tmp_path: Path, wheelhouse: Path) -> Path:
    root = init_repo(tmp_path / "repo")
    make_monorepo(root, wheelhouse)
    (root / ".gitignore").write_text(".env\ndist/\n")
    commit_all(root, "initial")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(root, "remote", "add", "origin", origin.as_uri())
    git(root, "push", "-q", "origin", "main")
    return root


def test_branch_push_twice_makes_one_commit_and_leaves_checkout_alone(repo: Path) -> None:
    (repo / "ops" / "notes.txt").write_text("untracked\n")
    before = snapshot(repo, ignore_branch="deploy")
    first = mcpbundle(repo, "build", "--branch", "deploy", "--push")
    assert first.returncode == 0, first.stderr
    assert "created branch deploy" in first.stdout
    second = mcpbundle(repo, "build", "--branch", "deploy", "--push")
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    after = snapshot(repo, ignore_branch="deploy")
    # Only refs may move (deploy and origin/deploy): tree, index, HEAD, status, stash may not.
    assert replace(after, refs="") == replace(before, refs="")
    origin = repo.parent / "origin.git"
    log = git(origin, "log", "--format=%H %P", "deploy").splitlines()
    assert len(log) == 1 and log[0].split()[1:] == []  # one orphan commit
    files = git(origin, "ls-tree", "-r", "--name-only", "deploy").split()
    assert "ops/src/acme_utils/__init__.py" in files
    assert "sales/acme_core/__init__.py" in files and "sales/acme_utils/__init__.py" in files
    assert "mcpbundle-manifest.json" in files and "DEPLOY.md" in files
    assert "ops/.env" not in files and "ops/.env.example" in files
    message = git(origin, "log", "-1", "--format=%B", "deploy")
    head = git(repo, "rev-parse", "HEAD").strip()
    assert message.startswith(f"mcpbundle build from {head[:7]}")
    assert f"Source-Commit: {head}" in message
    assert "Built-Servers: ops, sales" in message


def test_dirty_tree_is_refused_unless_allowed(repo: Path) -> None:
    (repo / "ops" / "src" / "server.py").write_text("mcp = None\n")
    refused = mcpbundle(repo, "build", "--branch")
    assert refused.returncode == 1
    assert "--allow-dirty" in refused.stderr and "Traceback" not in refused.stderr
    allowed = mcpbundle(repo, "build", "--branch", "--allow-dirty", "--json")
    assert allowed.returncode == 0, allowed.stderr
    manifest = json.loads(git(repo, "show", "deploy:mcpbundle-manifest.json"))
    assert "source" not in manifest  # the tree depends only on what the servers ship
    assert manifest["servers"]["ops"]["changed-by"]["dirty"] is True
    assert "Source-Dirty: true" in git(repo, "log", "-1", "--format=%B", "deploy")


def test_partial_branch_build_keeps_other_servers(repo: Path) -> None:
    assert mcpbundle(repo, "build", "--branch=deploy").returncode == 0
    sales_before = git(repo, "rev-parse", "deploy:sales")
    (repo / "ops" / "src" / "extra.py").write_text("X = 1\n")
    commit_all(repo, "ops change")
    done = mcpbundle(repo, "build", "--branch=deploy", "ops")
    assert done.returncode == 0, done.stderr
    assert git(repo, "rev-parse", "deploy:sales") == sales_before
    assert "ops/src/extra.py" in git(repo, "ls-tree", "-r", "--name-only", "deploy")
    parents = git(repo, "log", "-1", "--format=%P", "deploy").split()
    assert len(parents) == 1  # history, not a new orphan
    manifest = json.loads(git(repo, "show", "deploy:mcpbundle-manifest.json"))
    assert set(manifest["servers"]) == {"ops", "sales"}


def test_current_branch_is_refused(repo: Path) -> None:
    done = mcpbundle(repo, "build", "--branch", "main")
    assert done.returncode == 2
    assert done.stderr.count("error:") == 1


def test_push_to_another_repository_branch(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "deploy-only.git"
    git(tmp_path, "init", "-q", "--bare", str(other))
    done = mcpbundle(repo, "build", "--branch", "deploy", "--push-to", f"{other.as_uri()}:main")
    assert done.returncode == 0, done.stderr
    assert git(other, "rev-parse", "main") == git(repo, "rev-parse", "deploy")


def test_affected_names_exactly_the_touched_servers(repo: Path) -> None:
    (repo / "libs" / "core" / "src" / "acme_core" / "more.py").write_text("Y = 2\n")
    commit_all(repo, "core change")
    done = mcpbundle(repo, "affected", "--since", "HEAD~1", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document == {
        "servers": ["sales"],
        "matrix": {"include": [{"server": "sales", "path": "sales"}]},
    }


def test_affected_follows_requirement_includes_outside_the_server(repo: Path) -> None:
    (repo / "common").mkdir()
    (repo / "common" / "base.txt").write_text("alpha\n")
    reqs = repo / "sales" / "requirements.txt"
    reqs.write_text(reqs.read_text() + "-r ../common/base.txt\n")
    commit_all(repo, "sales includes a shared requirements file")
    (repo / "common" / "base.txt").write_text("alpha<2\n")
    commit_all(repo, "tighten the shared requirements")
    done = mcpbundle(repo, "affected", "--since", "HEAD~1", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["servers"] == ["sales"]


def test_config_in_a_subdirectory_reads_the_previous_build_back_from_the_branch(
    tmp_path: Path, wheelhouse: Path
) -> None:
    top = init_repo(tmp_path / "top")
    make_monorepo(top / "mcp", wheelhouse)
    (top / "mcp" / ".gitignore").write_text(".env\ndist/\n")
    commit_all(top, "monorepo in a subdirectory")
    assert mcpbundle(top / "mcp", "build", "--branch").returncode == 0
    files = git(top, "ls-tree", "-r", "--name-only", "deploy").split()
    assert "mcpbundle-manifest.json" in files  # the output tree, as in dist/
    (top / "mcp" / "ops" / "src" / "extra.py").write_text("X = 1\n")
    commit_all(top, "ops change")
    # A partial build merges its entry into the manifest it reads back from the branch.
    done = mcpbundle(top / "mcp", "build", "--branch", "deploy", "ops")
    assert done.returncode == 0, done.stderr
    manifest = json.loads(git(top, "show", "deploy:mcpbundle-manifest.json"))
    assert set(manifest["servers"]) == {"ops", "sales"}


HOOKS = (
    "reference-transaction", "post-index-change", "pre-push", "pre-commit", "post-commit",
    "post-checkout", "pre-auto-gc", "post-rewrite",
)  # fmt: skip


def _install_hooks(directory: Path, marks: Path) -> None:
    """A hook script per name that records it ran (and fails, as a hostile hook would)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in HOOKS:
        hook = directory / name
        hook.write_text(f'#!/bin/sh\necho "$0" >> "{marks}/{name}"\nexit 1\n')
        hook.chmod(0o755)


@pytest.mark.parametrize("where", ["git-dir", "hooks-path"])
def test_build_branch_and_push_run_no_hook(repo: Path, tmp_path: Path, where: str) -> None:
    """Hook isolation: plumbing runs with core.hooksPath=/dev/null, --push with --no-verify."""
    marks = tmp_path / "marks"
    marks.mkdir()
    if where == "git-dir":
        _install_hooks(repo / ".git" / "hooks", marks)
    else:
        _install_hooks(tmp_path / "hooks", marks)
        git(repo, "config", "core.hooksPath", str(tmp_path / "hooks"))
    (repo / "ops" / "src" / "extra.py").write_text("X = 1\n")  # untracked: still clean
    first = mcpbundle(repo, "build", "--branch", "deploy", "--push")
    assert first.returncode == 0, first.stderr
    second = mcpbundle(repo, "build", "--branch", "deploy", "ops", "--push")
    assert second.returncode == 0, second.stderr
    assert sorted(p.name for p in marks.iterdir()) == [], "a repository hook ran"
    assert git(repo.parent / "origin.git", "rev-parse", "deploy").strip()
    # --run-hooks: pre-push runs (and this one refuses the push), proving the hooks are live.
    (repo / "ops" / "src" / "extra.py").write_text("X = 2\n")
    hooked = mcpbundle(repo, "build", "--branch", "deploy", "--push", "--run-hooks")
    assert hooked.returncode == 1, hooked.stderr
    assert "push of 'deploy' to 'origin' failed" in hooked.stderr
    assert (marks / "pre-push").is_file()


def _bare(tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    git(tmp_path, "init", "-q", "--bare", str(path))
    return path


def test_configured_push_to_targets_take_a_bare_push_instead_of_origin(
    repo: Path, tmp_path: Path
) -> None:
    _bare(tmp_path, "ops-deploy.git")
    special = _bare(tmp_path, "sales-special.git")
    config = repo / "mcpbundle.toml"
    config.write_text(
        config.read_text()
        + f"[bundle.deploy]\npush-to = 'file://{tmp_path}/{{server}}-deploy.git:main'\n"
    )
    text = config.read_text().replace(
        "[servers.sales]\n", f"[servers.sales]\npush-to = '{special.as_uri()}:live'\n"
    )
    config.write_text(text)
    commit_all(repo, "push targets")
    assert mcpbundle(repo, "validate").returncode == 0
    local = mcpbundle(repo, "build", "--branch")  # no --push: nothing leaves the machine
    assert local.returncode == 0, local.stderr
    assert git(tmp_path / "ops-deploy.git", "for-each-ref").strip() == ""
    done = mcpbundle(repo, "build", "--branch", "--push", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["split"] is True
    assert git(tmp_path / "ops-deploy.git", "rev-parse", "main") == git(
        repo, "rev-parse", "deploy/ops"
    )
    assert git(special, "rev-parse", "live") == git(repo, "rev-parse", "deploy/sales")
    assert git(repo.parent / "origin.git", "for-each-ref", "refs/heads/deploy").strip() == ""
    again = mcpbundle(repo, "build", "--branch", "--push")
    assert again.returncode == 0, again.stderr
    assert "pushed to" not in again.stdout and again.stdout.count("is up to date") == 2


def test_split_and_a_whole_deploy_branch_cannot_share_a_name(repo: Path) -> None:
    assert mcpbundle(repo, "build", "--branch", "deploy").returncode == 0
    refused = mcpbundle(repo, "build", "--branch", "deploy", "--split")
    assert refused.returncode == 2 and refused.stderr.count("error:") == 1
    assert "git branch -m deploy" in refused.stderr
    assert mcpbundle(repo, "build", "--branch", "ship", "--split").returncode == 0
    back = mcpbundle(repo, "build", "--branch", "ship")
    assert back.returncode == 2 and "--split" in back.stderr


def test_bad_push_to_in_the_config_is_one_line(repo: Path) -> None:
    config = repo / "mcpbundle.toml"
    config.write_text(config.read_text() + "[bundle.deploy]\npush-to = 'origin'\n")
    done = mcpbundle(repo, "validate")
    assert done.returncode == 2
    assert "bundle.deploy.push-to" in done.stderr and done.stderr.count("\n") == 1
