"""Real-monorepo obstacles, built by the CLI and loaded with the real fastmcp from elsewhere.

Package-style servers and factories get an entry shim, vendored code gets
dist-info metadata, a workspace lock decides versions, root workspace
dependencies reach members, and an SDK-only server gets fastmcp added.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support.fastmcpcli import run_inspect, tool_names
from support.monorepo import mcpbundle, write

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "realrepos"

SERVERS = {
    # name: (fixture dir, entrypoint, tools the source defines)
    "weather": ("weather", "src/mcp_weather/server.py", ["convert", "forecast"]),
    "garmin": ("garmin", "src/mcp_garmin/__init__.py", None),
    "fsync": ("factory_sync", "server.py:create_server", None),
    "fasync": ("factory_async", "src/mcp_async/app.py:make_server", None),
    "mixed": ("mixed", "src/mcp_mixed/server.py", None),
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    root = tmp_path_factory.mktemp("real") / "mono"
    config = f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
    for name, (fixture, entry, _) in SERVERS.items():
        shutil.copytree(FIXTURES / fixture, root / fixture)
        config += f"[servers.{name}]\npath = {fixture!r}\nentrypoint = {entry!r}\n"
    write(root, {"mcpbundle.toml": config})
    done = mcpbundle(root, "build", "--json")
    assert done.returncode == 0, done.stderr
    return root


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SERVERS))
def test_shimmed_bundle_loads_with_same_tools_as_source(
    built: Path, name: str, tmp_path: Path
) -> None:
    manifest = json.loads((built / "dist" / "mcpbundle-manifest.json").read_text())
    entry = manifest["servers"][name]
    fixture = SERVERS[name][0]
    assert entry["entrypoint"] == f"{fixture}/mcpbundle_entry.py:mcp"
    assert entry["shim"].startswith(fixture)
    tools = tool_names(run_inspect(built / "dist" / entry["entrypoint"], tmp_path))
    assert tools, "a bundle with no tools"
    expected = SERVERS[name][2]
    if expected is not None:
        assert tools == expected


def test_server_reads_its_own_version_through_dist_info(built: Path) -> None:
    dist_info = built / "dist" / "garmin" / "src" / "mcp_garmin-1.4.0.dist-info" / "METADATA"
    assert "Name: mcp-garmin" in dist_info.read_text()


def test_lock_root_deps_and_sdk_only_server(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "ws"
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                "[servers.svc]\npath = 'members/svc'\nentrypoint = 'server.py'\n"
                "[servers.sdk]\npath = 'members/sdk'\nentrypoint = 'server.py'\n"
            ),
            "pyproject.toml": (
                "[project]\nname = 'ws'\nversion = '0'\ndependencies = ['beta']\n"
                "[tool.uv.workspace]\nmembers = ['members/*']\n"
            ),
            # The lock pins alpha 1.0 although 2.0 is the newest in the wheelhouse.
            "uv.lock": (
                "version = 1\n\n[[package]]\nname = 'alpha'\nversion = '1.0'\n"
                "source = { registry = 'https://pypi.org/simple' }\n"
            ),
            "members/svc/pyproject.toml": (
                "[project]\nname = 'svc'\nversion = '0.1'\ndependencies = ['alpha', 'fastmcp']\n"
            ),
            "members/svc/server.py": "mcp = object()\n",
            "members/sdk/requirements.txt": "mcp>=2\n",
            "members/sdk/server.py": (
                "from mcp.server.mcpserver import MCPServer\n\nserver = MCPServer('sdk')\n"
            ),
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    svc = (root / "dist" / "members" / "svc" / "requirements.txt").read_text()
    assert "alpha==1.0" in svc  # the lock wins over the newest version
    assert "beta==1.0" in svc  # the workspace root's own dependency reaches the member
    manifest = json.loads((root / "dist" / "mcpbundle-manifest.json").read_text())
    assert manifest["servers"]["svc"]["lock"] == "uv.lock"
    sdk = (root / "dist" / "members" / "sdk" / "requirements.txt").read_text()
    assert "fastmcp==4.0" in sdk  # added: the host runs servers with fastmcp
    assert "mcp==2.3" in sdk
    upgraded = mcpbundle(root, "build", "--upgrade-package", "alpha")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "alpha==2.0" in (root / "dist" / "members" / "svc" / "requirements.txt").read_text()


def test_v1_sdk_import_caps_mcp(tmp_path: Path, wheelhouse: Path) -> None:
    root = tmp_path / "v1"
    write(
        root,
        {
            "mcpbundle.toml": (
                f"[bundle]\nno-index = true\nfind-links = [{str(wheelhouse)!r}]\n"
                "[servers.old]\npath = 'old'\nentrypoint = 'server.py'\n"
            ),
            "old/requirements.txt": "fastmcp\n",
            "old/server.py": "from mcp.server.fastmcp import FastMCP\n\nmcp = FastMCP('old')\n",
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    assert "mcp.server.mcpserver" in done.stderr  # the migration hint
    pins = (root / "dist" / "old" / "requirements.txt").read_text()
    assert "mcp==1.9" in pins
    assert "fastmcp==3.0" in pins
    strict = root / "mcpbundle.toml"
    strict.write_text(strict.read_text().replace("[bundle]\n", "[bundle]\nauto-fix = false\n"))
    refused = mcpbundle(root, "build")
    assert refused.returncode == 1
    assert "old/server.py:1" in refused.stderr
    assert "mcp<2" in refused.stderr


@pytest.mark.network
@pytest.mark.slow
def test_every_fixture_verifies_in_a_clean_venv_from_pypi(tmp_path: Path) -> None:
    """The Done-when of the real-monorepo issue: each bundle, installed from its own pinned
    requirements.txt into a fresh venv, loads from another directory with the same tools,
    resources and prompts as its source tree (`mcpbundle verify` compares both)."""
    root = tmp_path / "mono"
    config = "[bundle]\n"
    for name, (fixture, entry, _) in SERVERS.items():
        shutil.copytree(FIXTURES / fixture, root / fixture)
        config += f"[servers.{name}]\npath = {fixture!r}\nentrypoint = {entry!r}\n"
    write(root, {"mcpbundle.toml": config})
    built = mcpbundle(root, "build")
    assert built.returncode == 0, built.stderr
    done = mcpbundle(root, "verify", "--json")
    report = json.loads(done.stdout)
    failures = {s["name"]: s["error"] for s in report["servers"] if not s["ok"]}
    assert done.returncode == 0, (failures, done.stderr[-2000:])
    for server in report["servers"]:
        assert server["tools"], server["name"]
        assert server["source"]["ok"], server
