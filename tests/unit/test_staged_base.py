"""A staging tree that starts from the previous build's output (the spare).

Paths that hold the wanted bytes and mode stay as they are (verified by content, once
per inode); every other path is replaced, never written through (its inode may be the
live output's); what the new output does not list is removed at the end."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError
from mcpbundle.emit.staged_tree import StagedTree, digest_of, walk_base


def _write(root: Path, rel: str, data: bytes, mode: int = 0o644) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(mode)
    return path


def _base(tmp_path: Path, files: dict[str, bytes]) -> Path:
    root = tmp_path / "stage"
    for rel, data in files.items():
        _write(root, rel, data)
    return root


def test_a_path_holding_the_bytes_is_kept_without_a_write(tmp_path: Path) -> None:
    root = _base(tmp_path, {"s/a.py": b"A\n"})
    inode = (root / "s/a.py").stat().st_ino
    tree = StagedTree(root, walk_base(root))
    tree.put_bytes("s/a.py", b"A\n")
    tree.finish({"s/a.py"})
    assert (root / "s/a.py").stat().st_ino == inode
    assert (root / "s/a.py").read_bytes() == b"A\n"


def test_a_changed_path_is_replaced_and_its_other_names_keep_their_bytes(tmp_path: Path) -> None:
    root = _base(tmp_path, {"s/a.py": b"old\n"})
    live = tmp_path / "live.py"
    os.link(root / "s/a.py", live)  # the live output shares the inode
    tree = StagedTree(root, walk_base(root))
    tree.put_bytes("s/a.py", b"new\n")
    tree.finish({"s/a.py"})
    assert (root / "s/a.py").read_bytes() == b"new\n"
    assert live.read_bytes() == b"old\n"


def test_a_tampered_file_is_not_kept(tmp_path: Path) -> None:
    root = _base(tmp_path, {"s/a.py": b"A\n"})
    (root / "s/a.py").write_bytes(b"B\n")  # same size, other bytes
    tree = StagedTree(root, walk_base(root))
    tree.put_bytes("s/a.py", b"A\n")
    assert (root / "s/a.py").read_bytes() == b"A\n"


def test_another_mode_is_not_kept(tmp_path: Path) -> None:
    root = _base(tmp_path, {"run.sh": b"echo\n"})
    tree = StagedTree(root, walk_base(root))
    tree.put_bytes("run.sh", b"echo\n", 0o755)
    assert stat.S_IMODE((root / "run.sh").stat().st_mode) == 0o755


def test_what_the_new_output_does_not_list_is_removed_with_empty_dirs(tmp_path: Path) -> None:
    root = _base(
        tmp_path,
        {"s/a.py": b"A\n", "s/gone/b.py": b"B\n", "s/__pycache__/a.cpython-311.pyc": b"\0"},
    )
    tree = StagedTree(root, walk_base(root))
    tree.put_bytes("s/a.py", b"A\n")
    tree.finish({"s/a.py"})
    left = sorted(p.relative_to(root).as_posix() for p in root.rglob("*"))
    assert left == ["s", "s/a.py"]


def test_a_file_where_a_directory_is_needed_and_the_reverse(tmp_path: Path) -> None:
    root = _base(tmp_path, {"s/pkg": b"was a file\n", "s/mod/x.py": b"X\n"})
    tree = StagedTree(root, walk_base(root))
    tree.put_bytes("s/pkg/y.py", b"Y\n")
    tree.put_bytes("s/mod", b"now a file\n")
    tree.finish({"s/pkg/y.py", "s/mod"})
    assert (root / "s/pkg/y.py").read_bytes() == b"Y\n"
    assert (root / "s/mod").read_bytes() == b"now a file\n"


def test_carried_files_are_kept_when_they_are_the_live_ones(tmp_path: Path) -> None:
    live = tmp_path / "dist"
    _write(live, "web/app.py", b"app\n")
    _write(live, "web/util.py", b"util v2\n")
    root = tmp_path / "stage"
    root.mkdir()
    (root / "web").mkdir()
    os.link(live / "web/app.py", root / "web/app.py")  # unchanged since the spare
    _write(root, "web/util.py", b"util v1\n")  # changed since
    tree = StagedTree(root, walk_base(root))
    tree.carry_over(live, ["web/app.py", "web/util.py"])
    tree.finish({"web/app.py", "web/util.py"})
    for rel in ("web/app.py", "web/util.py"):
        assert (root / rel).stat().st_ino == (live / rel).stat().st_ino


def test_released_paths_are_free_for_other_writers(tmp_path: Path) -> None:
    root = _base(tmp_path, {"manifest.json": b"{}", "s/x.mcpb": b"zip"})
    tree = StagedTree(root, walk_base(root))
    tree.release("s/x.mcpb")
    assert not (root / "s/x.mcpb").exists()
    (root / "s/x.mcpb").write_bytes(b"new zip")
    tree.release("manifest.json")
    (root / "manifest.json").write_bytes(b"{new}")
    tree.finish({"manifest.json", "s/x.mcpb"})
    assert (root / "s/x.mcpb").read_bytes() == b"new zip"


def test_a_listed_path_nobody_wrote_is_an_error_not_a_stale_file(tmp_path: Path) -> None:
    root = _base(tmp_path, {"s/a.py": b"stale\n"})
    tree = StagedTree(root, walk_base(root))
    with pytest.raises(BuildError, match=r"s/a\.py"):
        tree.finish({"s/a.py"})


def test_without_a_base_nothing_is_removed(tmp_path: Path) -> None:
    tree = StagedTree(tmp_path)
    tree.put_bytes("a.py", b"A\n")
    (tmp_path / "other.txt").write_text("x")  # written by another writer
    tree.finish({"a.py", "other.txt"})
    assert (tmp_path / "other.txt").exists()
    assert digest_of(b"A\n") == tree.put_bytes("a.py", b"A\n")
