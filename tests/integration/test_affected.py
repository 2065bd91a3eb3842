"""Which servers a change affects, against real repositories in tmp dirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.affected import AffectedResult, ServerScope, affected, to_json
from mcpbundle.base.errors import UsageError
from support.gitrepo import commit_all, git, init_repo
from support.gitsnap import snapshot, write_files

CONFIG = """\
[bundle]
output = "dist"

[shared.core]
path = "libs/core"

[shared.db]
path = "libs/db"
requires = ["core"]

[servers.ops]
path = "servers/ops"
entrypoint = "server.py"
shared = ["db"]

[servers.web]
path = "servers/web"
entrypoint = "server.py"
shared = ["core"]
requirements = "../../reqs/web.txt"

[servers.solo]
path = "servers/solo"
entrypoint = "server.py"
"""

SCOPES = (
    ServerScope("ops", "servers/ops", ("servers/ops", "libs/db", "libs/core"), ("db", "core")),
    ServerScope("web", "servers/web", ("servers/web", "libs/core", "reqs/web.txt"), ("core",)),
    ServerScope("solo", "servers/solo", ("servers/solo",), ()),
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "mono")
    write_files(
        root,
        {
            "mcpbundle.toml": CONFIG,
            ".gitignore": "dist/\n*.pyc\n",
            "servers/ops/server.py": "ops\n",
            "servers/web/server.py": "web\n",
            "servers/solo/server.py": "solo\n",
            "libs/core/core/__init__.py": "core\n",
            "libs/db/db/__init__.py": "db\n",
            "reqs/web.txt": "httpx\n",
            "docs/readme.md": "docs\n",
        },
    )
    commit_all(root, "base")
    git(root, "tag", "base")
    return root


def run(repo: Path, since: str = "base") -> AffectedResult:
    return affected(repo_root=repo, since=since, config_path=repo / "mcpbundle.toml", scopes=SCOPES)


def edit_config(repo: Path, old: str, new: str) -> None:
    path = repo / "mcpbundle.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_nothing_changed(repo: Path) -> None:
    assert run(repo) == AffectedResult([], None)


def test_server_change_committed(repo: Path) -> None:
    (repo / "servers/web/server.py").write_text("web 2\n")
    commit_all(repo, "web")
    assert run(repo) == AffectedResult(["web"], None)


def test_unrelated_change_affects_nothing(repo: Path) -> None:
    (repo / "docs/readme.md").write_text("more docs\n")
    commit_all(repo)
    assert run(repo).servers == []


def test_shared_lib_change_affects_only_its_users(repo: Path) -> None:
    (repo / "libs/db/db/__init__.py").write_text("db 2\n")
    commit_all(repo)
    assert run(repo).servers == ["ops"]
    (repo / "libs/core/core/__init__.py").write_text("core 2\n")
    commit_all(repo)
    assert run(repo).servers == ["ops", "web"]


def test_requirements_file_outside_server_dir(repo: Path) -> None:
    (repo / "reqs/web.txt").write_text("httpx\nrich\n")
    commit_all(repo)
    assert run(repo).servers == ["web"]


def test_prefix_is_a_path_boundary(repo: Path) -> None:
    write_files(repo, {"servers/ops-old/x.py": "x\n"})
    commit_all(repo)
    assert run(repo).servers == []


def test_working_tree_unstaged_staged_untracked_deleted(repo: Path) -> None:
    (repo / "servers/solo/server.py").write_text("unstaged\n")
    assert run(repo).servers == ["solo"]
    git(repo, "checkout", "--", "servers/solo/server.py")
    write_files(repo, {"servers/web/new.py": "staged\n"})
    git(repo, "add", "servers/web/new.py")
    assert run(repo).servers == ["web"]
    git(repo, "rm", "-q", "--cached", "servers/web/new.py")
    assert run(repo).servers == ["web"]  # now untracked, still counts
    (repo / "servers/web/new.py").unlink()
    write_files(repo, {"servers/ops/cache.pyc": "ignored\n", "dist/ops/x": "ignored\n"})
    assert run(repo).servers == []
    (repo / "servers/ops/server.py").unlink()
    assert run(repo).servers == ["ops"]


def test_affected_never_touches_the_checkout(repo: Path) -> None:
    (repo / "servers/solo/server.py").write_text("unstaged\n")
    write_files(repo, {"servers/web/new.py": "staged\n", "libs/db/untracked.py": "u\n"})
    git(repo, "add", "servers/web/new.py")
    before = snapshot(repo)
    assert run(repo).servers == ["ops", "web", "solo"]
    assert snapshot(repo) == before


def test_committed_then_reverted_in_working_tree(repo: Path) -> None:
    (repo / "servers/web/server.py").write_text("web 2\n")
    commit_all(repo)
    (repo / "servers/web/server.py").write_text("web\n")
    assert run(repo).servers == []  # the net state equals 'since'


def test_config_bundle_change_affects_all(repo: Path) -> None:
    edit_config(repo, 'output = "dist"', 'output = "out"')
    commit_all(repo)
    result = run(repo)
    assert result.servers == ["ops", "web", "solo"]
    assert result.reason_all is not None
    assert "[bundle]" in result.reason_all


def test_config_new_top_level_table_affects_all(repo: Path) -> None:
    (repo / "mcpbundle.toml").write_text(CONFIG + '\n[check]\nignore = ["x"]\n')
    assert run(repo).servers == ["ops", "web", "solo"]


def test_config_server_table_affects_that_server(repo: Path) -> None:
    edit_config(repo, 'path = "servers/solo"\nentrypoint = "server.py"',
                'path = "servers/solo"\nentrypoint = "server.py"\nshim = "always"')  # fmt: skip
    commit_all(repo)
    assert run(repo) == AffectedResult(["solo"], None)


def test_config_formatting_only_change_affects_nothing(repo: Path) -> None:
    edit_config(repo, "[servers.web]\n", "# the web server\n[servers.web]\n")
    assert run(repo) == AffectedResult([], None)


def test_config_shared_table_affects_its_users(repo: Path) -> None:
    edit_config(repo, 'path = "libs/db"', 'path = "libs/db"\npackages = ["db"]')
    assert run(repo).servers == ["ops"]
    edit_config(repo, 'path = "libs/core"', 'path = "libs/core"\npackages = ["core"]')
    assert run(repo).servers == ["ops", "web"]


def test_config_in_a_subdirectory(tmp_path: Path) -> None:
    root = init_repo(tmp_path / "sub")
    write_files(root, {"tools/mcpbundle.toml": "[bundle]\n", "tools/servers/a/s.py": "a\n"})
    commit_all(root)
    scopes = [ServerScope("a", "tools/servers/a", ("tools/servers/a",), ())]
    (root / "tools/mcpbundle.toml").write_text('[bundle]\noutput = "x"\n')
    result = affected(
        repo_root=root, since="HEAD", config_path=Path("tools/mcpbundle.toml"), scopes=scopes
    )
    assert result.servers == ["a"]
    assert result.reason_all is not None


def test_unknown_ref_in_a_full_clone_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError) as raised:
        run(repo, since="abc")
    assert raised.value.exit_code == 2
    assert str(raised.value).startswith("--since: 'abc' does not name a commit in this repository")
    assert "shallow" not in str(raised.value)


def test_shallow_clone_lists_all_with_reason(repo: Path, tmp_path: Path) -> None:
    old = git(repo, "rev-parse", "HEAD").strip()
    (repo / "servers/web/server.py").write_text("web 2\n")
    commit_all(repo)
    (repo / "servers/ops/server.py").write_text("ops 2\n")
    commit_all(repo)
    shallow = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", (repo / ".git").as_uri(), str(shallow))
    result = affected(
        repo_root=shallow, since=old, config_path=shallow / "mcpbundle.toml", scopes=SCOPES
    )
    assert result.servers == ["ops", "web", "solo"]
    assert result.reason_all is not None
    assert "shallow clone" in result.reason_all
    # HEAD~1 is known by name in a depth-2 clone but its parent is not.
    deeper = tmp_path / "deeper"
    git(tmp_path, "clone", "-q", "--depth", "2", (repo / ".git").as_uri(), str(deeper))
    parent = git(deeper, "rev-parse", "HEAD~1").strip()
    result = affected(
        repo_root=deeper, since=parent, config_path=deeper / "mcpbundle.toml", scopes=SCOPES
    )
    assert result == AffectedResult(["ops"], None)


def test_to_json_is_in_config_order(repo: Path) -> None:
    result = AffectedResult(["solo", "ops"], None)
    assert to_json(result, SCOPES) == {
        "servers": ["ops", "solo"],
        "matrix": {
            "include": [
                {"server": "ops", "path": "servers/ops"},
                {"server": "solo", "path": "servers/solo"},
            ]
        },
    }
    assert to_json(AffectedResult([], None), SCOPES) == {"servers": [], "matrix": {"include": []}}


def test_a_python_version_file_above_the_servers_affects_them(tmp_path: Path) -> None:
    """With no [bundle] python, the nearest .python-version up to the config's directory is
    every server's target: adding or editing one changes their pins (issue 4: the servers
    whose bundle may change)."""
    from mcpbundle.affected import affected_scopes
    from mcpbundle.config.validate import load_config

    root = init_repo(tmp_path / "mono")
    server = "from fastmcp import FastMCP\nmcp = FastMCP('x')\n"
    write_files(
        root,
        {
            "mcpbundle.toml": (
                '[servers.ops]\npath = "servers/ops"\nentrypoint = "server.py"\n'
                '[servers.web]\npath = "web"\nentrypoint = "server.py"\n'
            ),
            "servers/ops/server.py": server,
            "web/server.py": server,
        },
    )
    commit_all(root, "base")
    git(root, "tag", "base")
    repo, scopes = affected_scopes(load_config(root))

    def servers() -> list[str]:
        found = affected(repo_root=repo, since="base", config_path=root / "mcpbundle.toml",
                         scopes=scopes)  # fmt: skip
        return found.servers

    (root / "servers/.python-version").write_text("3.12\n")
    assert servers() == ["ops"]
    (root / ".python-version").write_text("3.12\n")
    assert servers() == ["ops", "web"]
