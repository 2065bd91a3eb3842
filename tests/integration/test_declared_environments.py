"""Servers whose dependencies are declared where their development tool reads them and
nowhere else: a PEP 723 ``# /// script`` block (``uv run server.py``) and a fastmcp.json
``environment.editable`` list (``fastmcp run fastmcp.json``). Each builds with those
dependencies pinned and the local library vendored, and loads in the real fastmcp."""

from __future__ import annotations

import json
from pathlib import Path

from test_realworld_shapes import bundle_table, loaded_tools, manifest

from support.monorepo import mcpbundle, write

LIB = {
    "libs/units/pyproject.toml": (
        "[project]\nname = 'units'\nversion = '0.1'\ndependencies = ['beta']\n"
    ),
    "libs/units/units/__init__.py": "def metres(x):\n    return f'{x} m'\n",
}
TOOL = (
    "from fastmcp import FastMCP\nfrom units import metres\n\nmcp = FastMCP('ruler')\n\n\n"
    "@mcp.tool\ndef measure() -> str:\n    return metres(3)\n"
)
CONFIG = "[servers.ruler]\npath = 'servers/ruler'\nentrypoint = 'server.py'\n"


def test_an_inline_script_block_is_the_servers_requirements(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    script = (
        "# /// script\n# dependencies = [\n#   'fastmcp',\n#   'alpha>=1.1',\n"
        "#   'units @ file:../../libs/units',\n# ]\n# ///\n"
    )
    write(root, {**LIB, "servers/ruler/server.py": script + TOOL})
    (root / "mcpbundle.toml").write_text(
        bundle_table(wheelhouse) + "[shared.units]\npath = 'libs/units'\n" + CONFIG
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    pins = (root / "dist/servers/ruler/requirements.txt").read_text()
    assert "alpha==2.0" in pins and "beta==1.0" in pins  # the library's own dependency too
    assert manifest(root)["ruler"]["shared"] == ["units"]
    assert loaded_tools(root, "ruler", tmp_path) == ["measure"]


def test_fastmcp_json_editable_directories_are_vendored(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "repo"
    document = {
        "source": {"path": "server.py", "entrypoint": "mcp"},
        "environment": {"dependencies": ["fastmcp"], "editable": ["../../libs/units"]},
    }
    write(
        root,
        {
            **LIB,
            "servers/ruler/server.py": TOOL,
            "servers/ruler/fastmcp.json": json.dumps(document),
        },
    )
    (root / "mcpbundle.toml").write_text(
        bundle_table(wheelhouse) + "[shared.units]\npath = 'libs/units'\n" + CONFIG
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert manifest(root)["ruler"]["shared"] == ["units"]
    shipped = json.loads((root / "dist/servers/ruler/fastmcp.json").read_text())
    assert "editable" not in shipped.get("environment", {})
    assert loaded_tools(root, "ruler", tmp_path) == ["measure"]


def test_init_reads_both_declarations(tmp_path: Path) -> None:
    script = (
        "# /// script\n# requires-python = '>=3.12'\n"
        "# dependencies = ['fastmcp', 'units @ file:../../libs/units']\n# ///\n"
    )
    document = {"source": {"path": "server.py"}, "environment": {"editable": ["../../libs/units"]}}
    for name, files in {
        "script": {"servers/ruler/server.py": script + TOOL},
        "json": {
            "servers/ruler/server.py": TOOL,
            "servers/ruler/fastmcp.json": json.dumps(document),
        },
    }.items():
        root = tmp_path / name
        write(root, {**LIB, **files})
        done = mcpbundle(root, "init")
        assert done.returncode == 0, done.stderr
        config = (root / "mcpbundle.toml").read_text()
        assert '[servers.ruler]\npath = "servers/ruler"' in config, config
        assert "[shared.units]" in config and 'path = "libs/units"' in config, config
        # the block's requires-python is the target's lower bound, as a pyproject's is
        assert ('python = "3.12"' in config) == (name == "script"), config


def test_the_script_blocks_requires_python_binds_the_target(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "repo"
    script = "# /// script\n# requires-python = '>=3.99'\n# dependencies = ['fastmcp']\n# ///\n"
    write(
        root, {"servers/ruler/server.py": script + TOOL.replace("from units import metres\n", "")}
    )
    (root / "mcpbundle.toml").write_text(bundle_table(wheelhouse) + CONFIG)
    done = mcpbundle(root, "build")
    assert done.returncode == 2, done.stderr
    (line,) = [x for x in done.stderr.splitlines() if x.startswith("error:")]
    assert line.startswith("error: servers/ruler/server.py: # /// script requires-python:")
    assert "is outside requires-python '>=3.99'" in line
