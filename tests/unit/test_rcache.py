"""The resolver cache with a fake resolver: keys, entries, corruption, info/clear."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.resolve import cache as rcache
from mcpbundle.resolve.cache import cache_clear, cache_info, cache_key, cached_resolve, pin_lines
from mcpbundle.resolve.resolver import ResolveRequest, ResolverSettings

OUTPUT = "# header\nalpha==1.0\n    # via -r requirements.in\n"


class FakeResolver:
    def __init__(self) -> None:
        self.calls: list[ResolveRequest] = []
        self.identity = "pip-tools==7 pip==26 python==3.12 linux-x86_64"
        self.output = OUTPUT

    def resolve(self, request: ResolveRequest, settings: ResolverSettings) -> str:
        self.calls.append(request)
        return self.output

    def resolver_identity(self, settings: ResolverSettings) -> str:
        return f"{settings.resolver} {self.identity} {settings.python}"


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeResolver]:
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(tmp_path / "cache"))
    resolver = FakeResolver()
    monkeypatch.setattr(rcache, "resolve", resolver.resolve)
    monkeypatch.setattr(rcache, "resolver_identity", resolver.resolver_identity)
    return resolver


REQUEST = ResolveRequest(server="ops", requirements_in="alpha\n")
SETTINGS = ResolverSettings()


def test_miss_then_hit_is_byte_identical(fake: FakeResolver) -> None:
    first, hit1 = cached_resolve(REQUEST, SETTINGS)
    second, hit2 = cached_resolve(REQUEST, SETTINGS)
    assert (hit1, hit2) == (False, True)
    assert first == second == OUTPUT
    assert len(fake.calls) == 1


def test_server_name_and_vendored_are_not_key_inputs(fake: FakeResolver) -> None:
    cached_resolve(REQUEST, SETTINGS)
    _out, hit = cached_resolve(replace(REQUEST, server="other"), SETTINGS)
    assert hit


def test_hit_is_reverified_with_the_request_vendored_names(fake: FakeResolver) -> None:
    cached_resolve(REQUEST, SETTINGS)
    with pytest.raises(BuildError, match="alpha"):
        cached_resolve(replace(REQUEST, vendored=frozenset({"alpha"})), SETTINGS)


@pytest.mark.parametrize(
    ("request_change", "settings_change"),
    [
        ({"requirements_in": "alpha<2\n"}, {}),
        ({"previous": "alpha==0.9\n"}, {}),
        ({}, {"python": "3.99"}),
        ({}, {"resolver": "uv"}),
        ({}, {"index_url": "https://mirror.example/simple"}),
        ({}, {"extra_index_urls": ("https://extra.example/simple",)}),
        ({}, {"find_links": ("https://links.example/",)}),
        ({}, {"no_index": True}),
        ({}, {"hashes": True}),
    ],
)
def test_each_key_input_changes_the_key(
    fake: FakeResolver, request_change: dict[str, object], settings_change: dict[str, object]
) -> None:
    cached_resolve(REQUEST, SETTINGS)
    request = replace(REQUEST, **request_change)  # type: ignore[arg-type]
    settings = replace(SETTINGS, **settings_change)  # type: ignore[arg-type]
    assert cache_key(request, settings) != cache_key(REQUEST, SETTINGS)
    _out, hit = cached_resolve(request, settings)
    assert not hit
    assert len(fake.calls) == 2


def test_resolver_version_is_a_key_input(fake: FakeResolver) -> None:
    cached_resolve(REQUEST, SETTINGS)
    fake.identity = "pip-tools==8 pip==26 python==3.12 linux-x86_64"
    assert not cached_resolve(REQUEST, SETTINGS)[1]


@pytest.mark.parametrize("flags", [{"upgrade": True}, {"upgrade_packages": ("alpha",)}])
def test_upgrade_flags_change_the_key_and_always_resolve(
    fake: FakeResolver, flags: dict[str, object]
) -> None:
    request = replace(REQUEST, previous="alpha==0.9\n", **flags)  # type: ignore[arg-type]
    assert cache_key(request, SETTINGS) != cache_key(
        replace(REQUEST, previous="alpha==0.9\n"), SETTINGS
    )
    assert not cached_resolve(request, SETTINGS)[1]
    assert not cached_resolve(request, SETTINGS)[1]  # --upgrade asks the index every time
    assert len(fake.calls) == 2


def test_previous_enters_the_key_as_pins_only() -> None:
    a = "# header one\nalpha==1.0 \\\n    --hash=sha256:aa\n    # via -r x\nbeta==2.0\n"
    b = "# another header\nbeta==2.0\n    # via x\nalpha==1.0 --hash=sha256:aa\n"
    assert pin_lines(a) == pin_lines(b) == ["alpha==1.0 --hash=sha256:aa", "beta==2.0"]
    assert pin_lines(None) == pin_lines("# only comments\n") == []


def test_fixed_point_alias_makes_the_rebuild_hit(fake: FakeResolver) -> None:
    output, hit = cached_resolve(REQUEST, SETTINGS)
    assert not hit
    _again, hit = cached_resolve(replace(REQUEST, previous=output), SETTINGS)
    assert hit
    assert len(fake.calls) == 1


def test_disabled_bypasses_read_and_write(fake: FakeResolver) -> None:
    assert cached_resolve(REQUEST, SETTINGS, enabled=False) == (OUTPUT, False)
    assert cache_info()["kinds"]["resolve"]["entries"] == 0
    cached_resolve(REQUEST, SETTINGS)
    assert cached_resolve(REQUEST, SETTINGS, enabled=False) == (OUTPUT, False)
    assert len(fake.calls) == 3


def _entry(key: str) -> Path:
    return rcache.entry_path(key)


@pytest.mark.parametrize("damage", ["truncate", "flip", "wrong-key", "not-json", "empty", "list"])
def test_corrupt_entry_is_ignored_and_replaced(fake: FakeResolver, damage: str) -> None:
    cached_resolve(REQUEST, SETTINGS)
    path = _entry(cache_key(REQUEST, SETTINGS))
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":  # a byte of the output changes: the checksum no longer matches
        data = json.loads(raw)
        data["output"] = data["output"].replace("alpha==1.0", "alpha==1.1")
        path.write_text(json.dumps(data))
    elif damage == "wrong-key":
        data = json.loads(raw)
        data["key"] = "0" * 64
        path.write_text(json.dumps(data))
    elif damage == "not-json":
        path.write_bytes(b"\xff\xfe garbage")
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        path.write_text("[1, 2]")
    fake.output = OUTPUT + "# fresh\n"
    output, hit = cached_resolve(REQUEST, SETTINGS)
    assert not hit
    assert output == fake.output
    assert json.loads(path.read_text())["output"] == fake.output  # replaced
    assert cached_resolve(REQUEST, SETTINGS) == (fake.output, True)


def test_raw_byte_flip_anywhere_is_never_trusted(fake: FakeResolver) -> None:
    cached_resolve(REQUEST, SETTINGS)
    path = _entry(cache_key(REQUEST, SETTINGS))
    raw = path.read_bytes()
    for index in range(len(raw)):
        flipped = bytearray(raw)
        flipped[index] ^= 0x01
        path.write_bytes(bytes(flipped))
        got = rcache.read_entry(cache_key(REQUEST, SETTINGS))
        assert got is None or got == OUTPUT  # e.g. a flipped space in JSON whitespace
    path.write_bytes(raw)


def test_entry_layout_and_atomic_write(fake: FakeResolver, tmp_path: Path) -> None:
    cached_resolve(REQUEST, SETTINGS)
    key = cache_key(REQUEST, SETTINGS)
    path = tmp_path / "cache" / "resolve" / key[:2] / f"{key}.json"
    assert path.is_file()
    data = json.loads(path.read_text())
    assert set(data) == {"key", "output", "sha256"}
    assert not list(path.parent.glob("*.tmp"))


def test_local_find_links_listing_is_a_key_input(fake: FakeResolver, tmp_path: Path) -> None:
    links = tmp_path / "wheels"
    links.mkdir()
    settings = ResolverSettings(no_index=True, find_links=(str(links),))
    before = cache_key(REQUEST, settings)
    (links / "alpha-3.0-py3-none-any.whl").write_bytes(b"x")
    assert cache_key(REQUEST, settings) != before


def test_cache_info_and_clear(fake: FakeResolver, tmp_path: Path) -> None:
    cached_resolve(REQUEST, SETTINGS)
    cached_resolve(replace(REQUEST, requirements_in="beta\n"), SETTINGS)
    venv = tmp_path / "cache" / "venvs" / ("ab" * 32)  # a venv key: sha256 hex
    venv.mkdir(parents=True)
    (venv / "f").write_bytes(b"12345")
    info = cache_info()
    assert info["path"] == str(tmp_path / "cache")
    assert info["kinds"]["resolve"]["entries"] == 4  # two results, each with its fixed point
    assert info["kinds"]["resolve"]["bytes"] > 0
    assert info["kinds"]["venvs"] == {
        "path": str(tmp_path / "cache" / "venvs"),
        "entries": 1,
        "bytes": 5,
    }
    assert info["kinds"]["git"]["entries"] == 0
    assert info["entries"] == 5
    assert cache_clear(("resolve",)) == 4
    assert cache_info()["entries"] == 1
    assert cache_clear() == 1
    assert cache_info()["bytes"] == 0
    with pytest.raises(UsageError):
        cache_clear(("bogus",))


def test_cache_clear_removes_only_what_mcpbundle_wrote(fake: FakeResolver, tmp_path: Path) -> None:
    """A cache directory shared with other files (MCPBUNDLE_CACHE_DIR=~) loses only ours."""
    cached_resolve(REQUEST, SETTINGS)
    cache = tmp_path / "cache"
    theirs = {
        "notes.txt": b"top level",
        "git/README": b"someone's git dir",
        "git/project/.git/HEAD": b"ref: refs/heads/main\n",
        "venvs/myenv/bin/python": b"#!",
        "stamps/todo.txt": b"mine",
        "resolve/notes.md": b"mine",
        "tmp/keep.txt": b"mine",
    }
    for rel, data in theirs.items():
        (cache / rel).parent.mkdir(parents=True, exist_ok=True)
        (cache / rel).write_bytes(data)
    ours = [
        cache / "git" / ("0" * 16),
        cache / "venvs" / ("c" * 64),
        cache / "stamps" / f"{'d' * 64}.stamp",
    ]
    for path in ours:
        if path.suffix:
            path.write_bytes(b"x")
        else:
            path.mkdir()
    assert cache_clear() == 2 + len(ours)  # two resolve entries (result + fixed point)
    for rel, data in theirs.items():
        assert (cache / rel).read_bytes() == data, rel
    assert not any(path.exists() for path in ours)
    assert not list((cache / "resolve").glob("*/*.json"))


def test_cache_clear_venvs_removes_verifys_side_caches(fake: FakeResolver, tmp_path: Path) -> None:
    """verify keeps source loads and surfaces beside the venvs; they go with them, uncounted."""
    venvs = tmp_path / "cache" / "venvs"
    (venvs / ("e" * 64)).mkdir(parents=True)
    for side in (".source-loads", ".surfaces"):
        (venvs / side).mkdir()
        (venvs / side / f"{'f' * 64}.json").write_text("{}")
    (venvs / ".hidden-notes").write_text("theirs")
    assert cache_info()["kinds"]["venvs"]["entries"] == 1
    assert cache_clear(("venvs",)) == 1
    assert not (venvs / ".source-loads").exists()
    assert not (venvs / ".surfaces").exists()
    assert (venvs / ".hidden-notes").read_text() == "theirs"


def test_cache_clear_plans_removes_only_ours(fake: FakeResolver, tmp_path: Path) -> None:
    plans = tmp_path / "cache" / "plans"
    plans.mkdir(parents=True)
    ours, theirs = plans / ("a" * 64), plans / "notes.txt"
    for path in (ours, theirs):
        path.write_bytes(b"x")
    assert cache_info()["kinds"]["plans"]["entries"] == 1
    assert cache_clear(("plans",)) == 1
    assert not ours.exists()
    assert theirs.exists()


def test_cache_clear_interpreters_removes_only_ours(fake: FakeResolver, tmp_path: Path) -> None:
    markers = tmp_path / "cache" / "interpreters"
    markers.mkdir(parents=True)
    ours = [markers / ("piptools-" + "b" * 64), markers / ("uv-" + "c" * 64)]  # uv's version
    theirs = markers / "python3.12"
    for path in (*ours, theirs):
        path.write_bytes(b"")
    assert cache_info()["kinds"]["interpreters"]["entries"] == 2
    assert cache_clear(("interpreters",)) == 2
    assert not any(path.exists() for path in ours)
    assert theirs.exists()
