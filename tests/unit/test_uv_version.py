"""uv's version is asked once per binary: a build's resolver identity needs it every time,
and a process start costs more than the rest of a cached resolution's bookkeeping."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcpbundle.base.uv_binary import uv_version
from mcpbundle.incremental.read_recorder import recording


def _fake_uv(path: Path, version: str, *, status: int = 0) -> Path:
    """A uv that prints ``version`` and counts its runs in ``<path>.runs``."""
    path.write_text(
        "#!/bin/sh\n"
        f'echo run >> "{path}.runs"\n'
        f'echo "uv {version} (x86_64-unknown-linux-gnu)"\n'
        f"exit {status}\n"
    )
    path.chmod(0o755)
    return path


def _runs(uv: Path) -> int:
    counter = Path(f"{uv}.runs")
    return len(counter.read_text().splitlines()) if counter.exists() else 0


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(root))
    return root


def test_a_binary_is_asked_once(tmp_path: Path, cache: Path) -> None:
    uv = _fake_uv(tmp_path / "uv", "0.9.1")
    assert uv_version(str(uv)) == "0.9.1"
    assert uv_version(str(uv)) == "0.9.1"
    assert _runs(uv) == 1
    assert [p.name[:3] for p in (cache / "interpreters").iterdir()] == ["uv-"]


def test_a_replaced_binary_is_asked_again(tmp_path: Path, cache: Path) -> None:
    uv = _fake_uv(tmp_path / "uv", "0.9.1")
    assert uv_version(str(uv)) == "0.9.1"
    replacement = _fake_uv(tmp_path / "uv.new", "0.10.0")
    os.replace(replacement, uv)  # as an upgrade installs it: a new file under the old name
    assert uv_version(str(uv)) == "0.10.0"


def test_a_link_moved_to_another_binary_is_asked_again(tmp_path: Path, cache: Path) -> None:
    old = _fake_uv(tmp_path / "uv-0.9", "0.9.1")
    new = _fake_uv(tmp_path / "uv-0.10", "0.10.0")
    link = tmp_path / "uv"
    link.symlink_to(old)
    assert uv_version(str(link)) == "0.9.1"
    link.unlink()
    link.symlink_to(new)
    assert uv_version(str(link)) == "0.10.0"


def test_a_remembered_version_still_names_uv_as_an_input(tmp_path: Path, cache: Path) -> None:
    """The no-op stamp lists the programs a build's answers came from: upgrading uv must
    send the next build down the full path even when the version was not asked."""
    uv = _fake_uv(tmp_path / "uv", "0.9.1")
    uv_version(str(uv))
    with recording() as reads:
        assert uv_version(str(uv)) == "0.9.1"
    assert _runs(uv) == 1
    assert os.path.abspath(uv) in reads.programs


def test_a_failing_uv_is_unknown_and_not_remembered(tmp_path: Path, cache: Path) -> None:
    uv = _fake_uv(tmp_path / "uv", "0.9.1", status=1)
    assert uv_version(str(uv)) == "unknown"
    assert uv_version(str(uv)) == "unknown"
    assert _runs(uv) == 2


def test_a_cache_that_cannot_be_written_asks_every_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(blocker / "cache"))
    uv = _fake_uv(tmp_path / "uv", "0.9.1")
    assert uv_version(str(uv)) == "0.9.1"
    assert uv_version(str(uv)) == "0.9.1"
    assert _runs(uv) == 2
