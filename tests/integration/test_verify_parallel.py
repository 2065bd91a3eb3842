"""Servers verified side by side: reports in name order as soon as possible, one budget each."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
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


@pytest.mark.parametrize("reused", [True, False])
def test_a_just_built_venv_loads_the_source_after_the_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reused: bool
) -> None:
    """A venv just built has no bytecode: the bundle load writes it and the source load (which
    writes none) reads it afterwards; a reused venv loads both at once."""
    from mcpbundle.verify import verifier
    from mcpbundle.verify.probe_runner import SourceSpec
    from mcpbundle.verify.venvs import Venv

    out = make_out(tmp_path, {"s": 0.5})
    spec = SourceSpec(entry=out / "s" / "server.py", object=None, paths=(), root=out / "s")
    events: list[str] = []

    def traced(name: str, load: Callable[..., object]) -> Callable[..., object]:
        def run(*args: object) -> object:
            events.append(f"{name} starts")
            try:
                return load(*args)
            finally:
                events.append(f"{name} ends")

        return run

    monkeypatch.setattr(verifier, "run_probe", traced("bundle", verifier.run_probe))
    monkeypatch.setattr(verifier, "load_cached", traced("source", verifier.load_cached))
    venv = Venv(python=PYTHON, root=tmp_path, installer="uv", install_seconds=1.0, reused=reused)
    monkeypatch.setattr(verifier, "_venv", lambda *_: venv)
    (server,) = verify(
        output_dir=out, servers=None, http=False, cache_dir=tmp_path / "cache", env={},
        expect_tools={}, installer=None, python=PYTHON, sources={"s": spec},
    ).servers  # fmt: skip
    assert server.ok, server.error
    assert server.source is not None and server.source.ok
    after = ["bundle starts", "bundle ends", "source starts", "source ends"]
    assert (events == after) is not reused, events
