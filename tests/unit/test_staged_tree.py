"""The staging tree of a build: one mkdir per directory, one write per distinct content.

Identical files within one output are hard links of one inode; a path written again is
replaced, never written through, so its other names (and the previous output) keep
their bytes; a file of the previous output is linked only when it holds those bytes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mcpbundle.emit import staged_tree
from mcpbundle.emit.staged_tree import StagedTree, digest_of


def test_identical_content_is_one_inode_and_modes_stay_apart(tmp_path: Path) -> None:
    (tmp_path / "stage").mkdir()  # a build's staging directory exists before any file
    tree = StagedTree(tmp_path / "stage")
    a = tree.put_bytes("servers/a/lib/util.py", b"X = 1\n")
    b = tree.put_bytes("servers/b/lib/util.py", b"X = 1\n")
    tree.put_bytes("servers/c/run.sh", b"X = 1\n", 0o755)
    assert a == b == digest_of(b"X = 1\n")
    first, second = (
        tmp_path / "stage/servers/a/lib/util.py",
        tmp_path / "stage/servers/b/lib/util.py",
    )
    assert first.stat().st_ino == second.stat().st_ino
    assert second.read_bytes() == b"X = 1\n"
    script = tmp_path / "stage/servers/c/run.sh"
    assert script.stat().st_ino != first.stat().st_ino  # another mode: its own inode
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert stat.S_IMODE(first.stat().st_mode) == 0o644


def test_a_path_written_again_is_replaced_not_written_through(tmp_path: Path) -> None:
    tree = StagedTree(tmp_path)
    tree.put_bytes("a.py", b"shared\n")
    tree.put_bytes("b.py", b"shared\n")
    tree.put_bytes("a.py", b"changed\n")
    assert (tmp_path / "a.py").read_bytes() == b"changed\n"
    assert (tmp_path / "b.py").read_bytes() == b"shared\n"
    tree.put_bytes("c.py", b"shared\n")
    assert (tmp_path / "c.py").read_bytes() == b"shared\n"


def test_each_directory_is_made_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []
    real = os.makedirs
    depth = [0]

    def counting(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        if not depth[0]:  # os.makedirs makes missing parents by calling itself
            made.append(os.fspath(path))
        depth[0] += 1
        try:
            real(path, *args, **kwargs)  # type: ignore[arg-type]
        finally:
            depth[0] -= 1

    monkeypatch.setattr(os, "makedirs", counting)
    tree = StagedTree(tmp_path)
    for index in range(20):
        tree.put_bytes(f"servers/s/pkg/mod_{index}.py", f"N = {index}\n".encode())
    tree.put_bytes("servers/s/pkg/sub/x.py", b"")
    tree.put_bytes("servers/s/top.py", b"")  # its directory exists already
    assert made == [str(tmp_path / "servers/s/pkg"), str(tmp_path / "servers/s/pkg/sub")]


def test_no_chmod_when_the_umask_keeps_the_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(os, "chmod", lambda path, mode: calls.append(path))
    monkeypatch.setattr(staged_tree, "_UMASK", 0o022)
    tree = StagedTree(tmp_path)
    tree.put_bytes("a.py", b"a\n")
    tree.put_bytes("b.sh", b"b\n", 0o755)
    assert calls == []
    monkeypatch.setattr(staged_tree, "_UMASK", 0o077)  # would strip group/other bits
    tree.put_bytes("c.py", b"c\n")
    assert calls == [str(tmp_path / "c.py")]


def test_previous_output_is_linked_only_when_it_holds_the_bytes(tmp_path: Path) -> None:
    old = tmp_path / "old.py"
    old.write_bytes(b"old\n")
    old.chmod(0o644)
    (tmp_path / "stage").mkdir()
    tree = StagedTree(tmp_path / "stage")
    assert not tree.link_previous(old, "x.py", digest_of(b"new\n"), 0o644)
    assert not (tmp_path / "stage/x.py").exists()
    assert not tree.link_previous(old, "x.py", digest_of(b"old\n"), 0o755)  # another mode
    assert tree.link_previous(old, "x.py", digest_of(b"old\n"), 0o644)
    assert (tmp_path / "stage/x.py").stat().st_ino == old.stat().st_ino
