"""Stamps: written from what a build read and wrote, replayed only while all of it holds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from mcpbundle.incremental import stamp, stamp_write
from mcpbundle.incremental.read_recorder import Reads

ENV = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("A = 1\n")
    (root / "dist").mkdir()
    (root / "dist" / "a.py").write_text("A = 1\n")
    return root


def _write(root: Path, reads: Reads, *, started_ns: int | None = None) -> str | None:
    return stamp_write.write(
        ["build"],
        reads=reads,
        root=str(root),
        output=str(root / "dist"),
        stdout="up to date: dist (no file written)\n",
        stderr="warning: w\n",
        started_ns=time.time_ns() if started_ns is None else started_ns,
        cwd=str(root),
        environ=ENV,
    )


def _replay(
    root: Path,
    argv: tuple[str, ...] = ("build",),
    env: dict[str, str] | None = None,
    now_ns: int | None = None,
) -> object:
    return stamp.replay(list(argv), cwd=str(root), environ={**ENV, **(env or {})}, now_ns=now_ns)


def test_round_trip_and_what_breaks_it(tree: Path) -> None:
    reads = Reads(files={str(tree / "src" / "a.py")})
    assert _write(tree, reads) is not None
    assert _replay(tree) == ("up to date: dist (no file written)\n", "warning: w\n")
    assert _replay(tree, ("build", "-q")) is None
    assert _replay(tree, env={"UV_INDEX_URL": "https://mirror.invalid"}) is None
    assert _replay(tree, env={"UNRELATED": "x"}) is not None  # only variables a build reads count
    assert stamp.replay(["build"], cwd=str(tree / "src"), environ=ENV) is None
    (tree / "src" / "a.py").write_text("A = 2\n")
    assert _replay(tree) is None


def test_new_file_beside_an_input_or_in_the_output_breaks_it(tree: Path) -> None:
    assert _write(tree, Reads(files={str(tree / "src" / "a.py")})) is not None
    (tree / "src" / "b.py").write_text("")
    assert _replay(tree) is None
    (tree / "src" / "b.py").unlink()
    assert _replay(tree) is not None
    (tree / "dist" / "b.py").write_text("")
    assert _replay(tree) is None


def test_listed_directories_and_programs_are_watched(tree: Path, tmp_path: Path) -> None:
    links = tmp_path / "wheels"
    links.mkdir()
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    assert _write(tree, Reads(dirs={str(links)}, programs={str(tool)})) is not None
    assert _replay(tree) is not None
    (links / "pkg-1.0-py3-none-any.whl").write_text("")
    assert _replay(tree) is None
    assert _write(tree, Reads(dirs={str(links)}, programs={str(tool)})) is not None
    tool.write_text("#!/bin/sh\nexit 1\n")
    assert _replay(tree) is None


def test_volatile_builds_and_inputs_changed_mid_build_are_not_stamped(tree: Path) -> None:
    assert _write(tree, Reads(volatile="ran git ls-remote")) is None
    before = time.time_ns() - 10**9
    (tree / "src" / "a.py").write_text("A = 3\n")  # after the build "started"
    assert _write(tree, Reads(files={str(tree / "src" / "a.py")}), started_ns=before) is None
    assert _replay(tree) is None


def test_temporary_and_cache_files_are_not_inputs(tree: Path, tmp_path: Path) -> None:
    cache_file = tmp_path / "cache" / "resolve" / "x.json"
    cache_file.parent.mkdir(parents=True)
    cache_file.write_text("{}")
    gone = str(tmp_path / "tmp-resolver" / "requirements.txt")
    assert _write(tree, Reads(files={str(cache_file), gone})) is not None
    cache_file.write_text('{"changed": true}')
    assert _replay(tree) is not None


def test_a_verified_change_of_stat_is_remembered(tree: Path) -> None:
    source = tree / "src" / "a.py"
    assert _write(tree, Reads(files={str(source)}), started_ns=time.time_ns()) is not None
    key = stamp.stamp_key(["build"], str(tree), ENV)
    first = Path(stamp.stamp_path(key)).read_bytes()
    assert _replay(tree) is not None  # just written: racy, hashed, not yet settled
    assert Path(stamp.stamp_path(key)).read_bytes() == first
    old = time.time_ns() - 10 * stamp.RACY_NS
    os.utime(source, ns=(old, old))  # ctime moves on; mtime far in the past
    os.utime(tree / "dist" / "a.py", ns=(old, old))
    assert _replay(tree, now_ns=time.time_ns() + 3 * stamp.RACY_NS) is not None
    assert Path(stamp.stamp_path(key)).read_bytes() != first  # stats refreshed, not racy
    assert _replay(tree) is not None
    source.write_text("A = 9\n")
    assert _replay(tree) is None


def test_corrupt_or_foreign_stamps_are_ignored(tree: Path) -> None:
    key = _write(tree, Reads(files={str(tree / "src" / "a.py")}))
    assert key is not None
    path = Path(stamp.stamp_path(key))
    data = path.read_bytes()
    path.write_bytes(data.replace(b"up to date", b"up to DATE"))
    assert _replay(tree) is None
    path.write_bytes(data[: len(data) // 2])
    assert _replay(tree) is None
    path.write_bytes(b"")
    assert _replay(tree) is None
    os.unlink(path)
    assert _replay(tree) is None


def test_a_stamp_that_cannot_be_refreshed_still_replays(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _write(tree, Reads(files={str(tree / "src" / "a.py")})) is not None

    def read_only(path: str, document: object) -> None:
        raise PermissionError(13, "read-only cache", path)

    monkeypatch.setattr(stamp, "_store", read_only)
    later = time.time_ns() + 3 * stamp.RACY_NS  # everything settled: a refresh is due
    assert _replay(tree, now_ns=later) is not None


def test_pseudo_files_read_by_the_build_are_not_inputs(tree: Path) -> None:
    """A build reads /proc/<pid>/stat (scratch directories name their process): a file
    that is gone once the process is, so it must not make every later check miss."""
    reads = Reads(files={str(tree / "src" / "a.py"), "/proc/self/stat", "/dev/null"})
    assert _write(tree, reads) is not None
    assert _replay(tree) is not None


def test_racy_means_changed_just_before_the_stamp_on_this_file_system() -> None:
    fine = 1_700_000_000_123_456_789  # sub-millisecond digits: a fine-grained file system
    assert stamp.racy(fine, fine + stamp.FINE_RACY_NS // 2)
    assert not stamp.racy(fine, fine + 2 * stamp.FINE_RACY_NS)
    coarse = 1_700_000_000_000_000_000  # whole seconds (FAT, ext3, HFS+)
    assert stamp.racy(coarse, coarse + 2 * stamp.FINE_RACY_NS)
    assert not stamp.racy(coarse, coarse + 2 * stamp.RACY_NS)


def _counting(monkeypatch: pytest.MonkeyPatch, name: str) -> list[str]:
    """Calls of ``name`` by replay and by the writer (each imports it)."""
    calls: list[str] = []
    real = getattr(stamp, name)

    def counted(path: str) -> object:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(stamp, name, counted)
    monkeypatch.setattr(stamp_write, name, counted)
    return calls


def test_settled_entries_are_only_stat_ed(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Entries stamped well after their last change are checked by stat alone: no file is
    read and no directory listed when nothing changed."""
    later = time.time_ns() + 10 * stamp.RACY_NS
    monkeypatch.setattr(stamp_write, "_now_ns", lambda: later)
    assert _write(tree, Reads(files={str(tree / "src" / "a.py")})) is not None
    hashed, listed = _counting(monkeypatch, "file_sha256"), _counting(monkeypatch, "_listing")
    assert _replay(tree) is not None
    assert (hashed, listed) == ([], [])
    (tree / "src" / "b.py").write_text("")  # the directory's stat moves: listed again
    assert _replay(tree) is None
    assert listed == [str(tree / "src")]


def test_hard_links_are_hashed_once(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("b.py", "c.py"):
        os.link(tree / "dist" / "a.py", tree / "dist" / name)
    hashed = _counting(monkeypatch, "file_sha256")
    assert _write(tree, Reads()) is not None
    assert len(hashed) == 1  # three names, one inode
    hashed.clear()
    assert _replay(tree) is not None  # just written: racy, checked by content
    assert len(hashed) == 1


def _settled_links(tree: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """dist/a.py with two more names, stamped well after the last change; the names
    replay checks (each a stat, or more) are returned as they are checked."""
    for name in ("b.py", "c.py"):
        os.link(tree / "dist" / "a.py", tree / "dist" / name)
    later = time.time_ns() + 10 * stamp.RACY_NS
    monkeypatch.setattr(stamp_write, "_now_ns", lambda: later)
    assert _write(tree, Reads()) is not None
    checked: list[str] = []
    real = stamp._same_file

    def counted(path: str, *args: object) -> object:
        checked.append(os.path.basename(path))
        return real(path, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(stamp, "_same_file", counted)
    return checked


def test_a_hard_link_is_checked_through_its_first_name(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = _settled_links(tree, monkeypatch)
    assert _replay(tree) is not None
    assert checked == ["a.py"]  # one inode, one stat


def test_a_further_name_of_an_output_inode_has_no_entry_of_its_own(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build links identical vendored files (653 inodes for 5,003 names at 200 servers):
    the stamp records one entry per inode and, for every further name, the name it follows.
    A further name whose directory changed is checked against that entry."""
    from mcpbundle.incremental.stamp_file import load

    _settled_links(tree, monkeypatch)
    document = load(stamp.stamp_path(stamp.stamp_key(["build"], str(tree), ENV)))
    assert document is not None
    names = {os.path.basename(p) for p in document["files"] if "/dist/" in p}
    followers = {os.path.basename(p) for p in document["follows"]}
    assert len(names) == 1 and len(followers) == 2 and names.isdisjoint(followers)
    (tree / "dist" / "new.py").write_text("")  # dist/ changed: every name is checked
    (tree / "dist" / "new.py").unlink()
    assert _replay(tree) is not None  # the same names, the same inode


def test_an_edit_through_any_name_of_a_link_goes_down_the_full_path(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _settled_links(tree, monkeypatch)
    with open(tree / "dist" / "c.py", "r+b") as handle:  # in place: the shared inode
        handle.write(b"B")
    assert _replay(tree) is None


def test_a_link_replaced_by_another_file_goes_down_the_full_path(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked = _settled_links(tree, monkeypatch)
    new = tree / "dist" / "c.py.new"
    new.write_text("A = 2\n")
    os.replace(new, tree / "dist" / "c.py")  # same names in dist/, another inode for c.py
    assert _replay(tree) is None
    assert "c.py" in checked


def test_a_new_stamp_reads_only_what_changed_since_the_last(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writing a stamp over one of the same command hashes a file (lists a directory) only
    when its stat moved or its entry was racy: a rebuild after a one-file change does not
    read the whole output again."""
    later = time.time_ns() + 10 * stamp.RACY_NS
    monkeypatch.setattr(stamp_write, "_now_ns", lambda: later)
    reads = Reads(files={str(tree / "src" / "a.py")})
    assert _write(tree, reads) is not None
    hashed, listed = _counting(monkeypatch, "file_sha256"), _counting(monkeypatch, "_listing")
    (tree / "dist" / "b.py").write_text("B = 2\n")  # a new output file
    assert _write(tree, reads) is not None
    assert hashed == [str(tree / "dist" / "b.py")]
    assert listed == []  # the walk of the output lists each directory once, and only then
    assert _replay(tree) is not None
    (tree / "dist" / "c.py").write_text("C = 2\n")  # a file the stamp does not know
    assert _replay(tree) is None
    (tree / "src" / "a.py").write_text("A = 3\n")  # same size, new bytes: hashed, not replayed
    assert _replay(tree) is None


def test_a_racy_entry_is_hashed_again_when_the_next_stamp_is_written(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(files={str(tree / "src" / "a.py")})
    assert _write(tree, reads) is not None  # just written: every entry racy
    hashed = _counting(monkeypatch, "file_sha256")
    later = time.time_ns() + 10 * stamp.RACY_NS
    monkeypatch.setattr(stamp_write, "_now_ns", lambda: later)
    assert _write(tree, reads) is not None
    assert sorted(hashed) == sorted([str(tree / "src" / "a.py"), str(tree / "dist" / "a.py")])
