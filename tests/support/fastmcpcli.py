"""The real `fastmcp inspect`, run as a host would: another cwd, no PYTHONPATH, no update check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FASTMCP = Path(sys.executable).parent / "fastmcp"


def host_env() -> dict[str, str]:
    """This environment without PYTHONPATH / VIRTUAL_ENV, and FastMCP's update check off."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(FASTMCP_CHECK_FOR_UPDATES="off", COLUMNS="200")
    return env


def run_inspect(
    spec: Path | str, cwd: Path, fastmcp: Path = FASTMCP
) -> subprocess.CompletedProcess[str]:
    """``fastmcp inspect SPEC --format fastmcp`` from ``cwd`` (JSON on stdout when it loads)."""
    return subprocess.run(
        [str(fastmcp), "inspect", str(spec), "--format", "fastmcp"],
        cwd=cwd,
        env=host_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def tool_names(result: subprocess.CompletedProcess[str]) -> list[str]:
    """The sorted tool names of a successful inspect (fails the test with its stderr)."""
    assert result.returncode == 0, result.stderr[-3000:]
    return sorted(tool["name"] for tool in json.loads(result.stdout)["tools"])
