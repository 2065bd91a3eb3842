"""Run :mod:`mcpbundle.loadprobe` and ``fastmcp run`` for one server, in its own processes.

Each child gets the server venv's interpreter, an empty working directory and a
scrubbed environment (:func:`probe_environment`). The HTTP check starts the
server with ``fastmcp run --transport http`` on a free port, has the probe talk
MCP to it, and always stops it by its pid. :func:`load_source` loads the server
from the source tree instead (its original entrypoint, every shared library on
``sys.path``) so :func:`differences` can compare what the two expose.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpbundle.runner import log, run, tail

PROBE = Path(__file__).with_name("loadprobe.py")
MARKER = "MCPBUNDLE_PROBE "
KINDS = ("tools", "resources", "prompts")
SHIM_NAME = "mcpbundle_source_entry.py"
HTTP_START_TIMEOUT = 60.0
STOP_TIMEOUT = 5.0
KEPT_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "TEMP",
    "TMP",
    "SYSTEMROOT",
)
FASTMCP_LAUNCH = (
    "import sys; from importlib.metadata import entry_points; "
    "(ep,) = entry_points(group='console_scripts', name='fastmcp'); "
    "sys.argv[0] = 'fastmcp'; sys.exit(ep.load()())"
)


@dataclass(frozen=True, kw_only=True)
class HttpCheck:
    ok: bool
    url: str | None
    initialize_ms: float | None = None
    round_trip_ms: float | None = None
    called_tool: str | None = None
    call_ok: bool | None = None
    call_error: str | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class SourceSpec:
    """How a server loads in development, where every shared lib is installed editable."""

    entry: Path  # the original entrypoint file in the source tree (absolute)
    object: str | None  # its server object or factory (None: FastMCP's rule)
    paths: tuple[Path, ...]  # on sys.path like PYTHONPATH: package root, shared lib roots
    root: Path  # the server's source directory: errors name files relative to it
    shim: str | None = None  # package-style server: this shim (binding ``mcp``) is loaded

    def load_args(self, stage: Path) -> list[str]:
        """Probe arguments; a shim is written to ``stage/source`` first."""
        entry = f"{self.entry}:{self.object}" if self.object else str(self.entry)
        if self.shim is not None:
            shim = stage / "source" / SHIM_NAME
            shim.parent.mkdir(parents=True, exist_ok=True)
            shim.write_text(self.shim, encoding="utf-8")
            entry = f"{shim}:mcp"
        args = ["load", entry, "--root", str(self.root)]
        for path in self.paths:
            args += ["--path", str(path)]
        return args


@dataclass(frozen=True, kw_only=True)
class SourceCheck:
    """The source tree's load and whether it exposes what the bundle does."""

    ok: bool
    tools: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tools": list(self.tools),
            "resources": list(self.resources),
            "prompts": list(self.prompts),
            "error": self.error,
        }


def load_source(
    python: Path, spec: SourceSpec, stage: Path, env: Mapping[str, str], timeout: float
) -> dict[str, Any]:
    """Load the server from the source tree (writing no bytecode there)."""
    return run_probe(python, spec.load_args(stage), stage, env, timeout, write_bytecode=False)


def check_source(bundle: Mapping[str, Any], source: Mapping[str, Any]) -> SourceCheck:
    """Compare two probe verdicts: the bundle's and the source tree's."""
    if not source.get("ok"):
        return SourceCheck(ok=False, error=f"the source tree did not load: {source.get('error')}")
    lists = {kind: tuple(sorted(source.get(kind, ()))) for kind in KINDS}
    if not bundle.get("ok"):
        return SourceCheck(ok=False, error="not compared: the bundle did not load", **lists)
    problems = differences(bundle, source)
    return SourceCheck(ok=not problems, error="; ".join(problems) or None, **lists)


def differences(bundle: Mapping[str, Any], source: Mapping[str, Any]) -> list[str]:
    """``bundle lists 3 tools, source lists 4: missing from bundle: x`` per differing kind."""
    problems = []
    for kind in KINDS:
        ours, theirs = set(bundle.get(kind, ())), set(source.get(kind, ()))
        if ours == theirs:
            continue
        parts = []
        if missing := sorted(theirs - ours):
            parts.append(f"missing from bundle: {', '.join(missing)}")
        if extra := sorted(ours - theirs):
            parts.append(f"not in source: {', '.join(extra)}")
        problems.append(
            f"bundle lists {_count(len(ours), kind)}, source lists {len(theirs)}: "
            + "; ".join(parts)
        )
    return problems


def _count(number: int, kind: str) -> str:
    return f"{number} {kind if number != 1 else kind.removesuffix('s')}"


def probe_environment(server_env: Mapping[str, str]) -> dict[str, str]:
    """A minimal environment: no PYTHONPATH, no virtualenv, no update check, no user site."""
    env = {key: os.environ[key] for key in KEPT_ENV if key in os.environ}
    env.update(server_env)
    for key in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"):
        env.pop(key, None)
    env.update(
        FASTMCP_CHECK_FOR_UPDATES="off",
        PYTHONNOUSERSITE="1",
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


def run_probe(
    python: Path,
    args: Sequence[str],
    stage: Path,
    env: Mapping[str, str],
    timeout: float,
    *,
    write_bytecode: bool = True,
) -> dict[str, Any]:
    """Run the probe script and return its JSON verdict (failures become ``ok: false``).

    ``write_bytecode=False`` (``-B``; ``-I`` ignores ``PYTHONDONTWRITEBYTECODE``)
    keeps ``__pycache__`` out of a source tree the probe imports from.
    """
    flags = ["-I"] if write_bytecode else ["-I", "-B"]
    cmd = [str(python), *flags, str(stage / "probe" / PROBE.name), *args]
    try:
        result = run(cmd, cwd=stage / "cwd", env=env, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f}s"}
    for line in reversed(result.stdout.splitlines()):
        if line.startswith(MARKER):
            try:
                document: dict[str, Any] = json.loads(line[len(MARKER) :])
            except ValueError:
                break
            return document
    detail = tail(result.stderr or result.stdout, 3) or f"exit code {result.returncode}"
    return {"ok": False, "error": f"the probe did not report: {detail}"}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_http(python: Path, entry: str, stage: Path, env: Mapping[str, str]) -> HttpCheck:
    """``fastmcp run --transport http`` on a free port, one MCP session, then stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    cmd = [
        str(python),
        "-c",
        FASTMCP_LAUNCH,
        "run",
        entry,
        "--transport",
        "http",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    log_path = stage / "server.log"
    log.info("+ %s", " ".join(cmd))
    with log_path.open("wb") as log_file:
        # A long-running child: runner.run() waits for exit, so this one is Popen.
        process = subprocess.Popen(
            cmd,
            cwd=stage / "cwd",
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            problem = _wait_listening(process, port, HTTP_START_TIMEOUT)
            if problem is not None:
                log_tail = tail(log_path.read_text(encoding="utf-8", errors="replace"), 3)
                return HttpCheck(ok=False, url=url, error=f"{problem}: {log_tail}".rstrip(": "))
            result = run_probe(python, ["http", url, "--timeout", "30"], stage, env, 90.0)
        finally:
            stop(process)
    if not result.get("ok"):
        return HttpCheck(ok=False, url=url, error=str(result.get("error")))
    call = result.get("call") or {}
    return HttpCheck(
        ok=True,
        url=url,
        initialize_ms=result.get("initialize_ms"),
        round_trip_ms=result.get("round_trip_ms"),
        called_tool=call.get("tool"),
        call_ok=call.get("ok"),
        call_error=call.get("error"),
    )


def _wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = process.poll()
        if code is not None:
            return f"the server exited with code {code}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return None
        except OSError:
            time.sleep(0.1)
    return f"the server did not listen on port {port} within {timeout:.0f}s"


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` by its pid, kill it if it does not exit in time, reap it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)
