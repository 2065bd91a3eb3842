"""Plans cached by what planning read: a cached build's output is byte for byte that of an
uncached one, and every input of planning invalidates the plans that read it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support.monorepo import tree


def _run(cwd: Path, cache: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "MCPBUNDLE_CACHE_DIR": str(cache), **env}
    return subprocess.run(
        [sys.executable, "-m", "mcpbundle", *args],
        cwd=cwd, env=environ, capture_output=True, text=True, check=False,
    )  # fmt: skip


def _planned(stderr: str) -> tuple[int, int]:
    found = re.search(r"plans: (\d+) from the cache, (\d+) planned", stderr)
    assert found is not None, stderr
    return int(found.group(1)), int(found.group(2))


def _cold(repo: Path, where: Path) -> dict[str, tuple[bytes, bool]]:
    """A build of a copy of ``repo`` with an empty cache: what the cached build must equal."""
    clean = where / "clean"
    shutil.copytree(repo, clean, ignore=shutil.ignore_patterns("dist"))
    done = _run(clean, where / "clean-cache", "build")
    assert done.returncode == 0, done.stderr
    return tree(clean / "dist")


@pytest.fixture
def built(tmp_path: Path, repo: Path) -> tuple[Path, Path]:
    """The monorepo built once with its own cache (plans stored)."""
    cache = tmp_path / "cache"
    shutil.rmtree(repo / "dist")
    done = _run(repo, cache, "-v", "build")
    assert done.returncode == 0, done.stderr
    assert _planned(done.stderr) == (0, 2)
    return repo, cache


def test_lib_touch_rebuild_equals_cold_build(built: tuple[Path, Path], tmp_path: Path) -> None:
    repo, cache = built
    path = repo / "libs" / "core" / "src" / "acme_core" / "__init__.py"
    path.write_text(path.read_text() + "TOUCHED = 1\n")
    done = _run(repo, cache, "-v", "build")
    assert done.returncode == 0, done.stderr
    # ops does not vendor core; sales does, but reads the module only to see whether it
    # imports mcp.server.fastmcp, which the touch did not change: both plans are reused
    assert _planned(done.stderr) == (2, 0)
    assert tree(repo / "dist") == _cold(repo, tmp_path)


def test_a_touch_that_changes_a_planning_fact_replans(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    repo, cache = built
    path = repo / "libs" / "core" / "src" / "acme_core" / "__init__.py"
    path.write_text(path.read_text() + "from mcp.server.fastmcp import FastMCP\n")
    twin = tmp_path / "twin"
    shutil.copytree(repo, twin)
    done = _run(repo, cache, "-v", "build")
    uncached = _run(twin, tmp_path / "twin-cache", "build")
    assert _planned(done.stderr) == (1, 1)  # sales now imports the v1 SDK: planned again
    # the fix (mcp<2) does not resolve against the test wheelhouse: both builds fail alike
    assert done.returncode == uncached.returncode == 1, (done.stderr, uncached.stderr)
    errors = [
        [ln for ln in r.stderr.splitlines() if ln.startswith("error:")] for r in (done, uncached)
    ]
    assert errors[0] == errors[1] != []
    assert "fastmcp<3" in errors[0][0]  # what mcp<2 asks of fastmcp


def test_unchanged_plans_come_from_the_cache(built: tuple[Path, Path]) -> None:
    repo, cache = built
    shutil.rmtree(repo / "dist")  # no stamp replay: the pipeline runs, planning does not
    done = _run(repo, cache, "-v", "build")
    assert done.returncode == 0, done.stderr
    assert _planned(done.stderr) == (2, 0)
    uncached = _run(repo, cache, "-v", "build", "--no-cache", "-o", "other")
    assert "plans:" not in uncached.stderr
    assert tree(repo / "dist") == tree(repo / "other")


def _append(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text() + text)

    return change


def _create(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / rel).write_text(text)

    return change


def _python_version(root: Path) -> None:
    """The target Python: from the config to a .python-version file of another version."""
    config = root / "mcpbundle.toml"
    config.write_text(re.sub(r"python = '[^']*'\n", "", config.read_text(), count=1))
    (root / "sales" / ".python-version").write_text(
        "3.11\n" if sys.version_info[:2] != (3, 11) else "3.12\n"
    )


# change -> (servers planned afresh, at least)
INPUTS: dict[str, tuple[Callable[[Path], None], int]] = {
    "config": (_append("mcpbundle.toml", "[servers.ops.env]\nX = 'y'\n"), 2),
    "requirements read while planning": (_append("sales/requirements.txt", "gamma\n"), 1),
    "a lib's pyproject": (
        lambda r: (r / "libs/core/pyproject.toml").write_text(
            (r / "libs/core/pyproject.toml").read_text().replace("'alpha<2'", "'alpha<3'")
        ),
        1,
    ),
    "the entrypoint's object": (
        _create("sales/app.py", "from acme_core import shout\n\napp = 1\nmcp = 2\n"),
        1,
    ),
    "a new file beside one read (existence check)": (
        _create("sales/pyproject.toml", "[project]\nname = 'sales'\nversion = '1'\n"),
        1,
    ),
    "the target python": (_python_version, 1),
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_each_input_invalidates(built: tuple[Path, Path], tmp_path: Path, name: str) -> None:
    repo, cache = built
    change, replanned = INPUTS[name]
    change(repo)
    twin = tmp_path / "twin"  # the same tree and previous output, with an empty cache
    shutil.copytree(repo, twin)
    done = _run(repo, cache, "-v", "build")
    uncached = _run(twin, tmp_path / "twin-cache", "build")
    assert done.returncode == uncached.returncode, (done.stderr, uncached.stderr)
    assert done.returncode == 0, done.stderr
    assert _planned(done.stderr)[1] >= replanned
    assert tree(repo / "dist") == tree(twin / "dist")


def test_environment_and_version_invalidate(built: tuple[Path, Path]) -> None:
    repo, cache = built
    shutil.rmtree(repo / "dist")
    done = _run(repo, cache, "-v", "build", MCPBUNDLE_PLAN_TEST="1")
    assert done.returncode == 0, done.stderr
    assert _planned(done.stderr) == (0, 2)  # an MCPBUNDLE_* variable: another environment


AWS_KEY = "AKIA" + "FAKE0TEST0KEY012"  # split: the repository itself holds no key


def test_scan_results_are_reused_and_new_content_is_scanned(built: tuple[Path, Path]) -> None:
    repo, cache = built
    doc = repo / "libs" / "utils" / "acme_utils" / "NOTES.md"
    doc.write_text(f"example: {AWS_KEY}\n")
    first = _run(repo, cache, "build")
    again = _run(repo, cache, "build")  # the same answer, now from the cache
    assert (first.returncode, again.returncode) == (1, 1)
    assert "NOTES.md:1: looks like an AWS access key" in first.stderr
    assert first.stderr == again.stderr
    doc.write_text("example: AKIA...\n")
    assert _run(repo, cache, "build").returncode == 0
    code = repo / "libs" / "utils" / "acme_utils" / "__init__.py"
    code.write_text(code.read_text() + f"KEY = '{AWS_KEY}'\n")  # new content: scanned, fails
    failed = _run(repo, cache, "build")
    assert failed.returncode == 1
    assert "libs/utils/acme_utils/__init__.py:3: looks like an AWS" in failed.stderr


def test_check_after_a_build_reuses_its_plans_and_finds_the_same(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    """check plans without the network and build with it; a server without git
    requirements has one plan either way, so check reads the build's."""
    repo, cache = built
    warm = _run(repo, cache, "-v", "check", "--format", "json")
    assert _planned(warm.stderr) == (2, 0)
    cold = _run(repo, tmp_path / "fresh-cache", "-v", "check", "--format", "json")
    assert _planned(cold.stderr) == (0, 2)
    assert (warm.returncode, warm.stdout) == (cold.returncode, cold.stdout)
    lib = repo / "libs" / "core" / "pyproject.toml"
    lib.write_text(lib.read_text() + "\n# a planning input changes\n")
    again = _run(repo, cache, "-v", "check", "--format", "json")
    assert _planned(again.stderr)[1] >= 1


@pytest.mark.parametrize("kind", ["plans", "scans"])
def test_a_fifo_in_the_cache_is_skipped_not_waited_on(
    built: tuple[Path, Path], tmp_path: Path, kind: str
) -> None:
    """Cache entries are opened only when they are regular files (issue 14): a FIFO in
    place of one is a miss, and a build never blocks on it."""
    repo, cache = built
    entries = [p for p in (cache / kind).rglob("*") if p.is_file()]
    assert entries, f"the build stored no {kind}"
    for entry in entries:
        entry.unlink()
        os.mkfifo(entry)
    server = repo / "sales" / "app.py"
    server.write_text(server.read_text() + "\n# changed\n")
    environ = {**os.environ, "MCPBUNDLE_CACHE_DIR": str(cache)}
    done = subprocess.run(
        [sys.executable, "-m", "mcpbundle", "build"],
        cwd=repo, env=environ, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert tree(repo / "dist") == _cold(repo, tmp_path / "cold")
