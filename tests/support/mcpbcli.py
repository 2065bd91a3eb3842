"""The official MCP Bundle CLI (``@anthropic-ai/mcpb`` from npm) and a bundle started
the way its manifest says, for the ``network`` tests.

The CLI is installed once per machine into a cache directory
(``$MCPBUNDLE_TEST_CACHE`` or ``~/.cache/mcpbundle-tests``), under a lock so parallel
test workers share one install; node and npm must be on PATH.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from support.fastmcpcli import host_env

MCPB_CLI = "@anthropic-ai/mcpb@2.1.2"  # pinned: the same checks on every machine


def cache_dir() -> Path:
    base = os.environ.get("MCPBUNDLE_TEST_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "mcpbundle-tests"


def mcpb_cli() -> Path:
    """The ``mcpb`` executable, installed from npm on first use."""
    root = cache_dir() / ("npm-" + MCPB_CLI.replace("/", "_").replace("@", ""))
    exe = root / "node_modules" / ".bin" / "mcpb"
    if exe.is_file():
        return exe
    npm = shutil.which("npm")
    assert npm is not None, "the mcpb network tests need node and npm on PATH"
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f"{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not exe.is_file():
            scratch = Path(tempfile.mkdtemp(prefix=f"{root.name}-", dir=root.parent))
            done = subprocess.run(
                [npm, "install", "--prefix", str(scratch), "--no-audit", "--no-fund",
                 "--loglevel", "error", MCPB_CLI],
                capture_output=True, text=True, timeout=600, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr[-3000:]
            if root.exists():
                shutil.rmtree(root)
            scratch.rename(root)
    return exe


def run_mcpb(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``mcpb ARGS`` (fails the test with its output unless it exits 0)."""
    done = subprocess.run(
        [str(mcpb_cli()), *map(str, args)], cwd=cwd, capture_output=True, text=True,
        timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


def unzip(path: Path, dest: Path) -> Path:
    with zipfile.ZipFile(path) as zf:
        zf.extractall(dest)
    return dest


def start_command(
    unpacked: Path, document: dict[str, Any], values: dict[str, str] | None = None
) -> tuple[str, list[str], dict[str, str]]:
    """What a client runs for the bundle unzipped at ``unpacked``: its mcp_config with
    ``${__dirname}`` and each ``${user_config.NAME}`` filled in (``values``, else the
    setting's default, else a placeholder). ``uv`` is this venv's; ``python`` is this
    interpreter with ``-S``, so nothing but ``server/lib`` provides the packages."""
    config = document["server"]["mcp_config"]
    settings = document.get("user_config", {})
    filled = {
        name: (values or {}).get(name) or str(spec.get("default") or "placeholder")
        for name, spec in settings.items()
    }

    def fill(text: str) -> str:
        text = text.replace("${__dirname}", str(unpacked))
        for name, value in filled.items():
            text = text.replace(f"${{user_config.{name}}}", value)
        return text

    env = host_env()
    env.update({k: fill(v) for k, v in config.get("env", {}).items()})
    env["UV_PYTHON"] = sys.executable  # the bundle's requires-python is this minor version
    args = [fill(a) for a in config["args"]]
    if config["command"] == "uv":
        uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
        assert uv is not None, "uv comes with the dev dependencies"
        return uv, args, env
    assert config["command"] == "python"
    return sys.executable, ["-S", *args], env


def listed_tools(
    unpacked: Path, document: dict[str, Any], cwd: Path, values: dict[str, str] | None = None
) -> list[str]:
    """Start the bundle over stdio with FastMCP's client; its tools/list, sorted."""
    from fastmcp import Client
    from fastmcp.client.transports import StdioTransport

    command, args, env = start_command(unpacked, document, values)

    async def names() -> list[str]:
        transport = StdioTransport(command=command, args=args, env=env, cwd=str(cwd))
        async with Client(transport, timeout=600, init_timeout=600) as client:
            return sorted(tool.name for tool in await client.list_tools())

    return asyncio.run(names())
