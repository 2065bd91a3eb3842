"""``mcpbundle verify`` from configuration: env, expected tools, limits, target Python,
index options, freshness (the build's own), and how each server loads from the
source tree (:func:`source_specs`)."""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath

from mcpbundle.base.cache_dir import cache_root
from mcpbundle.base.errors import ConfigError
from mcpbundle.build import BuildOptions, build
from mcpbundle.config.settings import Config
from mcpbundle.config.validate import output_dir
from mcpbundle.emit.output_lock import output_lock
from mcpbundle.git.source_state import current_source
from mcpbundle.plan.planner import BuildPlan, ServerPlan
from mcpbundle.plan.shim import needs_shim
from mcpbundle.plan.shim_render import render_shim
from mcpbundle.resolve.pinner import make_pinner, resolver_settings
from mcpbundle.resolve.resolver import index_args
from mcpbundle.verify.probe_runner import SourceSpec
from mcpbundle.verify.source_cache import metadata_path
from mcpbundle.verify.verifier import Limits, ServerReport, VerifyReport, verify

log = logging.getLogger("mcpbundle")


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        key, sep, value = text.removeprefix("export ").partition("=")
        if not sep or not key.strip().isidentifier():
            raise ConfigError("expected KEY=value", where=f"{path}:{number}")
        values[key.strip()] = value.strip().strip("'\"")
    return values


def source_specs(
    config: Config, plan: BuildPlan, metadata_dir: Path | None = None
) -> dict[str, SourceSpec]:
    """How each planned server loads in development: from its original entrypoint, with
    every shared lib importable (a dev venv installs them all editable, not only the
    server's closure) and, for a package-style server, the package's source root.

    With ``metadata_dir``, the dist-info an editable install would give (the same files
    the bundle ships) is put on the path, so code that reads
    ``importlib.metadata.version(...)`` loads from source as it does in development: in
    ``metadata_dir/<hash of those files>/<server>``, written once (whole, then renamed)
    and read as it is by later runs."""
    root = config.root
    libs = [root / lib.source_root for lib in plan.libs.values()]
    specs = {}
    for server in plan.servers:
        spec = _source_spec(config, server, libs)
        if metadata_dir is not None:
            meta = _dist_info(metadata_dir, server)
            spec = replace(spec, paths=(*spec.paths, meta.resolve()))
        specs[server.name] = spec
    return specs


def _dist_info(metadata_dir: Path, server: ServerPlan) -> Path:
    files = []
    for rel, data in server.generated:
        parts = PurePosixPath(rel).parts
        info = next((i for i, p in enumerate(parts) if p.endswith(".dist-info")), None)
        if info is not None:  # else the shim, not metadata
            files.append(("/".join(parts[info:]), data))
    digest = hashlib.sha256(server.name.encode() + b"\0")
    for rel, data in sorted(files):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(data).digest())
    final = metadata_dir / digest.hexdigest()[:32]
    if not files or final.is_dir():
        return final / server.name
    metadata_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".tmp-", dir=metadata_dir))
    try:
        for rel, data in files:
            target = staging / server.name / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            staging.rename(final)
        except OSError:
            if not final.is_dir():  # else another run wrote the same files first
                raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return final / server.name


def _source_spec(config: Config, server: ServerPlan, libs: list[Path]) -> SourceSpec:
    root = config.root
    server_dir = root / server.path
    # Git libs: absolute source roots in mcpbundle's cache (an absolute path wins).
    libs = [*libs, *(root / lib.source_root for lib in server.vendored)]
    if server.original_entrypoint is None:
        return SourceSpec(
            entry=root / server.entry_file,
            object=server.object,
            paths=_unique(libs),
            root=server_dir,
        )
    entry_rel, _, obj = server.original_entrypoint.rpartition(":")
    entry = root / entry_rel
    decision = needs_shim(entry, server_dir, object_name=obj, mode="always", python=server.python)
    shim = render_shim(
        source_root_rel=".", module=decision.module, object_name=obj, factory=decision.factory,
        thread_import=bool(decision.loops),
    )  # fmt: skip
    extra = [server_dir / rel for rel in decision.extra_path_rels(server_dir, entry)]
    return SourceSpec(
        entry=entry,
        object=obj,
        paths=_unique([decision.package_root or decision.source_root, *libs, *extra]),
        root=server_dir,
        shim=shim,
    )


def _unique(paths: Sequence[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(path.resolve() for path in paths))


def run_verify(
    config: Config,
    *,
    servers: Sequence[str],
    http: bool,
    env_file: Path | None,
    output: Path | None,
    jobs: int | None = None,
    on_result: Callable[[ServerReport], None] | None = None,
    formats: tuple[str, ...] | None = None,
) -> VerifyReport:
    """Build when anything changed (the build's own freshness test), then verify.

    ``formats``: what that build writes (None: ``[bundle] formats``)."""
    out = output_dir(config, output)
    options = BuildOptions(servers=tuple(servers), output=output, formats=formats)
    with output_lock(out, wait=True):
        result = build(config, options, source=current_source(config.root), pin=make_pinner(config))
    if result.written:
        log.warning("output was missing or stale: built it first")
    shared_env = read_env_file(env_file) if env_file else {}
    names = list(servers) or list(config.servers)
    env = {name: {**config.servers[name].env, **shared_env} for name in names}
    expect = {name: config.servers[name].expect_tools for name in names}
    limits = {
        name: Limits(
            timeout=config.servers[name].verify_timeout,
            memory=config.servers[name].verify_memory,
        )
        for name in names
    }
    cache_dir = cache_root()
    return verify(
        output_dir=out,
        servers=names,
        http=http,
        cache_dir=cache_dir,
        env=env,
        expect_tools=expect,
        installer="uv" if config.bundle.resolver == "uv" else None,
        index_args=index_args(resolver_settings(config)),
        sources=source_specs(config, result.plan, metadata_path(cache_dir)),
        target_python=config.bundle.python,
        limits=limits,
        protect=(config.root, out),
        jobs=jobs,
        on_result=on_result,
    )
