"""Servers verified side by side: reports in name order as soon as possible, one budget each."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pytest

from mcpbundle.verify import sandbox
from mcpbundle.verify.probe_runner import LoadContext, run_probe
from mcpbundle.verify.verifier import Limits, ServerReport, verify

PYTHON = Path(sys.executable)
SERVER = """
import time
time.sleep({sleep})
from fastmcp import FastMCP

mcp = FastMCP("s")


@mcp.tool()
def ping() -> str:
    return "pong"
"""


def make_out(tmp_path: Path, sleeps: dict[str, float]) -> Path:
    out = tmp_path / "out"
    entries = {}
    for name, sleep in sleeps.items():
        (out / name).mkdir(parents=True)
        (out / name / "server.py").write_text(SERVER.format(sleep=sleep), encoding="utf-8")
        (out / name / "requirements.txt").write_text("", encoding="utf-8")
        entries[name] = {"path": name, "entrypoint": f"{name}/server.py",
                         "requirements": f"{name}/requirements.txt", "files": {}}  # fmt: skip
    document = {"version": 1, "source": {"commit": None, "dirty": False}, "servers": entries}
    (out / "mcpbundle-manifest.json").write_text(json.dumps(document), encoding="utf-8")
    return out


def test_reports_stream_in_name_order(tmp_path: Path) -> None:
    """The first server's report arrives while a slower one is still loading."""
    out = make_out(tmp_path, {"a-quick": 0, "b-quick": 0, "z-slow": 4})
    seen: list[tuple[str, int]] = []

    def on_result(report: ServerReport) -> None:
        with sandbox._running_lock:
            seen.append((report.name, len(sandbox._running)))

    report = verify(
        output_dir=out, servers=None, http=False, cache_dir=tmp_path / "cache", env={},
        expect_tools={}, installer=None, python=PYTHON, jobs=3, on_result=on_result,
    )  # fmt: skip
    assert report.ok, [s.error for s in report.servers]
    assert [name for name, _ in seen] == ["a-quick", "b-quick", "z-slow"]
    assert seen[0][1] >= 1, "z-slow was still loading when a-quick was reported"
    assert seen[-1][1] == 0


def test_a_spent_budget_is_not_renewed_for_the_next_load(tmp_path: Path) -> None:
    box = sandbox.Box.create(tmp_path, "load")
    ctx = LoadContext(
        python=PYTHON, env={}, deadline=time.monotonic() - 1, timeout=120, memory=None, name="ops"
    )
    load = run_probe(ctx, box, ["load", str(tmp_path / "server.py")])
    assert load.verdict == {
        "ok": False,
        "error": "timed out after 120s (verify-timeout); "
        "raise verify-timeout in [servers.ops] if the load is only slow",
    }
    assert not box.log.exists(), "nothing was started"


def test_both_loads_stop_when_the_budget_runs_out(tmp_path: Path) -> None:
    """Side by side, bundle and source loads run on the same clock and both report it."""
    from mcpbundle.verify.probe_runner import SourceSpec

    out = make_out(tmp_path, {"slow": 30})
    spec = SourceSpec(entry=out / "slow" / "server.py", object=None, paths=(), root=out / "slow")
    (server,) = verify(
        output_dir=out, servers=None, http=False, cache_dir=tmp_path / "cache", env={},
        expect_tools={}, installer=None, python=PYTHON, sources={"slow": spec},
        limits={"slow": Limits(timeout=2)},
    ).servers  # fmt: skip
    assert not server.ok
    assert server.error is not None
    assert server.error.startswith("timed out after 2s")
    assert server.source is not None
    assert server.source.error is not None
    assert "timed out after 2s" in server.source.error


def test_every_sandbox_is_gone_when_verify_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A finished server's sandbox is deleted while the next one loads, and all of them are
    deleted before verify returns."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    out = make_out(tmp_path, {"a": 0, "b": 0, "c": 0})
    report = verify(
        output_dir=out, servers=None, http=False, cache_dir=tmp_path / "cache", env={},
        expect_tools={}, installer=None, python=PYTHON, jobs=2,
    )  # fmt: skip
    assert report.ok, [s.error for s in report.servers]
    assert list(scratch.iterdir()) == []
