"""``verify`` compares what a bundled server exposes with what its source tree exposes.

A tmp monorepo is built with the real CLI against the fake wheelhouse; both loads
then run with this test venv's interpreter (``python=sys.executable``: the real
fastmcp, nothing installed) and source specs made the way ``run_verify`` makes them.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mcpbundle.build import BuildOptions, plan_build
from mcpbundle.config.validate import load_config
from mcpbundle.verify import from_config as verifyrun
from mcpbundle.verify.from_config import source_specs
from mcpbundle.verify.probe_runner import SourceSpec, check_source, differences
from mcpbundle.verify.verifier import ServerReport, VerifyReport, format_report, verify

pytestmark = pytest.mark.slow

PYTHON = Path(sys.executable)

COMPOSITE = """
import logging

from fastmcp import FastMCP

mcp = FastMCP("composite")


@mcp.tool()
def list_orders() -> str:
    return "orders"


try:
    from extra_tools import register  # a member the server's closure does not vendor

    register(mcp)
except ImportError:
    logging.getLogger(__name__).warning("extra tools unavailable")
"""

EXTRA_TOOLS = """
def register(mcp):
    @mcp.tool()
    def fetch_orders() -> str:
        return "fetched"
"""

HEALTHY = """
import os

from acme_helpers import shout
from fastmcp import FastMCP

mcp = FastMCP("healthy")
if os.environ.get("HEALTHY_REQUIRE_TOKEN") and not os.environ.get("HEALTHY_TOKEN"):
    raise RuntimeError("HEALTHY_TOKEN is not set")


@mcp.tool()
def ping() -> str:
    return shout("pong")


@mcp.resource("healthy://info")
def info() -> str:
    return "info"


@mcp.prompt()
def ask(topic: str) -> str:
    return f"Tell me about {topic}"
"""

PKG_SERVER = """
from fastmcp import FastMCP

from acme_helpers import shout

from .tools import register


async def create_server():
    mcp = FastMCP("pkg")
    register(mcp)

    @mcp.tool()
    def hello() -> str:
        return shout("hello")

    return mcp
"""

PKG_TOOLS = """
def register(mcp):
    @mcp.tool()
    def pkg_tool() -> str:
        return "pkg"
"""


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, wheelhouse: Path) -> Path:
    """Three servers built with ``mcpbundle build``: composite, healthy, pkg (shimmed)."""
    root = tmp_path_factory.mktemp("monorepo")
    write(
        root,
        {
            "mcpbundle.toml": (
                "[bundle]\n"
                "no-index = true\n"
                f"find-links = [{json.dumps(str(wheelhouse))}]\n"
                "[shared.helpers]\npath = 'libs/helpers'\n"
                "[shared.extras]\npath = 'libs/extras'\n"
                "[servers.composite]\npath = 'composite'\nentrypoint = 'server.py'\n"
                "[servers.healthy]\npath = 'healthy'\nentrypoint = 'src/server.py'\n"
                "[servers.pkg]\npath = 'pkg'\n"
                "entrypoint = 'src/acme_pkg/server.py:create_server'\n"
            ),
            "libs/helpers/pyproject.toml": "[project]\nname = 'acme-helpers'\nversion = '1.0'\n",
            "libs/helpers/acme_helpers/__init__.py": "def shout(s):\n    return s.upper()\n",
            "libs/extras/pyproject.toml": "[project]\nname = 'acme-extras'\nversion = '1.0'\n",
            "libs/extras/src/extra_tools/__init__.py": EXTRA_TOOLS,
            "composite/requirements.txt": "fastmcp\n",
            "composite/server.py": COMPOSITE,
            "healthy/requirements.txt": "fastmcp\n-e ../libs/helpers\n",
            "healthy/src/server.py": HEALTHY,
            "pkg/requirements.txt": "fastmcp\n-e ../libs/helpers\n",
            "pkg/src/acme_pkg/__init__.py": "",
            "pkg/src/acme_pkg/server.py": PKG_SERVER,
            "pkg/src/acme_pkg/tools.py": PKG_TOOLS,
        },
    )
    done = subprocess.run(
        [sys.executable, "-m", "mcpbundle", "build"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert (root / "dist" / "pkg" / "mcpbundle_entry.py").is_file()
    assert not (root / "dist" / "composite" / "extra_tools").exists()
    return root


def specs_for(repo: Path) -> dict[str, SourceSpec]:
    config = load_config(repo)
    return source_specs(config, plan_build(config, BuildOptions()))


def run(repo: Path, tmp_path: Path, **kwargs: object) -> VerifyReport:
    options: dict[str, object] = {
        "servers": None,
        "http": False,
        "cache_dir": tmp_path / "cache",
        "env": {},
        "expect_tools": {},
        "installer": None,
        "python": PYTHON,
        "sources": specs_for(repo),
    }
    options.update(kwargs)
    return verify(output_dir=repo / "dist", **options)  # type: ignore[arg-type]


def test_source_specs_follow_a_dev_venv(repo: Path) -> None:
    specs = specs_for(repo)
    assert set(specs) == {"composite", "healthy", "pkg"}
    libs = [(repo / "libs/helpers").resolve(), (repo / "libs/extras/src").resolve()]
    composite = specs["composite"]
    assert composite.entry == repo / "composite/server.py"
    assert composite.object == "mcp"
    assert composite.shim is None
    assert sorted(composite.paths) == sorted(libs), "every shared lib, not only the closure"
    pkg = specs["pkg"]
    assert pkg.entry == repo / "pkg/src/acme_pkg/server.py"
    assert pkg.object == "create_server"
    assert pkg.paths[0] == (repo / "pkg/src").resolve()
    assert sorted(pkg.paths[1:]) == sorted(libs)
    assert pkg.shim is not None
    assert "import_module('acme_pkg.server')" in pkg.shim


def test_verify_compares_bundle_with_source(repo: Path, tmp_path: Path) -> None:
    report = run(repo, tmp_path)
    by_name = {server.name: server for server in report.servers}
    assert not report.ok

    composite = by_name["composite"]
    assert not composite.ok
    assert composite.tools == ("list_orders",), "the bundle loads, with a shrunk tool list"
    assert composite.source is not None
    assert composite.source.tools == ("fetch_orders", "list_orders")
    message = "bundle lists 1 tool, source lists 2: missing from bundle: fetch_orders"
    assert composite.source.error == message
    assert composite.error == message

    healthy = by_name["healthy"]
    assert healthy.ok, healthy.error
    assert healthy.source is not None
    assert healthy.source.ok
    assert healthy.source.error is None
    assert healthy.source.tools == healthy.tools == ("ping",)
    assert healthy.source.resources == healthy.resources == ("healthy://info",)
    assert healthy.source.prompts == healthy.prompts == ("ask",)

    pkg = by_name["pkg"]
    assert pkg.ok, pkg.error
    assert pkg.source is not None
    assert pkg.source.ok, pkg.source.error
    assert pkg.source.tools == pkg.tools == ("hello", "pkg_tool")

    document = report.to_json()
    (composite_json,) = [s for s in document["servers"] if s["name"] == "composite"]
    assert composite_json["source"] == {
        "ok": False,
        "tools": ["fetch_orders", "list_orders"],
        "resources": [],
        "prompts": [],
        "error": message,
        "cached": False,
    }
    text = format_report(report, json=False)
    assert "source: same tools, resources and prompts as the source tree" in text
    assert "source: FAILED (see error)" in text
    assert f"error: {message}" in text
    assert not list(repo.glob("**/__pycache__")), "the source tree gets no bytecode"


def test_without_sources_there_is_no_comparison(repo: Path, tmp_path: Path) -> None:
    report = run(repo, tmp_path, sources=None, servers=["composite"])
    (composite,) = report.servers
    assert composite.ok, "the shrunk list goes unnoticed without a source comparison"
    assert composite.source is None
    assert report.to_json()["servers"][0]["source"] is None
    assert "source:" not in format_report(report, json=False)


def test_server_env_applies_to_both_loads(repo: Path, tmp_path: Path) -> None:
    needs = {"HEALTHY_REQUIRE_TOKEN": "1"}
    report = run(
        repo, tmp_path, servers=["healthy"], env={"healthy": {**needs, "HEALTHY_TOKEN": "x"}}
    )
    assert report.ok, report.servers[0].error
    report = run(repo, tmp_path, servers=["healthy"], env={"healthy": needs})
    (healthy,) = report.servers
    assert not healthy.ok
    assert healthy.source is not None
    assert not healthy.source.ok
    assert healthy.source.error is not None
    assert healthy.source.error.startswith("the source tree did not load: ")
    assert "HEALTHY_TOKEN is not set" in healthy.source.error


def test_a_source_that_does_not_load_fails_the_server(repo: Path, tmp_path: Path) -> None:
    specs = specs_for(repo)
    broken = SourceSpec(
        entry=repo / "healthy/src/server.py",
        object="mcp",
        paths=(),  # no shared libs: acme_helpers is not importable
        root=repo / "healthy",
    )
    report = run(repo, tmp_path, servers=["healthy"], sources={**specs, "healthy": broken})
    (healthy,) = report.servers
    assert healthy.tools == ("ping",), "the bundle itself loads"
    assert not healthy.ok
    assert healthy.error is not None
    assert healthy.error.startswith("the source tree did not load: ")
    assert "No module named 'acme_helpers'" in healthy.error


def test_run_verify_passes_the_source_specs(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake_verify(**kwargs: object) -> VerifyReport:
        seen.update(kwargs)
        return VerifyReport(())

    monkeypatch.setattr(verifyrun, "verify", fake_verify)
    config = load_config(repo)
    verifyrun.run_verify(config, servers=["pkg"], http=False, env_file=None, output=None)
    assert seen["servers"] == ["pkg"]
    expected = specs_for(repo)["pkg"]
    given = seen["sources"]["pkg"]
    # run_verify adds one directory: the dist-info an editable install would provide.
    assert given.paths[:-1] == expected.paths
    assert given.paths[-1].name == "pkg"
    assert dataclasses.replace(given, paths=expected.paths) == expected


def test_the_dev_metadata_is_written_once_and_read_by_later_runs(
    repo: Path, tmp_path: Path
) -> None:
    """The dist-info a source load gets is kept by content, so a warm run writes (and deletes)
    nothing; a changed lib gets a directory of its own."""
    config = load_config(repo)
    plan = plan_build(config, BuildOptions())
    meta = tmp_path / "meta"
    first = source_specs(config, plan, meta)["pkg"].paths[-1]
    assert first.name == "pkg"
    infos = sorted(p.relative_to(first).as_posix() for p in first.glob("*.dist-info/*"))
    assert infos, "pkg vendors a packaged lib: its dist-info is there"
    written = {p: p.stat().st_mtime_ns for p in first.rglob("*")}
    assert source_specs(config, plan, meta)["pkg"].paths[-1] == first
    assert {p: p.stat().st_mtime_ns for p in first.rglob("*")} == written, "not written again"
    assert not [p for p in meta.iterdir() if p.name.startswith(".tmp-")]
    pkg = next(server for server in plan.servers if server.name == "pkg")
    bumped = tuple((rel, data + b"\n") for rel, data in pkg.generated)
    plan = dataclasses.replace(plan, servers=(dataclasses.replace(pkg, generated=bumped),))
    other = source_specs(config, plan, meta)
    assert other["pkg"].paths[-1] != first


def test_text_report_shows_a_source_error_the_bundle_error_does_not() -> None:
    source = check_source({"ok": False}, {"ok": False, "error": "x.py, line 1: boom"})
    server = ServerReport(name="s", ok=False, source=source, error="bundle broke")
    text = format_report(VerifyReport((server,)), json=False)
    assert "  source: the source tree did not load: x.py, line 1: boom" in text
    assert "  error: bundle broke" in text


def test_differences_name_both_directions() -> None:
    bundle = {"ok": True, "tools": ["a", "b", "extra"], "resources": ["r://x"], "prompts": []}
    source = {"ok": True, "tools": ["a", "b", "c", "d"], "resources": ["r://x"], "prompts": ["p"]}
    assert differences(bundle, source) == [
        "bundle lists 3 tools, source lists 4: missing from bundle: c, d; not in source: extra",
        "bundle lists 0 prompts, source lists 1: missing from bundle: p",
    ]
    assert differences(source, source) == []
    check = check_source({"ok": False, "error": "boom"}, source)
    assert not check.ok
    assert check.error == "not compared: the bundle did not load"
    assert check.tools == ("a", "b", "c", "d")


def test_an_unchanged_source_is_not_loaded_again(repo: Path, tmp_path: Path) -> None:
    names = ["healthy", "pkg"]
    first = run(repo, tmp_path, servers=names)
    assert first.ok, [s.error for s in first.servers]
    assert [s.source.cached for s in first.servers if s.source] == [False, False]
    again = run(repo, tmp_path, servers=names)
    assert [s.source.cached for s in again.servers if s.source] == [True, True]
    assert [s.source.tools for s in again.servers if s.source] == [
        s.source.tools for s in first.servers if s.source
    ]
    assert "source: same tools, resources and prompts as the source tree (cached load)" in (
        format_report(again, json=False)
    )
    # Any shared lib is importable from source, so a change to one is a new input.
    lib = repo / "libs" / "extras" / "src" / "extra_tools" / "__init__.py"
    original = lib.read_text(encoding="utf-8")
    try:
        lib.write_text(original + "# changed\n", encoding="utf-8")
        changed = run(repo, tmp_path, servers=names)
    finally:
        lib.write_text(original, encoding="utf-8")
    assert [s.source.cached for s in changed.servers if s.source] == [False, False]
    other_env = run(repo, tmp_path, servers=["healthy"], env={"healthy": {"X": "1"}})
    assert other_env.servers[0].source is not None
    assert not other_env.servers[0].source.cached, "the settings are an input too"


def test_a_failed_source_load_is_never_kept(repo: Path, tmp_path: Path) -> None:
    env = {"healthy": {"HEALTHY_REQUIRE_TOKEN": "1"}}
    for _ in range(2):
        (healthy,) = run(repo, tmp_path, servers=["healthy"], env=env).servers
        assert healthy.source is not None
        assert not healthy.source.ok
        assert not healthy.source.cached


LATE_TOOLS = """
from fastmcp import FastMCP

mcp = FastMCP("late")


async def main_async() -> None:
    @mcp.tool()
    def status() -> str:  # registered only when main_async runs, which a host never calls
        return "ok"

    await mcp.run_async()
"""


def test_a_bundle_that_exposes_nothing_passes_with_a_warning(
    tmp_path: Path, wheelhouse: Path
) -> None:
    root = tmp_path / "late"
    write(root, {
        "mcpbundle.toml": "[bundle]\nno-index = true\n"
        f"find-links = [{json.dumps(str(wheelhouse))}]\n"
        "[servers.late]\npath = 'late'\nentrypoint = 'server.py'\n",
        "late/requirements.txt": "fastmcp\n",
        "late/server.py": LATE_TOOLS,
    })  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "mcpbundle", "build"], cwd=root, capture_output=True, text=True,
        check=False, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (late,) = run(root, tmp_path, sources=None).servers
    assert late.ok, late.error
    assert late.tools == ()
    (warning,) = late.warnings
    assert "exposes no tools, resources or prompts" in warning
    assert "a function the host never calls" in warning
