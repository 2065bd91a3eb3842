"""``mcpbundle verify``: install and load each built server the way the host will.

For every server in ``mcpbundle-manifest.json``: a fresh venv with exactly its
``requirements.txt`` (cached, see :mod:`mcpbundle.venvs`); then, in its own
process with the venv's interpreter, a copy of *only* that server's folder, an
empty working directory and a scrubbed environment, :mod:`mcpbundle.loadprobe`
loads the entrypoint with FastMCP's own loader and lists what it exposes.
Given a :class:`~mcpbundle.proberun.SourceSpec` for it, the server is also loaded
from the source tree the way it runs in development (same interpreter, every
shared library importable) and any difference in the tools, resources or prompts
the two expose fails it: a composite server that swallows an ``ImportError`` for a
member that was not vendored lists fewer tools without failing to load.
Optionally the server is started with ``fastmcp run --transport http`` and
called over HTTP. Nothing here imports the servers' code into this process.
"""

from __future__ import annotations

import json as jsonlib
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mcpbundle import progress
from mcpbundle.errors import BuildError, CheckFailed, UsageError
from mcpbundle.manifest import MANIFEST_NAME, read_manifest
from mcpbundle.proberun import (
    PROBE,
    HttpCheck,
    SourceCheck,
    SourceSpec,
    check_source,
    load_source,
    probe_environment,
    run_probe,
    serve_http,
)
from mcpbundle.venvs import Venv, choose_installer, ensure_venv

LOAD_TIMEOUT = 180.0
HINTS = {
    "mcp.server.fastmcp": "MCP SDK 2.x removed mcp.server.fastmcp; "
    "use `from fastmcp import FastMCP` and list fastmcp in requirements.txt",
}


@dataclass(frozen=True, kw_only=True)
class ServerReport:
    name: str
    ok: bool
    install_seconds: float | None = None
    import_seconds: float | None = None
    peak_memory_mb: float | None = None
    tools: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    prompts: tuple[str, ...] = ()
    http: HttpCheck | None = None
    source: SourceCheck | None = None  # None: not compared with the source tree
    error: str | None = None
    venv: str | None = None  # text output only: where it ran and whether the venv was reused

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "install_seconds": self.install_seconds,
            "import_seconds": self.import_seconds,
            "peak_memory_mb": self.peak_memory_mb,
            "tools": list(self.tools),
            "resources": list(self.resources),
            "prompts": list(self.prompts),
            "http": asdict(self.http) if self.http else None,
            "source": self.source.to_json() if self.source else None,
            "error": self.error,
        }


@dataclass(frozen=True)
class VerifyReport:
    servers: tuple[ServerReport, ...]

    @property
    def ok(self) -> bool:
        return all(server.ok for server in self.servers)

    def to_json(self) -> dict[str, Any]:
        return {"servers": [s.to_json() for s in self.servers], "ok": self.ok}

    def raise_for_failures(self) -> None:
        failed = [s.name for s in self.servers if not s.ok]
        if failed:
            raise CheckFailed(f"verify failed for {', '.join(failed)}")


def verify(
    *,
    output_dir: Path,
    servers: Sequence[str] | None,
    http: bool,
    cache_dir: Path,
    env: Mapping[str, Mapping[str, str]],
    expect_tools: Mapping[str, Sequence[str]],
    installer: str | None,
    index_args: Sequence[str] = (),
    python: Path | None = None,
    sources: Mapping[str, SourceSpec] | None = None,
) -> VerifyReport:
    """Verify the servers built into ``output_dir`` (all of them when ``servers`` is None).

    ``python``: use this interpreter as is instead of building a venv from each
    server's requirements (no install; for offline tests and quick local checks).
    ``sources``: how to load each server from the source tree; a server with a spec
    fails unless both loads list the same tools, resources and prompts (None: no
    comparison).
    """
    manifest = read_manifest(output_dir / MANIFEST_NAME)
    if manifest is None:
        raise BuildError(
            f"no {MANIFEST_NAME}", where=str(output_dir), hint="run `mcpbundle build` first"
        )
    entries: dict[str, Any] = manifest["servers"]
    names = sorted(entries) if servers is None else list(servers)
    unknown = [name for name in names if name not in entries]
    if unknown:
        raise UsageError(
            f"unknown server {', '.join(map(repr, unknown))}",
            hint=f"built servers: {', '.join(sorted(entries)) or 'none'}",
        )
    options = _Options(
        output_dir=output_dir,
        http=http,
        cache_dir=cache_dir,
        index_args=tuple(index_args),
        installer=None if python is not None else choose_installer(installer),
        python=python,
    )
    specs = sources or {}
    reports = [
        _verify_server(
            name,
            entries[name],
            options,
            env.get(name, {}),
            expect_tools.get(name, ()),
            specs.get(name),
        )
        for name in names
    ]
    return VerifyReport(tuple(reports))


@dataclass(frozen=True, kw_only=True)
class _Options:
    output_dir: Path
    http: bool
    cache_dir: Path
    installer: str | None
    index_args: tuple[str, ...]
    python: Path | None


def _venv(requirements: Path, options: _Options) -> Venv:
    if options.python is not None:
        return Venv(
            python=options.python, root=None, installer="external", install_seconds=0.0, reused=True
        )
    assert options.installer is not None
    return ensure_venv(
        requirements,
        cache_dir=options.cache_dir,
        installer=options.installer,
        index_args=options.index_args,
    )


def _verify_server(
    name: str,
    entry: Mapping[str, Any],
    options: _Options,
    env: Mapping[str, str],
    expect: Sequence[str],
    source: SourceSpec | None,
) -> ServerReport:
    try:
        server_dir, entry_rel, requirements = _paths(name, entry, options.output_dir)
        with progress.step(name, "installing requirements.txt into a venv"):
            venv = _venv(requirements, options)
    except BuildError as exc:
        return ServerReport(name=name, ok=False, error=str(exc))
    common: dict[str, Any] = {
        "name": name,
        "install_seconds": venv.install_seconds,
        "venv": venv.describe(),
    }
    with tempfile.TemporaryDirectory(prefix="mcpbundle-verify-") as tmp:
        stage = Path(tmp)
        entry_arg, root = _stage(stage, options.output_dir, server_dir, entry_rel)
        probe_env = probe_environment(env)
        args = ["load", entry_arg, "--root", str(root)]
        with progress.step(name, "loading the bundle"):
            loaded = run_probe(venv.python, args, stage, probe_env, LOAD_TIMEOUT)
        common["peak_memory_mb"] = loaded.get("peak_memory_mb")
        if source is not None:
            from_source = load_source(venv.python, source, stage, probe_env, LOAD_TIMEOUT)
            common["source"] = check_source(loaded, from_source)
        if not loaded.get("ok"):
            return ServerReport(ok=False, error=_with_hint(str(loaded.get("error"))), **common)
        found = tuple(loaded.get("tools", ()))
        common.update(
            import_seconds=loaded.get("import_seconds"),
            tools=found,
            resources=tuple(loaded.get("resources", ())),
            prompts=tuple(loaded.get("prompts", ())),
        )
        errors = []
        missing = [tool for tool in expect if tool not in found]
        if missing:
            errors.append(f"expected tools missing: {', '.join(missing)}")
        compared: SourceCheck | None = common.get("source")
        if compared is not None and compared.error:
            errors.append(compared.error)
        check = serve_http(venv.python, entry_arg, stage, probe_env) if options.http else None
        if check is not None and not check.ok:
            errors.append(f"http: {check.error}")
    return ServerReport(ok=not errors, http=check, error="; ".join(errors) or None, **common)


def _paths(name: str, entry: Mapping[str, Any], output_dir: Path) -> tuple[str, str, Path]:
    where = f"{MANIFEST_NAME}: servers.{name}"
    server_dir = entry.get("path")
    entrypoint = entry.get("entrypoint")
    req = entry.get("requirements")
    if not all(isinstance(v, str) and v for v in (server_dir, entrypoint, req)):
        raise BuildError("needs path, entrypoint and requirements", where=where)
    assert isinstance(server_dir, str)
    assert isinstance(entrypoint, str)
    assert isinstance(req, str)
    file_part = entrypoint.rsplit(":", 1)[0] if ":" in entrypoint else entrypoint
    prefix = "" if server_dir in ("", ".") else server_dir.rstrip("/") + "/"
    if not file_part.startswith(prefix) or ".." in Path(file_part).parts:
        raise BuildError(f"entrypoint {entrypoint!r} is not inside {server_dir!r}", where=where)
    if not (output_dir / file_part).is_file():
        raise BuildError(f"entrypoint {file_part} does not exist", where=where, hint="build again")
    requirements = output_dir / req
    if not requirements.is_file():
        raise BuildError(f"requirements file {req} does not exist", where=where)
    return server_dir, entrypoint, requirements


def _stage(stage: Path, output_dir: Path, server_dir: str, entry_rel: str) -> tuple[str, Path]:
    """Copy only this server's folder (and the probe); an empty directory is the cwd."""
    bundle = stage / "bundle"
    root = bundle / server_dir
    shutil.copytree(
        output_dir / server_dir,
        root,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (stage / "probe").mkdir()
    shutil.copy2(PROBE, stage / "probe" / PROBE.name)
    (stage / "cwd").mkdir()
    return str(bundle / entry_rel), root


def _with_hint(error: str) -> str:
    for needle, hint in HINTS.items():
        if needle in error and hint not in error:
            return f"{error}\nhint: {hint}"
    return error


def format_report(report: VerifyReport, json: bool) -> str:
    if json:
        return jsonlib.dumps(report.to_json(), indent=2)
    lines = []
    for server in report.servers:
        lines.append(f"{server.name}: {'ok' if server.ok else 'FAILED'}")
        facts = []
        if server.install_seconds is not None:
            facts.append(f"install {server.install_seconds:.1f}s")
        if server.import_seconds is not None:
            facts.append(f"import {server.import_seconds:.2f}s")
        if server.peak_memory_mb is not None:
            facts.append(f"peak memory {server.peak_memory_mb:.0f} MB")
        if facts:
            lines.append("  " + ", ".join(facts))
        if server.venv:
            lines.append(f"  venv: {server.venv}")
        for label, items in (
            ("tools", server.tools),
            ("resources", server.resources),
            ("prompts", server.prompts),
        ):
            if items:
                lines.append(f"  {label} ({len(items)}): {', '.join(items)}")
        if server.source is not None:
            lines.append("  " + _source_line(server.source, server.error))
        if server.http is not None:
            lines.append("  " + _http_line(server.http))
        if server.error:
            first, *rest = server.error.splitlines()
            lines.append(f"  error: {first}")
            lines += [f"         {line}" for line in rest]
    passed = sum(1 for s in report.servers if s.ok)
    lines.append(f"{passed} of {len(report.servers)} servers passed")
    return "\n".join(lines)


def _source_line(check: SourceCheck, error: str | None) -> str:
    if check.ok:
        return "source: same tools, resources and prompts as the source tree"
    if not check.error or check.error in (error or ""):
        return "source: FAILED (see error)"
    return f"source: {check.error.splitlines()[0]}"


def _http_line(check: HttpCheck) -> str:
    if not check.ok:
        return f"http: FAILED ({check.url})"
    text = f"http: ok, initialize {check.initialize_ms} ms, tools/list {check.round_trip_ms} ms"
    if check.called_tool:
        verdict = "ok" if check.call_ok else f"returned an error: {check.call_error}"
        text += f", tools/call {check.called_tool} {verdict}"
    return text
