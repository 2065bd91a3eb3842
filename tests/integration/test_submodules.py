"""Shared code kept in a git submodule: ``git ls-files`` lists only its gitlink, so the
library would ship empty. A checked-out submodule's files are vendored and the bundle
loads; a clone that did not check it out fails with one line naming the fix; the CI
workflow checks submodules out."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_realworld_shapes import bundle_table, error_lines, loaded_tools, manifest, server_py

from support.gitrepo import commit_all, git, init_repo
from support.monorepo import mcpbundle, write

ALLOW_FILE = ("-c", "protocol.file.allow=always")


def make_repo(tmp_path: Path, wheelhouse: Path) -> Path:
    lib = init_repo(tmp_path / "common-src")
    write(
        lib,
        {
            "pyproject.toml": (
                "[project]\nname = 'common'\nversion = '0.1'\ndependencies = ['alpha']\n"
            ),
            "common/__init__.py": "def agent():\n    return 'notes/1'\n",
            "common/data/words.txt": "hello\n",
        },
    )
    commit_all(lib, "library")
    root = init_repo(tmp_path / "repo")
    write(
        root,
        {
            "mcpbundle.toml": bundle_table(wheelhouse)
            + "[shared.common]\npath = 'libs/common'\n"
            + "[servers.notes]\npath = 'servers/notes'\nentrypoint = 'server.py'\n",
            "servers/notes/requirements.txt": "fastmcp\n-e ../../libs/common\n",
            "servers/notes/server.py": server_py(
                "notes", "from common import agent\n", {"who": "agent()"}
            ),
        },
    )
    git(root, *ALLOW_FILE, "submodule", "add", "-q", str(lib), "libs/common")
    commit_all(root, "servers")
    return root


@pytest.fixture
def repo(tmp_path: Path, wheelhouse: Path) -> Path:
    return make_repo(tmp_path, wheelhouse)


def test_a_library_in_a_submodule_ships_its_files_and_loads(repo: Path, tmp_path: Path) -> None:
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    files = manifest(repo)["notes"]["files"]
    assert isinstance(files, dict)
    assert "servers/notes/common/__init__.py" in files
    assert "servers/notes/common/data/words.txt" in files
    assert not any(".git" in rel.split("/") for rel in files)
    assert loaded_tools(repo, "notes", tmp_path) == ["who"]


def test_a_clone_without_its_submodules_fails_with_the_fix(repo: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    done = mcpbundle(clone, "build")
    assert done.returncode == 2, done.stderr
    (line,) = error_lines(done.stderr)
    assert "'libs/common' is a git submodule that is not checked out" in line
    assert "git submodule update --init --recursive" in line
    assert not (clone / "dist").exists()
    git(clone, *ALLOW_FILE, "submodule", "update", "-q", "--init", "--recursive")
    assert mcpbundle(clone, "build").returncode == 0


def test_a_package_inside_a_server_kept_in_an_unchecked_submodule_is_named(
    repo: Path, tmp_path: Path
) -> None:
    vendor = init_repo(tmp_path / "vendor-src")
    write(vendor, {"helpers.py": "X = 1\n"})
    commit_all(vendor, "vendor")
    git(repo, *ALLOW_FILE, "submodule", "add", "-q", str(vendor), "servers/notes/vendor")
    commit_all(repo, "vendor")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    git(clone, *ALLOW_FILE, "submodule", "update", "-q", "--init", "libs/common")
    done = mcpbundle(clone, "build")
    assert done.returncode == 1, done.stderr
    (line,) = error_lines(done.stderr)
    assert "servers/notes/vendor: is a git submodule that is not checked out" in line


def test_the_ci_workflow_checks_submodules_out(repo: Path) -> None:
    done = mcpbundle(repo, "ci", "github")
    assert done.returncode == 0, done.stderr
    assert "          submodules: recursive\n" in done.stdout
