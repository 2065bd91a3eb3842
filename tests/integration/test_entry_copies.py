"""A module that imports the entrypoint by its own name makes the real fastmcp loader
run it twice, and its tools land on the copy's server: the bundle loads without them.
check says so (MCB014); the layout its fix names loads them."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from test_realworld_shapes import bundle_table, loaded_tools

from support.monorepo import mcpbundle, write

SERVER = (
    "from fastmcp import FastMCP\n\nmcp = FastMCP('weather')\n\n\n"
    "@mcp.tool\ndef ping() -> str:\n    return 'pong'\n\n\n"
    "import tools  # noqa: E402,F401\n"
)
TOOLS = "from server import mcp\n\n\n@mcp.tool\ndef forecast(city: str) -> str:\n    return city\n"


def _repo(root: Path, wheelhouse: Path, entry: str, files: dict[str, str]) -> None:
    write(root, {**files, "srv/requirements.txt": "fastmcp\n"})
    (root / "mcpbundle.toml").write_text(
        bundle_table(wheelhouse) + f"[servers.weather]\npath = 'srv'\nentrypoint = '{entry}'\n"
    )


def _mcb014(root: Path) -> list[tuple[object, object]]:
    done = mcpbundle(root, "check", "--format", "json")
    findings = json.loads(done.stdout)["findings"]
    return [(f["file"], f["line"]) for f in findings if f["code"] == "MCB014"]


def test_tools_that_import_the_entrypoint_are_flagged_and_missing(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    _repo(root, wheelhouse, "server.py", {"srv/server.py": SERVER, "srv/tools.py": TOOLS})
    assert _mcb014(root) == [("srv/tools.py", 1)]
    assert mcpbundle(root, "build").returncode == 0
    assert loaded_tools(root, "weather", tmp_path) == ["ping"]  # forecast is on the copy


def test_the_fixed_layout_loads_every_tool_and_is_not_flagged(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    main = "from server import mcp  # noqa: F401\n"
    files = {"srv/server.py": SERVER, "srv/tools.py": TOOLS, "srv/main.py": main}
    _repo(root, wheelhouse, "main.py", files)
    assert _mcb014(root) == []
    assert mcpbundle(root, "build").returncode == 0, sys.stderr
    assert loaded_tools(root, "weather", tmp_path) == ["forecast", "ping"]
