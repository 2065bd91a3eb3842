"""The secret scan remembers clean contents across runs, and nothing else."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpbundle.emit import scan_gates, scan_memo, secret_scan
from support.fakesecrets import Fakes

TOKEN = Fakes(seed=5).github()


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "cache"
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(root))
    new_process()  # a new process: only the memo on disk is shared
    yield root
    new_process()


def new_process() -> None:
    secret_scan._scan_path.cache_clear()
    secret_scan._SCANNED.clear()
    secret_scan._GATES_SAVED.clear()
    scan_memo._MEMOS.clear()
    scan_gates.forget()


def no_scanner(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    scanned: list[str] = []

    def scan_bytes(data: bytes, display: str, **_: object) -> list[secret_scan.SecretHit]:
        scanned.append(display)
        return []

    monkeypatch.setattr(secret_scan, "scan_bytes", scan_bytes)
    return scanned


def scan(path: Path, display: str) -> list[secret_scan.SecretHit]:
    return secret_scan.scan_sources([(path, display)], ())


def test_a_clean_content_is_not_scanned_again(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "key" opens the keyword plugin's gate: the engine looks at it (scan_gates clears
    # contents no gate touches without it)
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 1  # the key\n")
    assert scan(source, "libs/mod.py") == []
    memo = scan_memo.memo_path()
    lines = memo.read_text().splitlines()
    assert len(lines) == 1 and len(lines[0]) == 64 and "VALUE" not in memo.read_text()

    new_process()
    scanned = no_scanner(monkeypatch)
    assert scan(source, "libs/mod.py") == []
    assert scanned == []
    source.write_text("VALUE = 2  # the key\n")  # new bytes: scanned again
    new_process()
    scan(source, "libs/mod.py")
    assert scanned == ["mod.py"]  # scanned under its file name (its rules), named after


def test_the_file_name_is_part_of_the_key_not_its_directory(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "settings.yaml"
    source.write_text("name: demo  # the key\n")
    scan(source, "servers/a/settings.yaml")
    new_process()
    scanned = no_scanner(monkeypatch)
    scan(source, "servers/b/settings.yaml")  # the same name elsewhere: the same scan
    assert scanned == []
    scan(source, "servers/b/settings.md")  # another name: rules differ by file type
    assert scanned == ["settings.md"]


def test_one_scan_names_each_copy(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "config.py"
    source.write_text(f'TOKEN = "{TOKEN}"\n')
    hits = secret_scan.scan_sources(
        [(source, "servers/a/config.py"), (source.read_bytes(), "servers/b/config.py")], ()
    )
    assert [h.display for h in hits] == ["servers/a/config.py", "servers/b/config.py"]
    assert hits[0].kind == hits[1].kind and hits[0].masked == hits[1].masked


def test_a_finding_is_never_remembered(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "config.py"
    source.write_text(f'TOKEN = "{TOKEN}"\n')
    first = scan(source, "servers/a/config.py")
    new_process()
    again = scan(source, "servers/a/config.py")
    assert [h.kind for h in first] == [h.kind for h in again] and first
    memo = scan_memo.memo_path()
    assert not memo.exists() or TOKEN not in memo.read_text()
    assert not any(TOKEN in p.read_text(errors="replace") for p in cache.rglob("*") if p.is_file())


def test_an_unusable_cache_only_costs_a_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(blocker))
    new_process()
    # "key" opens the keyword plugin's gate: the engine looks at it (scan_gates clears
    # contents no gate touches without it)
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 1  # the key\n")
    assert scan(source, "mod.py") == []
    new_process()
    scanned = no_scanner(monkeypatch)
    assert scan(source, "mod.py") == []
    assert scanned == ["mod.py"]
    new_process()


def test_torn_lines_are_ignored(cache: Path, tmp_path: Path) -> None:
    # "key" opens the keyword plugin's gate: the engine looks at it (scan_gates clears
    # contents no gate touches without it)
    source = tmp_path / "mod.py"
    source.write_text("VALUE = 1  # the key\n")
    memo = scan_memo.memo_path()
    memo.parent.mkdir(parents=True)
    memo.write_text("0123abc\nnot hex at all\n")
    assert scan(source, "mod.py") == []
    lines = memo.read_text().splitlines()
    assert lines[:2] == ["0123abc", "not hex at all"] and len(lines) == 3


def test_the_memo_is_per_detect_secrets_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another detect-secrets (its ``__version__.py``, read without importing it or the
    metadata machinery) is another memo: its verdicts may differ."""
    package = tmp_path / "site" / "detect_secrets"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('never imported')\n")
    (package / "__version__.py").write_text("VERSION = '1.5.0'\n")
    monkeypatch.syspath_prepend(str(package.parent))
    monkeypatch.delitem(sys.modules, "detect_secrets", raising=False)  # found, not imported
    keys = []
    for version in ("1.5.0", "1.6.0", "1.6.0"):
        (package / "__version__.py").write_text(f"VERSION = '{version}'\n")
        scan_memo._scanner_key.cache_clear()
        keys.append(scan_memo._scanner_key())
    scan_memo._scanner_key.cache_clear()
    assert keys[0] != keys[1] == keys[2]
