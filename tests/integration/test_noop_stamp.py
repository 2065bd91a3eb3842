"""The no-op shortcut: an unchanged rebuild replays its report from the stamp; any change
to what the build read or wrote sends it down the full path, which then gives the same
result as a clean build."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mcpbundle.incremental import stamp
from support.gitrepo import commit_all, init_repo
from support.monorepo import mcpbundle, tree


def _replay(repo: Path, *args: str, env: dict[str, str] | None = None) -> tuple[str, str] | None:
    return stamp.replay(["build", *args], cwd=str(repo), environ=env or dict(os.environ))


def test_unchanged_rebuild_replays_without_importing_the_pipeline(repo: Path) -> None:
    full = subprocess.run(
        [sys.executable, "-m", "mcpbundle", "--debug", "build"],  # --debug: never replayed
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "up to date" in full.stdout
    assert _replay(repo) is not None
    fast = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mcpbundle", "build"],
        cwd=repo, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert fast.returncode == 0
    assert fast.stdout == full.stdout
    assert "mcpbundle.incremental.stamp" in fast.stderr
    assert "mcpbundle.build" not in fast.stderr
    assert "click" not in fast.stderr


def test_replay_prints_what_the_full_path_prints(repo: Path) -> None:
    for args in (["--json"], ["-q"], ["ops"]):
        assert mcpbundle(repo, "build", *args).returncode == 0  # stamps this command line
        assert _replay(repo, *args) is not None
        fast = mcpbundle(repo, "build", *args)
        full = mcpbundle(repo, "--debug", "build", *args)  # --debug: never replayed
        assert (fast.returncode, fast.stderr) == (0, "")
        assert fast.stdout == full.stdout


def test_touch_without_a_change_still_replays(repo: Path) -> None:
    path = repo / "libs" / "core" / "src" / "acme_core" / "__init__.py"
    os.utime(path)
    assert _replay(repo) is not None


def _same_size_edit(repo: Path) -> None:
    path = repo / "ops" / "src" / "server.py"
    text = path.read_text()
    stat = path.stat()
    path.write_text(text.replace("hi", "ho"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime


def _new_file(repo: Path) -> None:
    (repo / "ops" / "src" / "helpers.py").write_text("X = 1\n")


def _new_dir_file(repo: Path) -> None:
    (repo / "libs" / "core" / "src" / "acme_core" / "sub").mkdir()
    (repo / "libs" / "core" / "src" / "acme_core" / "sub" / "m.py").write_text("Y = 1\n")


def _delete_input(repo: Path) -> None:
    (repo / "ops" / ".env.example").unlink()


def _chmod_input(repo: Path) -> None:
    (repo / "ops" / "src" / "server.py").chmod(0o755)


def _config(repo: Path) -> None:
    path = repo / "mcpbundle.toml"
    path.write_text(path.read_text() + "\n")


def _edit_output(repo: Path) -> None:
    path = repo / "dist" / "sales" / "app.py"
    path.write_text(path.read_text() + "\n")


def _delete_output(repo: Path) -> None:
    (repo / "dist" / "DEPLOY.md").unlink()


def _leftover_beside_output(repo: Path) -> None:
    (repo / ".dist.staging-99999").mkdir()


def _corrupt_stamp(repo: Path) -> None:
    for path in (Path(os.environ["MCPBUNDLE_CACHE_DIR"]) / "stamps").glob("*.stamp"):
        data = path.read_bytes()
        if str(repo).encode() in data:
            path.write_bytes(data.replace(b"up to date: dist", b"up to date: forged"))


CHANGES: dict[str, Callable[[Path], None]] = {
    "same-size edit, mtime restored": _same_size_edit,
    "new file": _new_file,
    "new file in a new dir": _new_dir_file,
    "deleted input": _delete_input,
    "chmod": _chmod_input,
    "config": _config,
    "edited output": _edit_output,
    "deleted output": _delete_output,
    "leftover beside the output": _leftover_beside_output,
    "corrupt stamp": _corrupt_stamp,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_any_change_goes_down_the_full_path(repo: Path, tmp_path: Path, change: str) -> None:
    assert _replay(repo) is not None
    CHANGES[change](repo)
    assert _replay(repo) is None
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    assert "forged" not in done.stdout
    clean = tmp_path / "clean"
    shutil.copytree(repo, clean, ignore=shutil.ignore_patterns("dist", ".dist.*"))
    assert mcpbundle(clean, "build").returncode == 0
    assert tree(repo / "dist") == tree(clean / "dist")
    assert _replay(repo) is not None  # the full path stamped the new state


def test_other_command_lines_and_environments_do_not_replay(repo: Path) -> None:
    assert _replay(repo, "-o", "elsewhere") is None
    assert _replay(repo, "--no-cache") is None
    env = dict(os.environ, PIP_INDEX_URL="https://mirror.invalid/simple")
    assert _replay(repo, env=env) is None
    for flags in (["--no-cache"], ["--dry-run"], ["-v"], ["--upgrade"]):
        assert mcpbundle(repo, "build", *flags).returncode == 0
        assert _replay(repo, *flags) is None  # such builds are never stamped


def test_git_state_is_part_of_the_stamp(repo: Path) -> None:
    (repo / "README.md").write_text("docs\n")
    init_repo(repo)
    commit_all(repo, "first")
    assert mcpbundle(repo, "build").returncode == 0
    assert _replay(repo) is not None
    manifest = (repo / "dist" / "mcpbundle-manifest.json").read_bytes()
    (repo / "README.md").write_text("docs, edited\n")  # not an input, but the tree is dirty
    assert _replay(repo) is None  # the report names the source: the full path answers
    done = mcpbundle(repo, "build", "--json")
    assert json.loads(done.stdout)["source"]["dirty"] is True
    assert _replay(repo, "--json") is not None
    commit_all(repo, "second")
    assert _replay(repo, "--json") is None
    done = mcpbundle(repo, "build", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["source"]["dirty"] is False and document["up_to_date"] is True
    # A commit that changes no server writes nothing: the output does not name the source.
    assert (repo / "dist" / "mcpbundle-manifest.json").read_bytes() == manifest


def test_cache_clear_removes_stamps(repo: Path) -> None:
    assert _replay(repo) is not None
    assert mcpbundle(repo, "cache", "clear", "stamps").returncode == 0
    assert _replay(repo) is None
