"""Deploys that redeploy only what changed (issue 16), on a copy of the example monorepo
with bare remotes: the tree depends only on what the servers ship, per-server branches
(``--split``) and per-server repositories (``--push-to`` with ``{server}``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_build_example import TOOLS, copy_example, hermetic

from support.fastmcpcli import run_inspect, tool_names
from support.gitrepo import commit_all, git, init_repo
from support.monorepo import mcpbundle, tree

SERVERS = ("customer", "finance", "ops")


@pytest.fixture
def example(tmp_path: Path, wheelhouse: Path) -> Path:
    """The example (resolved against the wheelhouse) as a git repo with a bare origin."""
    repo = hermetic(copy_example(tmp_path / "example"), wheelhouse)
    init_repo(repo)
    commit_all(repo, "the example")
    origin = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(origin))
    git(repo, "remote", "add", "origin", origin.as_uri())
    git(repo, "push", "-q", "origin", "main")
    return repo


def _ok(cwd: Path, *args: str) -> str:
    done = mcpbundle(cwd, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _origin(repo: Path) -> Path:
    return repo.parent / "origin.git"


def _touch_core(repo: Path) -> None:
    path = repo / "shared-core" / "src" / "shared_core" / "__init__.py"
    path.write_text(path.read_text() + "\nCORE_REVISION = 2\n")
    commit_all(repo, "touch shared-core (only finance vendors it)")


def _unrelated(repo: Path) -> None:
    (repo / "README.md").write_text((repo / "README.md").read_text() + "\nA note.\n")
    (repo / "notebooks" / "scratch.py").write_text("# excluded from every bundle\n")
    commit_all(repo, "docs and notebooks only")


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_unrelated_commit_makes_no_deploy_commit_and_leaves_dist_alone(example: Path) -> None:
    _ok(example, "build", "--branch", "deploy", "--push")
    _ok(example, "build")
    dist, before, mtimes = example / "dist", tree(example / "dist"), _mtimes(example / "dist")
    manifest = json.loads((dist / "mcpbundle-manifest.json").read_text())
    assert set(manifest) == {"version", "servers"}  # no source commit in the tree
    head = git(example, "rev-parse", "HEAD").strip()
    assert {e["changed-by"]["commit"] for e in manifest["servers"].values()} == {head}
    tip = git(_origin(example), "rev-parse", "deploy")
    _unrelated(example)
    again = _ok(example, "build", "--branch", "deploy", "--push", "--json")
    document = json.loads(again)
    assert document["unchanged"] is True and document["pushed"] == []
    assert [s["changed"] for s in document["servers"]] == [False, False, False]
    assert git(_origin(example), "rev-parse", "deploy") == tip
    assert git(_origin(example), "rev-list", "--count", "deploy").strip() == "1"
    rebuilt = _ok(example, "build")
    assert rebuilt.startswith("up to date")
    assert tree(dist) == before and _mtimes(dist) == mtimes  # byte-identical, not rewritten


def test_touching_one_lib_commits_only_the_servers_that_vendor_it(example: Path) -> None:
    first = json.loads(_ok(example, "build", "--branch", "deploy", "--json"))
    assert [s["changed"] for s in first["servers"]] == [True, True, True]
    old = git(example, "rev-parse", "HEAD").strip()
    _touch_core(example)
    done = json.loads(_ok(example, "build", "--branch", "deploy", "--json"))
    changed = {s["name"]: s["changed"] for s in done["servers"]}
    assert changed == {"ops": False, "customer": False, "finance": True}
    message = git(example, "log", "-1", "--format=%B", "deploy")
    assert "Built-Servers: finance\n" in message
    head = git(example, "rev-parse", "HEAD").strip()
    assert f"Source-Commit: {head}" in message
    manifest = json.loads(git(example, "show", "deploy:mcpbundle-manifest.json"))
    by = {name: e["changed-by"]["commit"] for name, e in manifest["servers"].items()}
    assert by == {"ops": old, "customer": old, "finance": head}
    assert "inputs" not in manifest["servers"]["ops"]
    files = git(example, "ls-tree", "-r", "--name-only", "deploy").split()
    assert ".mcpbundle-output" not in files  # the output marker stays out of deploy trees


def test_split_branches_move_only_for_changed_servers(example: Path) -> None:
    first = json.loads(_ok(example, "build", "--branch", "deploy", "--split", "--push", "--json"))
    assert first["split"] is True
    assert sorted(b["branch"] for b in first["branches"]) == [f"deploy/{n}" for n in SERVERS]
    assert first["commit"] is None  # one commit per branch, none for the whole
    origin = _origin(example)
    tips = {n: git(origin, "rev-parse", f"deploy/{n}").strip() for n in SERVERS}
    ops = set(git(origin, "ls-tree", "-r", "--name-only", "deploy/ops").split())
    assert {"server.py", "requirements.txt", "DEPLOY.md", "mcpbundle-manifest.json"} <= ops
    assert "src/server.py" in ops  # the server's own file, entered through server.py
    assert "src/shared_utils/text.py" in ops and not any("server-" in f for f in ops)
    assert ".mcpbundle-output" not in ops
    deploy_md = git(origin, "show", "deploy/ops:DEPLOY.md")
    assert "Entrypoint: `server.py:mcp`" in deploy_md
    assert "Requirements file: `requirements.txt`" in deploy_md
    _touch_core(example)
    done = json.loads(_ok(example, "build", "--branch", "deploy", "--split", "--push", "--json"))
    moved = {n for n in SERVERS if git(origin, "rev-parse", f"deploy/{n}").strip() != tips[n]}
    assert moved == {"finance"}
    finance = {s["name"]: s for s in done["servers"]}["finance"]
    assert finance["changed"] is True and finance["branch"] == "deploy/finance"
    assert finance["pushed"] == ["origin/deploy/finance"]
    assert finance["commit"] == git(origin, "rev-parse", "deploy/finance").strip()
    assert git(origin, "log", "-1", "--format=%P", "deploy/finance").strip() == tips["finance"]
    assert "Built-Servers: finance\n" in git(origin, "log", "-1", "--format=%B", "deploy/finance")
    assert {s["name"]: s["pushed"] for s in done["servers"]}["ops"] == []
    assert "deploy" not in git(example, "branch", "--list", "deploy").split()


def test_each_split_branch_alone_loads_its_server(example: Path, tmp_path: Path) -> None:
    _ok(example, "build", "--branch", "deploy", "--split", "--push")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for name in SERVERS:
        clone = tmp_path / f"clone-{name}"
        git(tmp_path, "clone", "-q", "--single-branch", "--branch", f"deploy/{name}",
            _origin(example).as_uri(), str(clone))  # fmt: skip
        entry = json.loads((clone / "mcpbundle-manifest.json").read_text())["servers"][name]
        assert entry["path"] == "." and entry["requirements"] == "requirements.txt"
        assert entry["entrypoint"] == "server.py:mcp"
        assert (clone / "requirements.txt").is_file()
        tools = tool_names(run_inspect("server.py", clone))  # as the issue enters it
        assert set(tools) == TOOLS[name], name


def test_push_to_with_server_pushes_only_changed_servers_from_fresh_clones(
    example: Path, tmp_path: Path
) -> None:
    repos = {n: tmp_path / f"{n}-deploy.git" for n in SERVERS}
    for path in repos.values():
        git(tmp_path, "init", "-q", "--bare", str(path))
    target = f"file://{tmp_path}/{{server}}-deploy.git:main"

    def ci_run(label: str) -> dict[str, object]:
        checkout = tmp_path / f"ci-{label}"  # a CI job starts from a fresh clone
        git(tmp_path, "clone", "-q", "--branch", "main", _origin(example).as_uri(), str(checkout))
        return dict(json.loads(_ok(checkout, "build", "--branch", "deploy", "--push-to",
                                   target, "--json")))  # fmt: skip

    first = ci_run("1")
    assert first["split"] is True
    tips = {n: git(p, "rev-parse", "main").strip() for n, p in repos.items()}
    assert set(git(repos["ops"], "ls-tree", "--name-only", "main").split()) >= {
        "src", "requirements.txt", "DEPLOY.md",
    }  # fmt: skip
    _unrelated(example)
    git(example, "push", "-q", "origin", "main")
    assert ci_run("2")["pushed"] == []
    _touch_core(example)
    git(example, "push", "-q", "origin", "main")
    third = ci_run("3")
    pushed = {s["name"]: s["pushed"] for s in third["servers"]}  # type: ignore[union-attr]
    assert pushed == {"ops": [], "customer": [], "finance": [target.replace("{server}", "finance")]}
    after = {n: git(p, "rev-parse", "main").strip() for n, p in repos.items()}
    assert {n for n in SERVERS if after[n] != tips[n]} == {"finance"}
    assert git(repos["finance"], "log", "-1", "--format=%P", "main").strip() == tips["finance"]
