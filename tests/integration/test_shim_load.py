"""Shims really load package-style servers through FastMCP's own file loader.

Each case copies a tree from ``tests/fixtures/realrepos`` to a temp dir, shows
that ``fastmcp inspect`` fails on the original entrypoint, writes the shim that
:mod:`mcpbundle.plan.shim` renders, and checks ``fastmcp inspect`` lists the tools.
Everything runs from an unrelated cwd.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcpbundle.plan.dist_info import render_dist_info
from mcpbundle.plan.shim import needs_shim
from mcpbundle.plan.shim_render import DEFAULT_SHIM_NAME, render_shim
from support.fastmcpcli import host_env, run_inspect, tool_names

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "realrepos"


def _copy(name: str, tmp_path: Path) -> Path:
    dest = tmp_path / "out" / name
    shutil.copytree(FIXTURES / name, dest)
    return dest


def _write_shim(server_dir: Path, entry: Path, object_name: str) -> Path:
    decision = needs_shim(entry, server_dir, object_name=object_name)
    assert decision.needed, decision
    text = render_shim(
        source_root_rel=decision.source_root_rel(server_dir),
        module=decision.module,
        object_name=object_name,
        factory=decision.factory,
        extra_path_rels=decision.extra_path_rels(server_dir, entry),
    )
    shim = server_dir / DEFAULT_SHIM_NAME
    shim.write_text(text, encoding="utf-8")
    return shim


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    return cwd


def test_relative_imports_src_layout(tmp_path: Path, elsewhere: Path) -> None:
    server = _copy("weather", tmp_path)
    entry = server / "src" / "mcp_weather" / "server.py"
    plain = run_inspect(entry, elsewhere)
    assert plain.returncode != 0
    assert "relative import" in plain.stderr
    shim = _write_shim(server, entry, "mcp")
    assert tool_names(run_inspect(shim, elsewhere)) == ["convert", "forecast"]
    assert tool_names(run_inspect(f"{shim}:mcp", elsewhere)) == ["convert", "forecast"]


def test_object_in_init_importing_own_package(tmp_path: Path, elsewhere: Path) -> None:
    server = _copy("garmin", tmp_path)
    entry = server / "src" / "mcp_garmin" / "__init__.py"
    shim = _write_shim(server, entry, "mcp")
    # Without metadata the package's version() call fails even through the shim ...
    assert "mcp-garmin" in run_inspect(shim, elsewhere).stderr
    # ... and with a dist-info next to the package it loads.
    for rel, data in render_dist_info(
        name="mcp-garmin", version="1.4.0", top_level=["mcp_garmin"], entry_points={}
    ).items():
        target = server / "src" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    result = run_inspect(shim, elsewhere)
    assert tool_names(result) == ["activities"]
    assert json.loads(result.stdout)["server"]["version"] == "1.4.0"
    plain = run_inspect(entry, elsewhere)
    assert plain.returncode != 0
    assert "mcp_garmin" in plain.stderr


def test_sync_factory(tmp_path: Path, elsewhere: Path) -> None:
    server = _copy("factory_sync", tmp_path)
    entry = server / "server.py"
    assert run_inspect(entry, elsewhere).returncode != 0  # no module-level server object
    decision = needs_shim(entry, server, object_name="create_server")
    assert decision.factory == "sync"
    shim = _write_shim(server, entry, "create_server")
    assert tool_names(run_inspect(shim, elsewhere)) == ["ping"]


def test_async_factory_inside_running_loop(tmp_path: Path, elsewhere: Path) -> None:
    server = _copy("factory_async", tmp_path)
    entry = server / "src" / "mcp_async" / "app.py"
    assert run_inspect(f"{entry}:make_server", elsewhere).returncode != 0  # relative import
    decision = needs_shim(entry, server, object_name="make_server")
    assert decision.factory == "async"
    shim = _write_shim(server, entry, "make_server")
    # fastmcp's loader imports the file from inside its event loop
    assert tool_names(run_inspect(shim, elsewhere)) == ["hello"]


def test_async_factory_plain_import(tmp_path: Path, elsewhere: Path) -> None:
    server = _copy("factory_async", tmp_path)
    shim = _write_shim(server, server / "src" / "mcp_async" / "app.py", "make_server")
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('entry', {str(shim)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "print(type(module.mcp).__name__, module.mcp.name)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=elsewhere,
        env=host_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["FastMCP", "factory-async"]


def test_sibling_and_self_imports(tmp_path: Path, elsewhere: Path) -> None:
    server = _copy("mixed", tmp_path)
    entry = server / "src" / "mcp_mixed" / "server.py"
    assert run_inspect(entry, elsewhere).returncode != 0
    decision = needs_shim(entry, server, object_name="mcp")
    assert decision.sibling_imports == ("helpers",)
    shim = _write_shim(server, entry, "mcp")
    assert tool_names(run_inspect(shim, elsewhere)) == ["loud"]


def test_shim_survives_moving_the_bundle(tmp_path: Path, elsewhere: Path) -> None:
    server = _copy("weather", tmp_path)
    _write_shim(server, server / "src" / "mcp_weather" / "server.py", "mcp")
    moved = tmp_path / "elsewhere" / "deploy dir"
    shutil.move(str(server), str(moved))
    assert tool_names(run_inspect(moved / DEFAULT_SHIM_NAME, elsewhere)) == ["convert", "forecast"]


ASYNC_RUN_AT_IMPORT = """
import asyncio

from fastmcp import FastMCP


async def create_server() -> FastMCP:
    mcp = FastMCP("composed")

    @mcp.tool
    def hello() -> str:
        return "hi"

    return mcp


mcp = asyncio.run(create_server())
"""


def test_asyncio_run_at_import_loads_through_the_shim(tmp_path: Path, elsewhere: Path) -> None:
    server = tmp_path / "out" / "composed"
    server.mkdir(parents=True)
    entry = server / "server.py"
    entry.write_text(ASYNC_RUN_AT_IMPORT, encoding="utf-8")
    # fastmcp's loader imports the file from inside its event loop: asyncio.run fails
    assert run_inspect(f"{entry}:mcp", elsewhere).returncode != 0
    decision = needs_shim(entry, server, object_name="mcp")
    assert decision.needed and decision.loops
    text = render_shim(
        source_root_rel=decision.source_root_rel(server),
        module=decision.module,
        object_name="mcp",
        factory=decision.factory,
        thread_import=bool(decision.loops),
    )
    shim = server / DEFAULT_SHIM_NAME
    shim.write_text(text, encoding="utf-8")
    assert tool_names(run_inspect(shim, elsewhere)) == ["hello"]
