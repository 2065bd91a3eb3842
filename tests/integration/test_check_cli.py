"""`mcpbundle check` through the CLI: clean on the example, each seeded mistake found."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from support.monorepo import mcpbundle

EXAMPLE = Path(__file__).resolve().parents[2] / "example-monorepo"

SEEDED = """\
import asyncio
import datetime
import sys

import httpx
from fastmcp import FastMCP

sys.path.append("src")
client = httpx.AsyncClient()


def create_server():
    mcp = FastMCP(name="my-server")
    return mcp


stamp = datetime.datetime.utcnow()
server = create_server()
asyncio.run(server.run())
"""


def _copy(tmp_path: Path) -> Path:
    repo = tmp_path / "example"
    shutil.copytree(EXAMPLE, repo, ignore=shutil.ignore_patterns("dist", "__pycache__"))
    return repo


def test_example_has_no_errors(tmp_path: Path) -> None:
    done = mcpbundle(_copy(tmp_path), "check", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["summary"]["errors"] == 0


def test_seeded_mistakes_are_found_with_code_and_line(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    (repo / "server-ops" / "src" / "server.py").write_text(SEEDED)
    done = mcpbundle(repo, "check", "ops", "--format", "json")
    assert done.returncode == 1
    found = {
        (f["code"], f["line"])
        for f in json.loads(done.stdout)["findings"]
        if f["file"] == "server-ops/src/server.py"
    }
    assert ("MCB004", 8) in found  # sys.path manipulation
    assert ("MCB008", 9) in found  # async client at module level
    assert ("MCB010", 17) in found  # datetime.utcnow()
    assert ("MCB002", 19) in found  # runs itself at import time


def test_github_format_and_ignore(tmp_path: Path) -> None:
    repo = _copy(tmp_path)
    (repo / "server-ops" / "src" / "server.py").write_text(SEEDED)
    done = mcpbundle(repo, "check", "ops", "--format", "github")
    assert "::error file=server-ops/src/server.py,line=19" in done.stdout
    ignored = mcpbundle(repo, "check", "ops", "--ignore", "MCB002,MCB004", "--format", "json")
    codes = {f["code"] for f in json.loads(ignored.stdout)["findings"]}
    assert "MCB002" not in codes
    assert "MCB004" not in codes
    assert ignored.returncode == 0  # only warnings left
