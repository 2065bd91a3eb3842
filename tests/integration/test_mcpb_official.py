"""The example monorepo's MCP Bundles, checked by the real tools (``network``).

The unmodified example is built with ``--format mcpb`` against the real index; the
official CLI (``@anthropic-ai/mcpb`` from npm, :mod:`support.mcpbcli`) validates every
manifest and unpacks and reads every .mcpb; each bundle is unzipped into a clean
directory and started the way its manifest says (uv: ``uv run`` against the bundled
pyproject.toml; python: ``PYTHONPATH=server/lib``) with FastMCP's client over stdio,
whose tools/list must be the source server's tools.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path

import pytest
from test_build_cli import run_cli, tree
from test_build_example import TOOLS, copy_example
from test_mcpb_build import env_example_names, manifest_of

from support.mcpbcli import listed_tools, run_mcpb, unzip

FOLDERS = {"ops": "server-ops", "customer": "server-customer", "finance": "server-finance"}
pytestmark = [pytest.mark.network, pytest.mark.slow]


def check_with_official_cli(path: Path, work: Path) -> None:
    """``mcpb validate`` on its manifest, ``mcpb unpack`` and ``mcpb info`` on the file."""
    manifest_dir = unzip(path, work / "for-validate")
    assert (
        "validation passes" in run_mcpb("validate", manifest_dir / "manifest.json", cwd=work).stdout
    )
    run_mcpb("unpack", path, work / "unpacked-by-mcpb", cwd=work)
    assert json.loads((work / "unpacked-by-mcpb" / "manifest.json").read_text()) == json.loads(
        (manifest_dir / "manifest.json").read_text()
    )
    assert path.name in run_mcpb("info", path, cwd=work).stdout


def test_example_bundles_pass_the_official_cli_and_start_from_a_clean_unzip(
    tmp_path: Path,
) -> None:
    repo = copy_example(tmp_path / "example")
    run_cli(repo, "build", "--format", "mcpb")
    out = repo / "dist" / "mcpb"
    assert sorted(p.name for p in out.iterdir()) == [f"{n}-0.1.0.mcpb" for n in sorted(TOOLS)]
    run_cli(repo, "build", "--format", "mcpb", "-o", str(tmp_path / "rebuilt"))
    assert tree(tmp_path / "rebuilt" / "mcpb") == tree(out)  # byte-identical
    for name, tools in sorted(TOOLS.items()):
        path = out / f"{name}-0.1.0.mcpb"
        work = tmp_path / f"check-{name}"
        work.mkdir()
        check_with_official_cli(path, work)
        document = manifest_of(path)
        assert document["server"]["type"] == "uv"
        names = env_example_names(repo / FOLDERS[name] / ".env.example")
        assert set(document["user_config"]) == names, name
        clean = unzip(path, tmp_path / f"clean-{name}")
        assert listed_tools(clean, document, cwd=work) == sorted(tools), name


def _this_machine() -> str:
    system = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}[platform.system()]
    arch = {"amd64": "x86_64", "arm64": "arm64", "aarch64": "aarch64"}.get(
        platform.machine().lower(), platform.machine().lower()
    )
    if system == "darwin" and arch == "aarch64":
        arch = "arm64"
    if system == "win32":
        arch = "amd64"
    return f"{system}-{arch}"


def test_python_runtime_bundle_starts_with_server_lib_only(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "example")
    toml = repo / "mcpbundle.toml"
    toml.write_text(
        toml.read_text().replace(
            "[servers.ops]\n",
            '[servers.ops]\nmcpb-runtime = "python"\nmcpb-compiled = true\n'
            f'mcpb-platforms = ["{_this_machine()}"]\n',
        )
    )
    run_cli(repo, "build", "--format", "mcpb", "ops")
    path = repo / "dist" / "mcpb" / "ops-0.1.0.mcpb"
    work = tmp_path / "check"
    work.mkdir()
    check_with_official_cli(path, work)
    document = manifest_of(path)
    assert document["server"]["type"] == "python"
    assert document["compatibility"]["platforms"] == [_this_machine().partition("-")[0]]
    clean = unzip(path, tmp_path / "clean")
    assert (clean / "server" / "lib" / "pydantic_core").is_dir()  # compiled, bundled
    assert listed_tools(clean, document, cwd=work) == sorted(TOOLS["ops"])


def test_build_verify_lists_the_loaded_tools_in_each_manifest(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "example")
    run_cli(repo, "build", "--format", "mcpb", "--verify")
    for name, tools in sorted(TOOLS.items()):
        path = repo / "dist" / "mcpb" / f"{name}-0.1.0.mcpb"
        work = tmp_path / f"check-{name}"
        work.mkdir()
        check_with_official_cli(path, work)
        document = manifest_of(path)
        assert sorted(t["name"] for t in document["tools"]) == sorted(tools), name
        assert all(t.get("description") for t in document["tools"]), name
        clean = unzip(path, tmp_path / f"clean-{name}")
        assert listed_tools(clean, document, cwd=work) == sorted(tools), name
