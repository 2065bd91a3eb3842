"""The audit-hook recorder sees what a build reads, lists and runs, and nothing else."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mcpbundle.base.runner import run
from mcpbundle.incremental import read_recorder as watch
from support.gitrepo import commit_all, init_repo


def test_records_reads_listings_and_programs(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_text("b")
    with watch.recording() as reads:
        (tmp_path / "a.txt").read_text()
        with open(tmp_path / "sub" / "b.txt", "rb") as handle:
            handle.read()
        list(os.walk(tmp_path))
        (tmp_path / "written.txt").write_text("w")  # a write is not an input
        fd = os.open(tmp_path / "made", os.O_WRONLY | os.O_CREAT)
        os.close(fd)
        run([sys.executable, "-c", "pass"])
    assert {str(tmp_path / "a.txt"), str(tmp_path / "sub" / "b.txt")} <= reads.files
    assert str(tmp_path / "written.txt") not in reads.files
    assert str(tmp_path / "made") not in reads.files
    assert {str(tmp_path), str(tmp_path / "sub")} <= reads.dirs
    assert os.path.abspath(sys.executable) in reads.programs
    assert reads.volatile is None


def test_nothing_is_recorded_outside_a_recording(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with watch.recording() as reads:
        pass
    (tmp_path / "a.txt").read_text()
    assert reads.files == set()


def test_nested_recordings_each_see_the_inner_reads(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    with watch.recording() as outer, watch.recording() as inner:
        (tmp_path / "a.txt").read_text()
    assert str(tmp_path / "a.txt") in outer.files & inner.files


def test_asking_a_remote_makes_the_recording_volatile(tmp_path: Path) -> None:
    origin = init_repo(tmp_path / "origin")
    (origin / "f").write_text("x")
    commit_all(origin, "one")
    with watch.recording() as local:
        run(["git", "-C", str(origin), "status"])
    assert local.volatile is None
    with watch.recording() as remote:
        run(["git", "ls-remote", origin.as_uri()])
    assert remote.volatile is not None
    assert "ls-remote" in remote.volatile


def test_an_event_it_cannot_read_makes_the_recording_volatile() -> None:
    class Unreadable:
        def __fspath__(self) -> str:
            raise RuntimeError("no path")

    with watch.recording() as reads:
        watch._hook("open", (Unreadable(), "r", os.O_RDONLY))  # must not raise
    assert reads.volatile is not None
