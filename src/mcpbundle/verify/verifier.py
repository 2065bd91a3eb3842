"""``mcpbundle verify``: install and load each built server the way the host will.

For every server in ``mcpbundle-manifest.json``: the target Python (the entry's
``python``, else ``[bundle] python``, else the running one; never another version
in its place), a fresh venv of it with exactly the server's ``requirements.txt``
(cached, see :mod:`mcpbundle.verify.venvs`); then :mod:`mcpbundle.verify.load_probe` loads a copy
of *only* that server's folder with FastMCP's own loader and lists what it exposes.
Given a :class:`~mcpbundle.verify.probe_runner.SourceSpec` for it, the server is also loaded
from the source tree the way it runs in development (same interpreter, every
shared library importable), side by side with the bundle load, and any difference
in the tools, resources or prompts the two expose fails it: a composite server
that swallows an ``ImportError`` for a member that was not vendored lists fewer
tools without failing to load. Optionally the server is started with ``fastmcp
run --transport http`` and called over HTTP.

Every run of a server's code is contained (:mod:`mcpbundle.verify.sandbox`): its own box
and session, the repository kept from being written, an address-space limit and
one time budget per server. Servers are verified ``jobs`` at a time; reports come
back in name order, each as soon as it and those before it are done. Nothing here
imports the servers' code into this process.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mcpbundle.base import progress
from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.base.temp_dirs import make_temp_dir, tmp_root
from mcpbundle.config.verify_settings import DEFAULT_MEMORY, DEFAULT_TIMEOUT
from mcpbundle.emit.manifest import MANIFEST_NAME, read_manifest
from mcpbundle.verify import sandbox
from mcpbundle.verify.bundle_copy import copy_server, server_paths
from mcpbundle.verify.interpreter_choice import (
    choose_interpreter,
    entry_requires_python,
    entry_target,
)
from mcpbundle.verify.probe_runner import (
    Load,
    LoadContext,
    SourceCheck,
    SourceSpec,
    check_source,
    probe_environment,
    run_probe,
    serve_http,
)
from mcpbundle.verify.report import (
    EMPTY_SURFACE,
    ServerReport,
    VerifyReport,
    empty_surface,
    format_report,
    with_hint,
)
from mcpbundle.verify.sandbox import Box, remove_tree
from mcpbundle.verify.source_cache import SourceCache, cache_path, load_cached
from mcpbundle.verify.surface import SurfaceCache, normalize, surface_key
from mcpbundle.verify.surface import cache_path as surfaces_path
from mcpbundle.verify.venvs import (
    Venv,
    choose_installer,
    ensure_venv,
    python_info,
)

__all__ = ["ServerReport", "VerifyReport", "format_report", "verify"]


@dataclass(frozen=True, kw_only=True)
class Limits:
    """A server's ``verify-timeout`` (seconds, for all its loads) and ``verify-memory``."""

    timeout: float = DEFAULT_TIMEOUT
    memory: int | None = DEFAULT_MEMORY


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
    target_python: str | None = None,
    limits: Mapping[str, Limits] | None = None,
    protect: Sequence[Path] | None = None,
    jobs: int | None = None,
    on_result: Callable[[ServerReport], None] | None = None,
    reuse_surfaces: bool = False,
) -> VerifyReport:
    """Verify the servers built into ``output_dir`` (all of them when ``servers`` is None).

    ``python``: use this interpreter as is instead of building a venv from each
    server's requirements (no install; for offline tests and quick local checks);
    it must be the target version. ``sources``: how to load each server from the
    source tree; a server with a spec fails unless both loads list the same tools,
    resources and prompts (None: no comparison). ``target_python``: ``[bundle]
    python`` (a manifest entry's ``python`` wins). ``protect``: directories the
    servers' code must not write (default: the output). ``on_result`` gets each
    report in name order as soon as it and those before it are done.

    Each loaded server's surface is kept in the cache by its bundle's hash;
    ``reuse_surfaces``: a server whose surface is cached is not loaded at all (its
    report holds only the surface; for ``diff`` and ``surface``, not for verifying).
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
    workers = max(1, jobs or os.cpu_count() or 1)
    guarded = list(protect if protect is not None else (output_dir,))
    cache = None
    if sources:
        cache = SourceCache(cache_dir, skip=(output_dir, cache_dir))
        with contextlib.suppress(OSError):
            cache_path(cache_dir).mkdir(parents=True, exist_ok=True)
            guarded.append(cache_path(cache_dir))  # no load may plant a verdict there
    guarded.append(surfaces_path(cache_dir))  # made before the first load (see prepare)
    options = _Options(
        output_dir=output_dir,
        http=http,
        cache_dir=cache_dir,
        index_args=tuple(index_args),
        installer=None if python is not None else choose_installer(installer),
        python=python,
        protect=tuple(guarded),
        show_steps=workers == 1 or not sys.stderr.isatty(),
        source_cache=cache,
        surfaces=SurfaceCache(cache_dir),
        reuse_surfaces=reuse_surfaces,
    )
    specs, settings = sources or {}, limits or {}
    jobs_list = [
        _Job(
            name=name,
            entry=entries[name],
            target=entry_target(entries[name], target_python),
            allowed=entry_requires_python(entries[name]),
            env=env.get(name, {}),
            expect=tuple(expect_tools.get(name, ())),
            source=specs.get(name),
            limits=settings.get(name, Limits()),
        )
        for name in names
    ]
    reports = []
    # A finished server's sandbox is deleted while the next one loads; all before returning.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="verify-cleanup") as remover:
        options = replace(options, discard=lambda path: remover.submit(remove_tree, path))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
            futures = [pool.submit(_verify_server, job, options) for job in jobs_list]
            try:
                for future in futures:
                    report = future.result()
                    reports.append(report)
                    if on_result is not None:
                        on_result(report)
            except BaseException:  # an interrupt: stop the loads, do not wait out their budgets
                for pending in futures:
                    pending.cancel()
                sandbox.stop_all()
                raise
    return VerifyReport(tuple(reports))


@dataclass(frozen=True, kw_only=True)
class _Options:
    output_dir: Path
    http: bool
    cache_dir: Path
    installer: str | None
    index_args: tuple[str, ...]
    python: Path | None
    protect: tuple[Path, ...] = ()
    show_steps: bool = True
    source_cache: SourceCache | None = None
    surfaces: SurfaceCache | None = None
    reuse_surfaces: bool = False
    discard: Callable[[Path], object] = remove_tree  # deletes a finished server's sandbox


@dataclass(frozen=True, kw_only=True)
class _Job:
    name: str
    entry: Mapping[str, Any]
    target: str | None
    allowed: str | None = None  # its requires-python: which releases of the target fit
    env: Mapping[str, str] = field(default_factory=dict)
    expect: tuple[str, ...] = ()
    source: SourceSpec | None = None
    limits: Limits = field(default_factory=Limits)


def _venv(requirements: Path, options: _Options, base: Path) -> Venv:
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
        base_python=base,
    )


def _step(options: _Options, name: str, action: str) -> contextlib.AbstractContextManager[None]:
    """Progress of one step; a terminal's redrawn line only fits one server at a time."""
    return progress.step(name, action) if options.show_steps else contextlib.nullcontext()


def _verify_server(job: _Job, options: _Options) -> ServerReport:
    name = job.name
    try:
        server_dir, entry_rel, requirements = server_paths(name, job.entry, options.output_dir)
        base = choose_interpreter(job.target, job.allowed, given=options.python)
        version = python_info(base)[0]  # the venv's too: it is made from this interpreter
        key = surface_key(options.output_dir, job.entry, version, options.python, job.env)
        known = options.surfaces.get(key) if options.surfaces and key else None
        if known is not None and options.reuse_surfaces:
            return ServerReport(name=name, ok=True, surface=known, surface_cached=True)
        with _step(options, name, "installing requirements.txt into a venv"):
            venv = _venv(requirements, options, base)
    except BuildError as exc:
        return ServerReport(name=name, ok=False, error=str(exc))
    if options.surfaces is not None:
        options.surfaces.prepare()  # it exists, so no load can plant a surface in it
    ctx = LoadContext(
        python=venv.python,
        env=probe_environment(job.env),
        deadline=time.monotonic() + job.limits.timeout,
        timeout=job.limits.timeout,
        memory=job.limits.memory,
        protect=options.protect,
        name=name,
    )
    with _scratch(options.discard, options.protect) as scratch:
        bundle_box = Box.create(scratch, "bundle-load")
        entry_arg, root = copy_server(bundle_box.root, options.output_dir, server_dir, entry_rel)
        args = ["load", entry_arg, "--root", str(root)]
        spec = job.source
        from_source = None
        if spec is not None:

            def from_source() -> Load:
                assert spec is not None
                box = functools.partial(Box.create, scratch, "source-load")  # only if it loads
                return load_cached(options.source_cache, ctx, spec, box, job.env, version)

        action = "loading the bundle" + (" and the source tree" if spec else "")
        with _step(options, name, action):
            bundle, source = _side_by_side(lambda: run_probe(ctx, bundle_box, args), from_source)
        report = _report(job, venv, bundle, source)
        if report.surface is not None and options.surfaces and key:
            options.surfaces.put(key, report.surface)
        if options.http and bundle.verdict.get("ok"):
            http_box = Box.create(scratch, "http")
            http_entry, _ = copy_server(http_box.root, options.output_dir, server_dir, entry_rel)
            check, warnings = serve_http(ctx, http_box, http_entry)
            errors = [report.error] if report.error else []
            if not check.ok:
                errors.append(f"http: {check.error}")
            report = replace(
                report,
                http=check,
                ok=not errors,
                error="; ".join(errors) or None,
                warnings=_unique((*report.warnings, *warnings)),
            )
    return report


def _side_by_side(
    first: Callable[[], Load], second: Callable[[], Load] | None
) -> tuple[Load, Load | None]:
    if second is None:
        return first(), None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="verify-source") as pool:
        later = pool.submit(second)
        return first(), later.result()


def _report(job: _Job, venv: Venv, bundle: Load, source: Load | None) -> ServerReport:
    loaded = bundle.verdict
    common: dict[str, Any] = {
        "name": job.name,
        "install_seconds": venv.install_seconds,
        "venv": venv.describe(),
        "peak_memory_mb": loaded.get("peak_memory_mb"),
        "python": loaded.get("python") or (source.verdict.get("python") if source else None),
        "warnings": _unique((*bundle.warnings, *(source.warnings if source else ()))),
        "isolation": bundle.isolation,
        "repository": bundle.repository or None,
    }
    compared: SourceCheck | None = None
    if source is not None:
        compared = check_source(loaded, _with_fix(source.verdict, job.name))
        common["source"] = compared
    if not loaded.get("ok"):
        return ServerReport(ok=False, error=with_hint(str(loaded.get("error")), job.name), **common)
    found = tuple(loaded.get("tools", ()))
    common.update(
        import_seconds=loaded.get("import_seconds"),
        tools=found,
        resources=tuple(loaded.get("resources", ())),
        prompts=tuple(loaded.get("prompts", ())),
        surface=normalize(loaded.get("surface")),
    )
    if empty_surface(found, common["resources"], common["prompts"], common["surface"]):
        common["warnings"] = _unique((*common["warnings"], EMPTY_SURFACE))
    errors = []
    missing = [tool for tool in job.expect if tool not in found]
    if missing:
        errors.append(f"expected tools missing: {', '.join(missing)}")
    if compared is not None and compared.error:
        errors.append(compared.error)
    return ServerReport(ok=not errors, error="; ".join(errors) or None, **common)


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


@contextlib.contextmanager
def _scratch(discard: Callable[[Path], object], protect: Sequence[Path]) -> Iterator[Path]:
    """A server's sandboxes, under the cache's ``tmp/`` with this process's pid in the
    name, so a later run sweeps what a kill -9 left. A cache inside a directory the
    sandbox guards (the repository) would leave that directory writable to the loads:
    then the scratch goes to the system temp directory instead."""
    base = tmp_root().resolve()
    if any(base.is_relative_to(p.resolve()) for p in protect):
        path = Path(tempfile.mkdtemp(prefix=f"mcpbundle-verify-{os.getpid()}-"))
    else:
        path = make_temp_dir("verify")
    try:
        yield path
    finally:
        discard(path)


def _with_fix(verdict: dict[str, Any], name: str) -> dict[str, Any]:
    if verdict.get("ok") or not verdict.get("error"):
        return verdict
    return {**verdict, "error": with_hint(str(verdict["error"]), name)}
