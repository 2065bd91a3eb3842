"""A rebuild starts from the output before the previous one (the spare, kept in the cache)
and rewrites only what differs; whatever the spare holds, the output is what the same
builds write without one, byte for byte, and a kill at any step keeps the previous output
whole."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest
from test_build_cli import SERVER_OPS, cli_env, leftovers, make_repo, run_cli, tree

from mcpbundle.emit.spare import spare_path

pytestmark = pytest.mark.slow


class Twin:
    """A copy of a repository built in step with it, its spare removed before each build:
    the output the same builds write without a spare."""

    def __init__(self, repo: Path, path: Path) -> None:
        shutil.copytree(repo, path, symlinks=True)
        self.repo = path

    def build(self) -> dict[str, tuple[int, bytes]]:
        shutil.rmtree(spare_path(self.repo / "dist"), ignore_errors=True)
        run_cli(self.repo, "build")
        shutil.rmtree(spare_path(self.repo / "dist"), ignore_errors=True)
        return tree(self.repo / "dist")


def _edit(repo: Path, step: int, twin: Twin | None = None) -> None:
    for where in (repo, *([twin.repo] if twin else [])):
        (where / "ops/src/server.py").write_text(SERVER_OPS + f"# edit {step}\n")


def _built_twice(tmp_path: Path, wheelhouse: Path) -> tuple[Path, Twin]:
    """A repository and its twin, each built twice (two edits): the repository's spare then
    holds its first output."""
    repo = make_repo(tmp_path / "repo", wheelhouse)
    twin = Twin(repo, tmp_path / "twin")
    for step in (0, 1):
        _edit(repo, step, twin)
        run_cli(repo, "build")
        twin.build()
    return repo, twin


def test_rebuilds_reuse_the_spare_and_match_a_fresh_build(tmp_path: Path, wheelhouse: Path) -> None:
    repo = make_repo(tmp_path / "repo", wheelhouse)
    twin = Twin(repo, tmp_path / "twin")
    out = repo / "dist"
    run_cli(repo, "build")
    twin.build()
    spare = spare_path(out)
    assert not spare.exists()  # nothing to keep: there was no previous output
    for step in range(3):
        _edit(repo, step, twin)
        run_cli(repo, "build")
        assert spare.is_dir()  # the output before this build
        assert leftovers(out) == []  # nothing beside the output
        assert tree(out) == twin.build()
    done = run_cli(repo, "cache", "clear", "stamps")
    assert done.returncode == 0
    assert not spare.exists()


def test_a_tampered_spare_costs_writes_not_wrong_bytes(tmp_path: Path, wheelhouse: Path) -> None:
    repo, twin = _built_twice(tmp_path, wheelhouse)
    out = repo / "dist"
    spare = spare_path(out)
    files = sorted(p for p in spare.rglob("*") if p.is_file())
    victim = next(p for p in files if p.name == "server.py")
    victim.unlink()  # a new inode: the live output keeps its bytes
    victim.write_text("tampered\n")
    (spare / "web" / "stray.txt").write_text("not in any output\n")
    (spare / "ops").chmod(0o755)
    _edit(repo, 2, twin)
    run_cli(repo, "build")
    assert tree(out) == twin.build()


def test_an_output_file_edited_in_place_is_repaired(tmp_path: Path, wheelhouse: Path) -> None:
    """The spare shares inodes with the live output: an in-place edit changes both."""
    repo, twin = _built_twice(tmp_path, wheelhouse)
    out = repo / "dist"
    shared = [
        p
        for p in out.rglob("*.py")
        if (spare_path(out) / p.relative_to(out)).exists()
        and os.path.samefile(p, spare_path(out) / p.relative_to(out))
    ]
    assert shared, "the spare should share the unchanged files' inodes"
    for where in (out, twin.repo / "dist"):
        with (where / shared[0].relative_to(out)).open("a") as handle:  # written through
            handle.write("# edited in place\n")
    _edit(repo, 2, twin)
    run_cli(repo, "build")
    assert tree(out) == twin.build()


def test_sigkill_at_every_step_of_a_rebuild_from_the_spare(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo, twin = _built_twice(tmp_path, wheelhouse)
    out = repo / "dist"
    before = tree(out)
    _edit(repo, 2, twin)
    seen: list[dict[str, tuple[int, bytes]]] = []
    for n in range(1, 200):
        env = cli_env(MCPBUNDLE_TEST_KILL_AFTER_WRITES=str(n))
        done = run_cli(repo, "build", "ops", check=False, env=env)
        if done.returncode == 0:
            break
        assert done.returncode == -signal.SIGKILL, done.stderr
        seen.append(tree(out))
    else:
        pytest.fail("the build never finished")
    assert n > 3, "the kill hook did not fire at every write"
    after = tree(out)
    assert after != before
    assert all(s in (before, after) for s in seen), "a kill left a mixed output"
    assert leftovers(out) == []
    twin_env = cli_env()
    shutil.rmtree(spare_path(twin.repo / "dist"), ignore_errors=True)
    run_cli(twin.repo, "build", "ops", env=twin_env)
    assert after == tree(twin.repo / "dist")


def _other_device(path: Path) -> Path | None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or not os.access(shm, os.W_OK):
        return None
    return shm if os.stat(shm).st_dev != os.stat(path).st_dev else None


def test_a_cache_on_another_file_system_keeps_no_spare(tmp_path: Path, wheelhouse: Path) -> None:
    other = _other_device(tmp_path)
    if other is None:
        pytest.skip("no writable directory on another file system")
    cache = Path(tempfile.mkdtemp(prefix="mcpbundle-cache-", dir=other))
    try:
        repo = make_repo(tmp_path / "repo", wheelhouse)
        out = repo / "dist"
        env = cli_env(MCPBUNDLE_CACHE_DIR=str(cache))
        run_cli(repo, "build", env=env)
        _edit(repo, 1)
        run_cli(repo, "build", env=env)  # the old output cannot be moved there: removed
        assert not spare_path_in(cache, out).exists()
        assert leftovers(out) == []
        assert "edit 1" in (out / "ops/src/server.py").read_text()
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def test_a_cache_that_cannot_hold_it_keeps_no_spare(tmp_path: Path, wheelhouse: Path) -> None:
    """``stamps`` is a file there (a read-only cache is refused the same way): the build
    removes the old output as before, and still succeeds."""
    cache = tmp_path / "cache"
    cache.mkdir()
    repo = make_repo(tmp_path / "repo", wheelhouse)
    out = repo / "dist"
    env = cli_env(MCPBUNDLE_CACHE_DIR=str(cache))
    (cache / "stamps").write_text("not a directory\n")
    run_cli(repo, "build", env=env)
    _edit(repo, 1)
    run_cli(repo, "build", env=env)
    assert leftovers(out) == []
    assert "edit 1" in (out / "ops/src/server.py").read_text()
    assert (cache / "stamps").read_text() == "not a directory\n"


def spare_path_in(cache: Path, output: Path) -> Path:
    """:func:`spare_path` of ``output`` with ``cache`` as the cache directory."""
    return cache / "stamps" / spare_path(output).name
