"""Incremental output: a no-op touches nothing; after any change it equals a clean build."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from support.monorepo import mcpbundle, tree


def _mtimes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*")}


def test_noop_build_touches_nothing(repo: Path) -> None:
    before = _mtimes(repo / "dist")
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert _mtimes(repo / "dist") == before


def _edit_server(root: Path) -> None:
    (root / "ops" / "src" / "server.py").write_text("mcp = 1\n")


def _edit_lib(root: Path) -> None:
    path = root / "libs" / "core" / "src" / "acme_core" / "__init__.py"
    path.write_text(path.read_text() + "Z = 3\n")


def _add_requirement(root: Path) -> None:
    path = root / "ops" / "requirements.txt"
    path.write_text(path.read_text() + "py-kappa\n")


def _edit_config(root: Path) -> None:
    path = root / "mcpbundle.toml"
    path.write_text(path.read_text() + "vendor-dir = '.'\n")  # applies to servers.sales


def _add_exclude(root: Path) -> None:
    path = root / "mcpbundle.toml"
    text = path.read_text().replace("[bundle]\n", "[bundle]\nexclude = ['*.example']\n")
    path.write_text(text)


CHANGES: dict[str, Callable[[Path], None]] = {
    "server file": _edit_server,
    "shared lib": _edit_lib,
    "requirement": _add_requirement,
    "server table": _edit_config,
    "bundle exclude": _add_exclude,
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_incremental_equals_clean(repo: Path, tmp_path: Path, change: str) -> None:
    ops_before = _mtimes(repo / "dist" / "ops")
    CHANGES[change](repo)
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    clean = tmp_path / "clean"
    shutil.copytree(repo, clean, ignore=shutil.ignore_patterns("dist"))
    fresh = mcpbundle(clean, "build", "--no-cache")
    assert fresh.returncode == 0, fresh.stderr
    assert tree(repo / "dist") == tree(clean / "dist")
    if change == "shared lib":  # only core's users are rebuilt: ops is untouched
        assert "unchanged ops" in done.stdout
        assert _mtimes(repo / "dist" / "ops") == ops_before


def test_progress_lines_and_quiet(repo: Path) -> None:
    (repo / "ops" / "src" / "server.py").write_text("mcp = 2\n")
    loud = mcpbundle(repo, "build", "--no-cache")
    assert "resolving with pip-tools" in loud.stderr  # one line per step when not a terminal
    (repo / "ops" / "src" / "server.py").write_text("mcp = 3\n")
    quiet = mcpbundle(repo, "build", "-q", "--no-cache")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert mcpbundle(repo, "-q", "build").stderr == ""


def test_a_progress_line_names_a_few_servers_not_all(repo: Path) -> None:
    """At 200 servers the resolver's progress line named all 200: one line, a few names."""
    config = repo / "mcpbundle.toml"
    extra = ""
    for index in range(5):
        folder = repo / f"extra{index}"
        folder.mkdir()
        (folder / "server.py").write_text("mcp = None\n")
        (folder / "requirements.txt").write_text("fastmcp\n")
        extra += f'\n[servers.extra{index}]\npath = "extra{index}"\nentrypoint = "server.py"\n'
    config.write_text(config.read_text() + extra)
    done = mcpbundle(repo, "build", "--no-cache")
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "resolving with" in line]
    assert lines and all(line.split(":")[0].endswith(" and 2 more") for line in lines), lines


@pytest.mark.parametrize("damage", ["edit", "delete", "extra"])
def test_rebuild_repairs_a_damaged_output(repo: Path, tmp_path: Path, damage: str) -> None:
    expected = tree(repo / "dist")
    sales_before = _mtimes(repo / "dist" / "sales")
    target = repo / "dist" / "ops" / "src" / "server.py"
    if damage == "edit":
        target.write_text(target.read_text().replace("hi", "HI"))
    elif damage == "delete":
        target.unlink()
    else:
        (target.parent / "stray.py").write_text("x = 1\n")
        refused = mcpbundle(repo, "build")  # a file mcpbundle did not write is never deleted
        assert refused.returncode == 1, refused.stderr
        assert "dist/ops/src/stray.py: was not written by mcpbundle" in refused.stderr
        assert (target.parent / "stray.py").read_text() == "x = 1\n"
    done = mcpbundle(repo, "build", *(["--force"] if damage == "extra" else []))
    assert done.returncode == 0, done.stderr
    assert "up to date" not in done.stdout
    assert tree(repo / "dist") == expected
    assert "unchanged sales" in done.stdout  # only the damaged server is written again
    assert _mtimes(repo / "dist" / "sales") == sales_before


def test_a_rebuilt_server_keeps_its_unchanged_files(repo: Path) -> None:
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (repo / "dist").rglob("*")}
    _edit_lib(repo)
    done = mcpbundle(repo, "build")
    assert done.returncode == 0, done.stderr
    rebuilt = [line.split()[1].rstrip(":") for line in done.stdout.splitlines()
               if line.startswith("built ")]  # fmt: skip
    assert rebuilt
    changed = []
    for name in rebuilt:
        for path in sorted((repo / "dist" / name).rglob("*")):
            if not path.is_file() or path not in before:
                continue
            if (path.stat().st_ino, path.stat().st_mtime_ns) != before[path]:
                changed.append(path.relative_to(repo / "dist").as_posix())
    # Only the edited module (and the dist-info RECORD listing its hash) is written anew.
    assert changed, "the edited module must be rewritten"
    assert all(p.endswith(("acme_core/__init__.py", "/RECORD")) for p in changed), changed


def test_identical_vendored_files_are_one_inode_with_a_digest_per_path(repo: Path) -> None:
    import hashlib
    import json

    from mcpbundle.emit.manifest import MANIFEST_NAME

    manifest = json.loads((repo / "dist" / MANIFEST_NAME).read_text())
    by_digest: dict[str, set[int]] = {}
    paths = 0
    for entry in manifest["servers"].values():
        for rel, digest in entry["files"].items():
            path = repo / "dist" / rel
            assert digest == f"sha256:{hashlib.sha256(path.read_bytes()).hexdigest()}", rel
            by_digest.setdefault(digest, set()).add(path.stat().st_ino)
            paths += 1
    # the shared lib both servers vendor is written once and linked: fewer inodes than paths
    assert sum(len(inodes) for inodes in by_digest.values()) < paths
    assert all(len(inodes) == 1 for inodes in by_digest.values())
