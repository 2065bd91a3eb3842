"""Run :mod:`mcpbundle.verify.load_probe` and ``fastmcp run`` for one server, contained.

Each run gets the target interpreter, a :class:`~mcpbundle.verify.sandbox.Box` of its own
(empty working directory, fresh ``HOME`` and ``TMPDIR``), a scrubbed environment
(:func:`probe_environment`), the address-space limit and what is left of the
server's time budget (:class:`LoadContext`). The HTTP check starts the server with
``fastmcp run --transport http`` on a free port, has the probe talk MCP to it,
and stops the whole contained tree. :func:`load_source` loads the server from the
source tree instead (its original entrypoint, every shared library on
``sys.path``) so :func:`differences` can compare what the two expose.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpbundle.verify.sandbox import Box, Limits, Outcome, Running
from mcpbundle.verify.sandbox import run as sandbox_run

PROBE = Path(__file__).with_name("load_probe.py")
KINDS = ("tools", "resources", "prompts")
SHIM_NAME = "mcpbundle_source_entry.py"
HTTP_START_TIMEOUT = 60.0
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
    cached: bool = False  # the verdict of an earlier load of the same source inputs

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "tools": list(self.tools),
            "resources": list(self.resources),
            "prompts": list(self.prompts),
            "error": self.error,
            "cached": self.cached,
        }


@dataclass(frozen=True, kw_only=True)
class LoadContext:
    """What every contained run of one server shares: interpreter, settings, budget."""

    python: Path
    env: Mapping[str, str]  # scrubbed (:func:`probe_environment`); each box adds HOME, TMPDIR
    deadline: float  # time.monotonic() when the server's verify-timeout runs out
    timeout: float  # that budget in seconds, for messages
    memory: int | None  # RLIMIT_AS in bytes
    protect: tuple[Path, ...] = ()  # kept from being written: the repository, the output
    name: str = "server"  # its table, for hints

    def limits(self) -> Limits:
        return Limits(timeout=max(0.0, self.deadline - time.monotonic()), memory=self.memory)


@dataclass(frozen=True, kw_only=True)
class Load:
    """One probe run: its verdict (``ok: false`` and an error when it failed) and warnings."""

    verdict: dict[str, Any]
    warnings: tuple[str, ...] = ()
    isolation: str = "none"
    repository: str = ""


def load_source(ctx: LoadContext, spec: SourceSpec, box: Box) -> Load:
    """Load the server from the source tree (writing no bytecode there)."""
    return run_probe(ctx, box, spec.load_args(box.root), write_bytecode=False)


def check_source(bundle: Mapping[str, Any], source: Mapping[str, Any]) -> SourceCheck:
    """Compare two probe verdicts: the bundle's and the source tree's."""
    if not source.get("ok"):
        return SourceCheck(ok=False, error=f"the source tree did not load: {source.get('error')}")
    tools, resources, prompts = (tuple(sorted(source.get(kind, ()))) for kind in KINDS)
    if not bundle.get("ok"):
        return SourceCheck(
            ok=False,
            error="not compared: the bundle did not load",
            tools=tools,
            resources=resources,
            prompts=prompts,
        )
    problems = differences(bundle, source)
    return SourceCheck(
        ok=not problems,
        error="; ".join(problems) or None,
        tools=tools,
        resources=resources,
        prompts=prompts,
        cached=bool(source.get("cached")),
    )


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
    ctx: LoadContext, box: Box, args: Sequence[str], *, write_bytecode: bool = True
) -> Load:
    """Run the probe script contained in ``box`` and return its verdict and warnings.

    ``write_bytecode=False`` (``-B``; ``-I`` ignores ``PYTHONDONTWRITEBYTECODE``)
    keeps ``__pycache__`` out of a source tree the probe imports from.
    """
    probe = box.root / "probe" / PROBE.name
    probe.parent.mkdir(exist_ok=True)
    shutil.copy2(PROBE, probe)
    flags = ["-I"] if write_bytecode else ["-I", "-B"]

    def command(fd: int) -> list[str]:
        return [str(ctx.python), *flags, str(probe), "--verdict-fd", str(fd),
                "--sandbox", str(box.root), *args]  # fmt: skip

    limits = ctx.limits()
    if limits.timeout <= 0:
        return Load(verdict={"ok": False, "error": _timed_out(ctx)})
    outcome = sandbox_run(
        command, box=box, env=box.environment(ctx.env), limits=limits, protect=ctx.protect
    )
    return Load(
        verdict=_verdict(ctx, outcome),
        warnings=_warnings(outcome),
        isolation=outcome.isolation,
        repository=outcome.repository,
    )


def _verdict(ctx: LoadContext, outcome: Outcome) -> dict[str, Any]:
    if outcome.verdict is not None:
        verdict = outcome.verdict
        error = str(verdict.get("error") or "")
        if not verdict.get("ok") and "MemoryError" in error and ctx.memory:
            verdict["error"] = f"{error}\nhint: {_memory_hint(ctx)}"
        return verdict
    if outcome.timed_out:
        return {"ok": False, "error": _timed_out(ctx)}
    if outcome.signal is not None:
        name = _signal_name(outcome.signal)
        hint = f"; {_memory_hint(ctx)}" if ctx.memory else ""
        detail = f": {outcome.log_tail}" if outcome.log_tail else ""
        return {"ok": False, "error": f"the load was killed by {name}{detail}{hint}"}
    detail = outcome.log_tail or f"exit code {outcome.exit}"
    return {"ok": False, "error": f"the probe did not report: {detail}"}


def _timed_out(ctx: LoadContext) -> str:
    return (
        f"timed out after {ctx.timeout:g}s (verify-timeout); "
        f"raise verify-timeout in [servers.{ctx.name}] if the load is only slow"
    )


def _memory_hint(ctx: LoadContext) -> str:
    assert ctx.memory is not None
    return (
        f"the load may have run out of its {ctx.memory / (1 << 20):g} MiB address space "
        f"(verify-memory); raise verify-memory in [servers.{ctx.name}] if it needs more"
    )


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _warnings(outcome: Outcome) -> tuple[str, ...]:
    found = [f"import-time code {write}" for write in outcome.writes]
    if outcome.leftover:
        count = f"{outcome.leftover} process{'es' if outcome.leftover != 1 else ''}"
        found.append(f"the load left {count} running; verify killed them")
    if outcome.lost:
        found.append(
            "the load killed verify's supervisor of it; processes it started may have escaped"
        )
    return tuple(found)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve_http(ctx: LoadContext, box: Box, entry: str) -> tuple[HttpCheck, tuple[str, ...]]:
    """``fastmcp run --transport http`` on a free port, one MCP session, then stop it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    cmd = [str(ctx.python), "-c", FASTMCP_LAUNCH, "run", entry, "--transport", "http",
           "--host", "127.0.0.1", "--port", str(port)]  # fmt: skip
    limits = ctx.limits()
    if limits.timeout <= 0:
        return HttpCheck(ok=False, url=url, error=_timed_out(ctx)), ()
    server = Running(
        lambda _fd: cmd, box=box, env=box.environment(ctx.env), limits=limits, protect=ctx.protect
    )
    try:
        problem = _wait_listening(server.process, port, min(HTTP_START_TIMEOUT, limits.timeout))
        if problem is None:
            client = Box.create(box.root, "client")
            result = run_probe(ctx, client, ["http", url, "--timeout", "30"]).verdict
    finally:
        server.stop()
        outcome = server.finish()
    warnings = _warnings(outcome)
    if problem is not None:
        detail = f"{problem}: {outcome.log_tail}".rstrip(": ")
        return HttpCheck(ok=False, url=url, error=detail), warnings
    if not result.get("ok"):
        return HttpCheck(ok=False, url=url, error=str(result.get("error"))), warnings
    call = result.get("call") or {}
    return HttpCheck(
        ok=True,
        url=url,
        initialize_ms=result.get("initialize_ms"),
        round_trip_ms=result.get("round_trip_ms"),
        called_tool=call.get("tool"),
        call_ok=call.get("ok"),
        call_error=call.get("error"),
    ), warnings


def _wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "the server exited"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return None
        except OSError:
            time.sleep(0.1)
    return f"the server did not listen on port {port} within {timeout:.0f}s"
