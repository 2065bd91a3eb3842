"""A uv workspace root's ``[tool.uv.sources]`` apply to every member, as uv reads them: a
member's dependency on a workspace library is that library, never PyPI's package of the
same name (unless the member's own sources say otherwise)."""

from __future__ import annotations

from pathlib import Path

from mcpbundle.plan.pyproject import read_pyproject
from support.monorepo import write

ROOT = """[project]
name = "ws"
version = "0"
requires-python = ">=3.11"

[tool.uv.workspace]
members = ["packages/*"]

[tool.uv.sources]
acme-common = { workspace = true }
"""
COMMON = {
    "packages/common/pyproject.toml": (
        '[project]\nname = "acme-common"\nversion = "0.1"\ndependencies = ["mcp>=1,<2"]\n'
        '[tool.setuptools.packages.find]\ninclude = ["acme_common*"]\n'
    ),
    "packages/common/acme_common/__init__.py": "",
    "packages/common/acme_common/server.py": (
        "from mcp.server.fastmcp import FastMCP\n\n\n"
        "def build_server(name: str, instructions: str | None = None) -> FastMCP:\n"
        "    return FastMCP(name=name, instructions=instructions)\n"
    ),
}


def _server(name: str, code: str) -> dict[str, str]:
    pkg = name.replace("-", "_")
    return {
        f"packages/{name}/pyproject.toml": (
            f'[project]\nname = "acme-{name}"\nversion = "0.1"\n'
            'dependencies = ["acme-common>=0.1", "mcp>=1,<2"]\n'
            f'[project.scripts]\n{name}-mcp = "{pkg}.mcp_server:main"\n'
        ),
        f"packages/{name}/{pkg}/__init__.py": "",
        f"packages/{name}/{pkg}/mcp_server.py": code,
    }


OWN = (
    "from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP('own')\n\ndef main():\n    mcp.run()\n"
)


def test_root_uv_sources_apply_to_members(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": ROOT, **COMMON, **_server("dns", OWN)})
    info = read_pyproject(tmp_path / "packages/dns/pyproject.toml", root=tmp_path)
    common = next(d for d in info.dependencies if d.name == "acme-common")
    assert common.kind == "path"  # the workspace member, never PyPI's acme-common


def test_a_members_own_source_overrides_the_roots(tmp_path: Path) -> None:
    files = {"pyproject.toml": ROOT, **COMMON, **_server("dns", OWN)}
    files["packages/dns/pyproject.toml"] += (
        '[tool.uv.sources]\nacme-common = { git = "https://example.invalid/c.git", tag = "v1" }\n'
    )
    write(tmp_path, files)
    info = read_pyproject(tmp_path / "packages/dns/pyproject.toml", root=tmp_path)
    common = next(d for d in info.dependencies if d.name == "acme-common")
    assert common.kind == "git"
