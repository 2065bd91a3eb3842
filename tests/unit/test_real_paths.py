"""Memoized resolution gives what ``Path.resolve`` gives, symlinks and ``..`` included."""

from __future__ import annotations

import os
from pathlib import Path

from mcpbundle.base.real_paths import memoized, resolved


def _cases(tmp_path: Path) -> list[Path]:
    (tmp_path / "repo/servers/a").mkdir(parents=True)
    (tmp_path / "elsewhere/x").mkdir(parents=True)
    os.symlink(tmp_path / "elsewhere", tmp_path / "repo/servers/link")
    os.symlink("a", tmp_path / "repo/servers/rel")
    return [
        tmp_path / "repo/servers/a",
        tmp_path / "repo/servers/link/x",
        tmp_path / "repo/servers/link/../a",  # .. after a symlink: physical
        tmp_path / "repo/servers/rel",
        tmp_path / "repo/servers/missing/tail",
        tmp_path / "repo/servers/./a",
    ]


def test_memoized_resolution_matches_path_resolve(tmp_path: Path) -> None:
    cases = _cases(tmp_path)
    with memoized():
        got = [resolved(p) for p in cases]
        again = [resolved(p) for p in cases]
    assert got == again == [p.resolve() for p in cases]


def test_the_memo_lasts_one_pass(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    path = tmp_path / "link"
    os.symlink(tmp_path / "a", path)
    with memoized():
        assert resolved(path) == tmp_path / "a"
    path.unlink()
    os.symlink(tmp_path / "b", path)
    assert resolved(path) == tmp_path / "b"
    with memoized():
        assert resolved(path) == tmp_path / "b"
