"""``verify``: load built servers in their own processes and report what they expose.

Hermetic tests pass ``python=sys.executable`` (this test venv, which has the real
fastmcp and mcp 2.x) instead of building a venv per server, so nothing is
downloaded; the venv cache itself is tested offline against the fake wheelhouse.
One ``network`` test builds a real venv from PyPI.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.verify.load_probe import LOAD_GC_THRESHOLD
from mcpbundle.verify.venvs import READY, ensure_venv, find_uv
from mcpbundle.verify.verifier import VerifyReport, format_report, verify

PYTHON = Path(sys.executable)

GOOD = '''
import os
from fastmcp import FastMCP

mcp = FastMCP("good")
GREETING = os.getenv("GREETING", "hello")


@mcp.tool()
def ping() -> str:
    """No arguments: the HTTP check calls this one."""
    return GREETING


@mcp.tool()
def add(a: int, b: int) -> int:
    return a + b


@mcp.resource("good://info")
def info() -> str:
    return "info"


@mcp.prompt()
def ask(topic: str) -> str:
    return f"Tell me about {topic}"
'''

MakeOut = Callable[..., Path]


@pytest.fixture
def make_out(tmp_path: Path) -> MakeOut:
    """``make_out({"name": {"src/server.py": "..."}}, entry={"name": "src/server.py:obj"})``."""

    def build(
        servers: Mapping[str, Mapping[str, str]],
        entry: Mapping[str, str] | None = None,
        requirements: Mapping[str, str] | None = None,
    ) -> Path:
        out = tmp_path / "out"
        manifest: dict[str, object] = {}
        for name, files in servers.items():
            folder = f"server-{name}"
            for rel, text in files.items():
                target = out / folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
            (out / folder / "requirements.txt").write_text(
                (requirements or {}).get(name, ""), encoding="utf-8"
            )
            manifest[name] = {
                "path": folder,
                "entrypoint": f"{folder}/{(entry or {}).get(name, 'src/server.py')}",
                "requirements": f"{folder}/requirements.txt",
                "shared": [],
                "rewrites": [],
                "files": {},
            }
        document = {"version": 1, "source": {"commit": None, "dirty": False}, "servers": manifest}
        (out / "mcpbundle-manifest.json").write_text(json.dumps(document), encoding="utf-8")
        return out

    return build


def run_verify(out: Path, tmp_path: Path, **kwargs: object) -> VerifyReport:
    options: dict[str, object] = {
        "servers": None,
        "http": False,
        "cache_dir": tmp_path / "cache",
        "env": {},
        "expect_tools": {},
        "installer": None,
        "python": PYTHON,
    }
    options.update(kwargs)
    return verify(output_dir=out, **options)  # type: ignore[arg-type]


def test_passing_server_reports_what_it_exposes(make_out: MakeOut, tmp_path: Path) -> None:
    out = make_out({"good": {"src/server.py": GOOD}})
    report = run_verify(out, tmp_path, expect_tools={"good": ["ping", "add"]})
    assert report.ok
    (server,) = report.servers
    assert server.tools == ("add", "ping")
    assert server.resources == ("good://info",)
    assert server.prompts == ("ask",)
    assert server.import_seconds is not None
    assert server.import_seconds > 0
    assert server.peak_memory_mb is not None
    assert server.peak_memory_mb > 10
    assert server.install_seconds == 0.0
    assert server.venv is not None
    assert "external interpreter" in server.venv
    assert server.error is None
    assert server.http is None


def test_the_server_imports_while_the_collector_runs_rarely(
    make_out: MakeOut, tmp_path: Path
) -> None:
    """The probe's import-time GC setting reaches the server's module, not only fastmcp's."""
    server = (
        "import gc\nfrom fastmcp import FastMCP\n\nmcp = FastMCP('gc')\n\n\n"
        "@mcp.tool(name=f'threshold_{gc.get_threshold()[0]}')\ndef t() -> int:\n    return 0\n"
    )
    out = make_out({"gc": {"src/server.py": server}})
    report = run_verify(out, tmp_path)
    assert report.ok, report.servers[0].error
    assert report.servers[0].tools == (f"threshold_{LOAD_GC_THRESHOLD}",)


def test_import_error_is_reported_with_its_last_lines(make_out: MakeOut, tmp_path: Path) -> None:
    source = "from fastmcp import FastMCP\nimport helpers_not_vendored\nmcp = FastMCP('x')\n"
    out = make_out({"broken": {"src/server.py": source}, "good": {"src/server.py": GOOD}})
    report = run_verify(out, tmp_path)
    assert not report.ok
    broken, good = report.servers
    assert good.ok, "one failing server does not stop the others"
    assert not broken.ok
    assert broken.error is not None
    assert "src/server.py, line 2: import helpers_not_vendored" in broken.error
    assert "ModuleNotFoundError: No module named 'helpers_not_vendored'" in broken.error
    assert "Traceback" not in broken.error
    assert len(broken.error.splitlines()) <= 6


def test_mcp_server_fastmcp_fails_with_mcp_2(make_out: MakeOut, tmp_path: Path) -> None:
    source = "from mcp.server.fastmcp import FastMCP\nmcp = FastMCP('legacy')\n"
    report = run_verify(make_out({"legacy": {"src/server.py": source}}), tmp_path)
    (server,) = report.servers
    assert not server.ok
    assert server.error is not None
    assert "No module named 'mcp.server.fastmcp'" in server.error
    assert "from fastmcp import FastMCP" in server.error  # the hint


def test_missing_expected_tools_fail(make_out: MakeOut, tmp_path: Path) -> None:
    out = make_out({"good": {"src/server.py": GOOD}})
    report = run_verify(out, tmp_path, expect_tools={"good": ["ping", "refund", "charge"]})
    (server,) = report.servers
    assert not server.ok
    assert server.error == "expected tools missing: refund, charge"
    assert server.tools == ("add", "ping")


def test_no_server_object(make_out: MakeOut, tmp_path: Path) -> None:
    report = run_verify(make_out({"empty": {"src/server.py": "x = 1\n"}}), tmp_path)
    (server,) = report.servers
    assert not server.ok
    assert server.error is not None
    assert "No server object found" in server.error


def test_named_async_factory_and_env(make_out: MakeOut, tmp_path: Path) -> None:
    source = (
        "import os\nfrom fastmcp import FastMCP\n\n"
        "async def build():\n"
        "    server = FastMCP('made')\n"
        "    key = os.environ['API_KEY']\n\n"
        "    @server.tool()\n"
        "    def whoami() -> str:\n"
        "        return key\n\n"
        "    return server\n"
    )
    out = make_out({"made": {"src/server.py": source}}, entry={"made": "src/server.py:build"})
    failing = run_verify(out, tmp_path)
    assert not failing.ok
    assert "KeyError: 'API_KEY'" in (failing.servers[0].error or "")
    report = run_verify(out, tmp_path, env={"made": {"API_KEY": "placeholder"}})
    assert report.ok, report.servers[0].error
    assert report.servers[0].tools == ("whoami",)


def test_only_the_server_folder_is_visible(make_out: MakeOut, tmp_path: Path) -> None:
    """No PYTHONPATH, cwd outside the output, sibling folders absent."""
    probe = (
        "import os, sys\nfrom pathlib import Path\nfrom fastmcp import FastMCP\n"
        "here = Path(__file__).resolve()\n"
        "assert 'PYTHONPATH' not in os.environ\n"
        "assert os.environ['FASTMCP_CHECK_FOR_UPDATES'] == 'off'\n"
        "assert not Path.cwd().is_relative_to(here.parents[2]), Path.cwd()\n"
        "assert not any(Path.cwd().iterdir())\n"
        "siblings = sorted(p.name for p in here.parents[2].iterdir())\n"
        "assert siblings == ['server-isolated'], siblings\n"
        "mcp = FastMCP('isolated')\n"
    )
    out = make_out({"isolated": {"src/server.py": probe}, "other": {"src/server.py": GOOD}})
    report = run_verify(out, tmp_path, servers=["isolated"])
    assert [s.name for s in report.servers] == ["isolated"]
    assert report.ok, report.servers[0].error


def test_same_named_vendored_packages_do_not_collide(make_out: MakeOut, tmp_path: Path) -> None:
    def server(tool: str) -> dict[str, str]:
        return {
            "src/helpers/__init__.py": f"TOOL = {tool!r}\n",
            "src/server.py": (
                "from fastmcp import FastMCP\nfrom helpers import TOOL\nmcp = FastMCP('s')\n"
                "mcp.tool(name=TOOL)(lambda: TOOL)\n"
            ),
        }

    report = run_verify(make_out({"a": server("alpha"), "b": server("beta")}), tmp_path)
    assert report.ok, [s.error for s in report.servers]
    assert [s.tools for s in report.servers] == [("alpha",), ("beta",)]


def test_unknown_server_and_missing_manifest(make_out: MakeOut, tmp_path: Path) -> None:
    out = make_out({"good": {"src/server.py": GOOD}})
    with pytest.raises(UsageError, match="unknown server 'nope'"):
        run_verify(out, tmp_path, servers=["nope"])
    with pytest.raises(BuildError, match="mcpbundle build"):
        run_verify(tmp_path / "empty", tmp_path)


def test_missing_entrypoint_fails_that_server(make_out: MakeOut, tmp_path: Path) -> None:
    out = make_out({"good": {"src/server.py": GOOD}}, entry={"good": "src/app.py"})
    (server,) = run_verify(out, tmp_path).servers
    assert not server.ok
    assert server.error is not None
    assert "src/app.py does not exist" in server.error


# ping and wipe take no arguments but do not say they only read: only status is called
READ_ONLY = """

@mcp.tool(annotations={"readOnlyHint": True})
def status() -> str:
    return "up"


@mcp.tool()
def wipe() -> str:
    raise RuntimeError("verify called a tool that may delete")
"""


@pytest.mark.slow
def test_http_round_trip_and_stop(make_out: MakeOut, tmp_path: Path) -> None:
    out = make_out({"good": {"src/server.py": GOOD + READ_ONLY}})
    report = run_verify(out, tmp_path, http=True)
    (server,) = report.servers
    assert server.ok, server.error
    assert server.http is not None
    assert server.http.ok
    assert server.http.called_tool == "status"
    assert server.http.call_ok
    assert server.http.round_trip_ms is not None
    assert server.http.round_trip_ms > 0
    assert "http: ok" in format_report(report, json=False)
    _assert_port_closed(server.http.url)


def test_http_server_that_crashes_on_start(make_out: MakeOut, tmp_path: Path) -> None:
    """Loads in-process, but ``fastmcp run`` exits (the env var is only set for the probe)."""
    source = GOOD + "\nimport sys\nif 'fastmcp' in sys.argv[0]:\n    raise SystemExit('no run')\n"
    report = run_verify(make_out({"good": {"src/server.py": source}}), tmp_path, http=True)
    (server,) = report.servers
    assert server.tools == ("add", "ping")
    assert not server.ok
    assert server.http is not None
    assert not server.http.ok
    assert server.error is not None
    assert "http: the server exited" in server.error


def _assert_port_closed(url: str | None) -> None:
    import socket
    from urllib.parse import urlsplit

    assert url is not None
    port = urlsplit(url).port
    assert port is not None
    with (
        pytest.raises(ConnectionRefusedError),
        socket.create_connection(("127.0.0.1", port), timeout=1),
    ):
        pass


# -- the venv cache (offline: the fake wheelhouse) ---------------------------------------


@pytest.mark.skipif(find_uv() is None, reason="needs uv")
def test_venv_is_built_once_then_reused(tmp_path: Path, wheelhouse: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("alpha==1.0\n", encoding="utf-8")
    args = ("--no-index", "--find-links", str(wheelhouse))
    first = ensure_venv(requirements, cache_dir=tmp_path, installer="uv", index_args=args)
    assert not first.reused
    assert first.root is not None
    assert (first.root / READY).is_file()
    assert [p.name for p in (tmp_path / "venvs").iterdir()] == [first.root.name]
    second = ensure_venv(requirements, cache_dir=tmp_path, installer="uv", index_args=args)
    assert second.reused
    assert second.root == first.root
    assert second.install_seconds == 0.0
    requirements.write_text("alpha==2.0\n", encoding="utf-8")
    third = ensure_venv(requirements, cache_dir=tmp_path, installer="uv", index_args=args)
    assert third.root != first.root
    from mcpbundle.base.runner import run

    version = run([third.python, "-c", "import alpha; print(alpha.__version__)"])
    assert version.stdout.strip() == "2.0"


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_failed_install_leaves_nothing_marked_ready(
    tmp_path: Path, wheelhouse: Path, installer: str, make_out: MakeOut
) -> None:
    if installer == "uv" and find_uv() is None:
        pytest.skip("needs uv")
    out = make_out({"good": {"src/server.py": GOOD}}, requirements={"good": "no-such-dist==9\n"})
    report = run_verify(
        out,
        tmp_path,
        python=None,
        installer=installer,
        index_args=("--no-index", "--find-links", str(wheelhouse)),
    )
    (server,) = report.servers
    assert not server.ok
    assert server.error is not None
    assert "installing requirements.txt failed" in server.error
    assert "no-such-dist" in server.error
    assert list((tmp_path / "cache" / "venvs").iterdir()) == []


@pytest.mark.skipif(find_uv() is None, reason="needs uv")
def test_fresh_venv_without_fastmcp_fails_clearly(tmp_path: Path, make_out: MakeOut) -> None:
    out = make_out({"good": {"src/server.py": GOOD}})  # empty requirements.txt
    report = run_verify(out, tmp_path, python=None, installer="uv")
    (server,) = report.servers
    assert not server.ok
    assert server.error is not None
    assert "fastmcp is not importable" in server.error


# -- the real thing -------------------------------------------------------------------


@pytest.mark.network
@pytest.mark.slow
def test_real_venv_from_pypi_with_http(make_out: MakeOut, tmp_path: Path) -> None:
    out = make_out(
        {"good": {"src/server.py": GOOD + READ_ONLY}}, requirements={"good": "fastmcp\n"}
    )
    expected = {"good": ["add", "ping", "status", "wipe"]}
    report = run_verify(
        out, tmp_path, python=None, http=True, installer=None, expect_tools=expected
    )
    (server,) = report.servers
    assert server.ok, server.error
    assert server.install_seconds is not None
    assert server.install_seconds > 0
    assert server.venv is not None
    assert str(tmp_path / "cache" / "venvs") in server.venv
    assert server.http is not None
    assert server.http.ok
    assert server.http.called_tool == "status"  # the annotations reach the client over HTTP
    assert server.http.call_ok
    assert server.surface is not None  # the surface of a venv installed from PyPI
    assert "ping" in [t["name"] for t in server.surface["tools"]]
    again = run_verify(out, tmp_path, python=None, installer=None)
    assert again.ok
    assert again.servers[0].install_seconds == 0.0
    assert again.servers[0].venv is not None
    assert "(reused)" in again.servers[0].venv


HANGS = """
import time

from fastmcp import FastMCP

time.sleep(120)  # still importing when the test kills verify
mcp = FastMCP("hangs")
"""

_VERIFY_SCRIPT = """
import sys
from pathlib import Path
from mcpbundle.verify.verifier import verify
verify(output_dir=Path(sys.argv[1]), servers=None, http=False, cache_dir=Path(sys.argv[2]),
       env={}, expect_tools={}, installer=None, python=Path(sys.executable))
"""


def test_kill_9_of_verify_leaves_its_scratch_in_the_cache_for_the_next_run_to_sweep(
    make_out: MakeOut, tmp_path: Path
) -> None:
    """Issue 14: scratch directories live under the cache's tmp/ with their pid in the
    name, never in the system temp directory, so one a kill -9 left is swept later."""
    import os
    import signal
    import subprocess
    import time

    from mcpbundle.base.temp_dirs import make_temp_dir, remove_tree, tmp_root

    out = make_out({"hangs": {"src/server.py": HANGS}})
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(system_tmp), "FASTMCP_CHECK_FOR_UPDATES": "off"}
    before = set(tmp_root().glob("mcpbundle-verify-*"))
    proc = subprocess.Popen(
        [sys.executable, "-c", _VERIFY_SCRIPT, str(out), str(tmp_path / "cache")],
        env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            left = set(tmp_root().glob(f"mcpbundle-verify-{proc.pid}-*")) - before
            if left and any(left.pop().rglob("server.py")):
                break
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        else:
            pytest.fail("verify never made its scratch directory under the cache's tmp/")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    dead = set(tmp_root().glob(f"mcpbundle-verify-{proc.pid}-*"))
    assert dead, "the killed verify's scratch directory should still be there"
    assert not list(system_tmp.glob("mcpbundle-verify-*"))
    # Any later run sweeps the dead pid's directories. The sandbox's supervisor, told by
    # the kernel that verify died, may still be stopping the load and writing its report
    # there for a moment: a run after that finds nothing left.
    deadline = time.monotonic() + 60
    while True:
        remove_tree(make_temp_dir("sweep"))
        left = [p for p in dead if p.exists()]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left


def test_a_cache_inside_the_repository_keeps_the_scratch_out_of_it(
    make_out: MakeOut, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox guards the repository; scratch inside it would leave it writable to
    the server's import, so then the scratch goes to the system temp directory."""
    import tempfile

    repo = tmp_path / "repo"
    repo.mkdir()
    planted = repo / "planted.txt"
    writer = GOOD + f"\nopen({str(planted)!r}, 'w').write('written at import')\n"
    out = make_out({"good": {"src/server.py": writer}})
    monkeypatch.setenv("MCPBUNDLE_CACHE_DIR", str(repo / ".cache" / "mcpbundle"))
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    report = run_verify(out, tmp_path, protect=[repo])
    (server,) = report.servers
    assert server.ok, server.error
    if server.isolation != "namespace":
        pytest.skip("no mount namespace here: the repository cannot be guarded at all")
    assert f"import-time code wrote {planted} (in the repository; discarded)" in server.warnings
    assert not planted.exists()
    assert not list((repo / ".cache" / "mcpbundle").glob("tmp/mcpbundle-verify-*"))
