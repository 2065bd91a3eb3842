"""`check` judges a subpackage server's relative imports against the package the entry
shim imports it as (issue 13: a shimmed server has no false MCB004, source or built)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from support.monorepo import mcpbundle as run
from support.monorepo import write


def _findings(done: subprocess.CompletedProcess[str]) -> list[tuple[object, ...]]:
    data = json.loads(done.stdout)
    return [(f["code"], f["file"], f["line"]) for f in data["findings"]]


def test_a_subpackage_servers_relative_imports_resolve_in_its_package(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = tmp_path / "repo"
    write(
        repo,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                "[servers.calc]\npath = 'tools_pkg/calc'\nentrypoint = 'server.py'\n"
                "requirements = '../../pyproject.toml'\n"
            ),
            "pyproject.toml": (
                "[project]\nname = 'calc'\nversion = '0.1'\ndependencies = ['fastmcp>=4']\n"
            ),
            "tools_pkg/__init__.py": "",
            "tools_pkg/calc/__init__.py": "",
            "tools_pkg/calc/util.py": "def add(a, b):\n    return a + b\n",
            "tools_pkg/calc/server.py": (
                "from fastmcp import FastMCP\n\nfrom . import util\nfrom .util import add\n"
                "from tools_pkg.calc.util import add as add2\n\n"
                "mcp = FastMCP('calc')\nmcp.tool(add)\nmcp.tool(add2)\nutil.add(1, 2)\n"
            ),
        },
    )
    source = run(repo, "check", "--format", "json")
    assert source.returncode == 0, source.stdout + source.stderr
    assert _findings(source) == []
    built = run(repo, "build")
    assert built.returncode == 0, built.stderr
    manifest = json.loads((repo / "dist" / "mcpbundle-manifest.json").read_text())
    assert manifest["servers"]["calc"]["shim"]  # loaded through the package chain
    after = run(repo, "check", "--built", "--format", "json")
    assert after.returncode == 0, after.stdout + after.stderr
    assert _findings(after) == []
    # a real mistake in the same package is still found, in both modes
    server = repo / "tools_pkg" / "calc" / "server.py"
    server.write_text(server.read_text() + "from .nothing import x\nfrom ..missing import y\n")
    assert run(repo, "build").returncode == 0
    for args in (("check",), ("check", "--built")):
        found = _findings(run(repo, *args, "--format", "json"))
        assert [(code, line) for code, _, line in found] == [("MCB004", 11), ("MCB004", 12)], (
            args,
            found,
        )
