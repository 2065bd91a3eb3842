"""ReadCache: a stored result comes back only while everything it read is unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcpbundle.incremental import read_cache
from mcpbundle.incremental.read_cache import ReadCache
from mcpbundle.plan.derived_reads import note


def _reader(root: Path, calls: list[str]):  # type: ignore[no-untyped-def]
    def make() -> tuple[str, bool, None]:
        calls.append("made")
        text = (root / "pkg" / "a.txt").read_text()
        exists = (root / "pkg" / "b.txt").is_file()  # an existence check: no open()
        return f"{text}|{exists}", True, None

    return make


def _cache(tmp_path: Path, root: Path, *parts: object) -> ReadCache:
    return ReadCache.open(str(tmp_path / "cache"), str(root), parts or ("p",))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "repo" / "pkg").mkdir(parents=True)
    (tmp_path / "repo" / "pkg" / "a.txt").write_text("one")
    return tmp_path / "repo"


def _twice(tmp_path: Path, root: Path, change=None, parts=("p",)):  # type: ignore[no-untyped-def]
    calls: list[str] = []
    first = _cache(tmp_path, root)
    assert first.compute("k", _reader(root, calls)) == "one|False"
    first.save()
    if change is not None:
        change()
    second = _cache(tmp_path, root, *parts)
    value = second.compute("k", _reader(root, calls))
    return value, len(calls), second


def test_unchanged_inputs_hit(tmp_path: Path, root: Path) -> None:
    value, made, cache = _twice(tmp_path, root)
    assert (value, made, cache.hits, cache.misses) == ("one|False", 1, 1, 0)


def test_a_changed_file_misses(tmp_path: Path, root: Path) -> None:
    value, made, _ = _twice(tmp_path, root, lambda: (root / "pkg" / "a.txt").write_text("two"))
    assert (value, made) == ("two|False", 2)


def test_a_new_file_beside_one_read_misses(tmp_path: Path, root: Path) -> None:
    value, made, _ = _twice(tmp_path, root, lambda: (root / "pkg" / "b.txt").write_text(""))
    assert (value, made) == ("one|True", 2)


def test_other_parts_miss(tmp_path: Path, root: Path) -> None:
    _, made, _ = _twice(tmp_path, root, parts=("other config",))
    assert made == 2


def test_the_environment_misses(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, made, _ = _twice(tmp_path, root, lambda: monkeypatch.setenv("MCPBUNDLE_SOMETHING", "1"))
    assert made == 2


def test_another_mcpbundle_misses(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, made, _ = _twice(tmp_path, root, lambda: monkeypatch.setattr(read_cache, "__version__", "0"))
    assert made == 2


def test_mcpbundle_code_changes_miss(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tmp_path / "code"
    (code / "sub").mkdir(parents=True)
    (code / "sub" / "m.py").write_text("x = 1\n")
    monkeypatch.setattr(read_cache, "MCPBUNDLE_DIR", str(code))
    _, made, _ = _twice(tmp_path, root, lambda: (code / "sub" / "m.py").write_text("x = 22\n"))
    assert made == 2


def test_not_storable_and_volatile_are_not_kept(tmp_path: Path, root: Path) -> None:
    cache = _cache(tmp_path, root)
    assert cache.compute("k", lambda: ("v", False, None)) == "v"
    cache.save()
    again = _cache(tmp_path, root)
    assert again.compute("k", lambda: ("w", True, None)) == "w"


def test_a_corrupt_file_is_ignored(tmp_path: Path, root: Path) -> None:
    cache = _cache(tmp_path, root)
    cache.compute("k", _reader(root, []))
    cache.save()
    data = Path(cache.path).read_bytes()
    Path(cache.path).write_bytes(data[:-3] + b"xyz")
    calls: list[str] = []
    assert _cache(tmp_path, root).compute("k", _reader(root, calls)) == "one|False"
    assert calls == ["made"]


def test_hidden_output_is_not_a_listing_change(tmp_path: Path, root: Path) -> None:
    calls: list[str] = []
    out = root / "dist"
    first = ReadCache.open(str(tmp_path / "c"), str(root), ("p",), hidden=[str(out)])
    first.compute("k", _reader(root, calls))
    first.save()
    out.mkdir()
    (root / ".dist.mcpbundle-lock").write_text("")
    second = ReadCache.open(str(tmp_path / "c"), str(root), ("p",), hidden=[str(out)])
    second.compute("k", _reader(root, calls))
    assert calls == ["made"]
    (root / "new.txt").write_text("")  # anything else in the root's listing does count
    third = ReadCache.open(str(tmp_path / "c"), str(root), ("p",), hidden=[str(out)])
    third.compute("k", _reader(root, calls))
    assert calls == ["made", "made"]


def _fact_of(path: str) -> object:
    return Path(path).read_text().count("import")


def _fact_reader(root: Path, calls: list[str], extra_read: bool = False):  # type: ignore[no-untyped-def]
    from mcpbundle.plan.derived_reads import noting

    def make() -> tuple[str, bool, object]:
        calls.append("made")
        path = str(root / "pkg" / "a.txt")
        with noting() as noted:
            with open(path) as handle:
                found = handle.read().count("import")
            note(path, ("imports",), found)
            if extra_read:
                Path(path).read_text()  # read for something else too: its bytes count
        return f"{found}", True, noted

    return make


def test_a_file_read_for_a_fact_depends_on_the_fact(tmp_path: Path, root: Path) -> None:
    calls: list[str] = []
    open_cache = lambda: ReadCache.open(  # noqa: E731
        str(tmp_path / "c"), str(root), ("p",), facts={"imports": _fact_of}
    )
    first = open_cache()
    assert first.compute("k", _fact_reader(root, calls)) == "0"
    first.save()
    (root / "pkg" / "a.txt").write_text("other bytes, the same fact")
    second = open_cache()
    assert second.compute("k", _fact_reader(root, calls)) == "0"
    assert calls == ["made"]
    second.save()
    (root / "pkg" / "a.txt").write_text("import x")  # another fact: computed again
    assert open_cache().compute("k", _fact_reader(root, calls)) == "1"
    assert calls == ["made", "made"]


def test_a_file_also_read_otherwise_depends_on_its_bytes(tmp_path: Path, root: Path) -> None:
    calls: list[str] = []
    open_cache = lambda: ReadCache.open(  # noqa: E731
        str(tmp_path / "c"), str(root), ("p",), facts={"imports": _fact_of}
    )
    first = open_cache()
    first.compute("k", _fact_reader(root, calls, extra_read=True))
    first.save()
    (root / "pkg" / "a.txt").write_text("other bytes, the same fact")
    open_cache().compute("k", _fact_reader(root, calls, extra_read=True))
    assert calls == ["made", "made"]


def test_a_root_reached_through_a_symlink_still_lists_parents(tmp_path: Path, root: Path) -> None:
    link = tmp_path / "link"
    link.symlink_to(root)
    calls: list[str] = []

    def make() -> tuple[str, bool, None]:
        calls.append("made")
        real = (root / "pkg").resolve()  # code that resolves paths names the real directory
        return (real / "a.txt").read_text() + str((real / "b.txt").is_file()), True, None

    first = ReadCache.open(str(tmp_path / "c"), str(link), ("p",))
    first.compute("k", make)
    first.save()
    (root / "pkg" / "b.txt").write_text("")
    ReadCache.open(str(tmp_path / "c"), str(link), ("p",)).compute("k", make)
    assert calls == ["made", "made"]


def test_a_file_edited_while_computing_is_not_stored(tmp_path: Path, root: Path) -> None:
    calls: list[str] = []

    def make() -> tuple[str, bool, None]:
        calls.append("made")
        text = (root / "pkg" / "a.txt").read_text()
        (root / "pkg" / "a.txt").write_text(text)  # an editor saving meanwhile (same bytes)
        return text, True, None

    first = _cache(tmp_path, root)
    first.compute("k", make)
    first.save()
    _cache(tmp_path, root).compute("k", make)
    assert calls == ["made", "made"]


def test_entries_a_build_did_not_ask_for_are_kept(tmp_path: Path, root: Path) -> None:
    calls: list[str] = []
    first = _cache(tmp_path, root)
    first.compute("a", _reader(root, calls))
    first.compute("b", _reader(root, calls))
    first.save()
    partial = _cache(tmp_path, root)  # a build of one server
    partial.compute("a", _reader(root, calls))
    partial.compute("c", _reader(root, calls))  # ... that stores something new, and saves
    partial.save()
    assert _cache(tmp_path, root).compute("b", _reader(root, calls)) == "one|False"
    assert calls == ["made", "made", "made"]


def _counting_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    hashed: list[str] = []
    real = read_cache.file_sha256

    def counted(path: str) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(read_cache, "file_sha256", counted)
    return hashed


def _stored_then_checked(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch, *, racy: bool
) -> tuple[ReadCache, list[str], list[str]]:
    """Store ``k`` (its files judged ``racy`` or settled), then use it from a new cache:
    ``(the second cache, the makes, the files hashed to check the entry)``."""
    monkeypatch.setattr(read_cache, "racy", lambda ctime_ns, at_ns: racy)
    calls: list[str] = []
    first = _cache(tmp_path, root)
    first.compute("k", _reader(root, calls))
    first.save()
    hashed = _counting_hashes(monkeypatch)
    second = _cache(tmp_path, root)
    assert second.compute("k", _reader(root, calls)) == "one|False"
    return second, calls, hashed


def test_a_settled_file_whose_stat_is_as_recorded_is_not_read_again(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 200 servers every rebuild hashed the 603 files the plans had read, to find them
    unchanged; a file whose stat (size, times, inode, mode) is as stored, and was not
    changed just before it was stored, is taken as unchanged, as the no-op stamp does."""
    second, calls, hashed = _stored_then_checked(tmp_path, root, monkeypatch, racy=False)
    assert (second.hits, calls, hashed) == (1, ["made"], [])


def test_a_file_stored_just_after_a_change_is_read_again(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Changed within the file system's time granularity of being stored: a later edit of
    the same size could keep every time, so its bytes are compared."""
    second, _calls, hashed = _stored_then_checked(tmp_path, root, monkeypatch, racy=True)
    assert second.hits == 1
    assert hashed == [str(root / "pkg" / "a.txt")]


def test_a_settled_file_rewritten_with_its_times_restored_still_misses(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Restoring the mtime does not restore the change time: the bytes are compared."""
    monkeypatch.setattr(read_cache, "racy", lambda ctime_ns, at_ns: False)
    path = root / "pkg" / "a.txt"

    def same_size_edit() -> None:
        stat = path.stat()
        path.write_text("two")
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

    value, made, _ = _twice(tmp_path, root, same_size_edit)
    assert (value, made) == ("two|False", 2)


def test_a_settled_directory_whose_stat_is_as_recorded_is_not_listed_again(
    tmp_path: Path, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(read_cache, "racy", lambda ctime_ns, at_ns: False)
    calls: list[str] = []
    first = _cache(tmp_path, root)
    first.compute("k", _reader(root, calls))
    first.save()
    listed: list[str] = []
    real = read_cache.os.listdir
    monkeypatch.setattr(read_cache.os, "listdir", lambda p: (listed.append(p), real(p))[1])
    assert _cache(tmp_path, root).compute("k", _reader(root, calls)) == "one|False"
    assert listed == []
    (root / "pkg" / "b.txt").write_text("")  # a new entry moves the directory's times
    assert _cache(tmp_path, root).compute("k", _reader(root, calls)) == "one|True"
