"""``mcpbundle verify`` from configuration: env, expected tools, index options, freshness."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

from mcpbundle.build import BuildOptions, build, output_dir, plan_build
from mcpbundle.cachedir import cache_root
from mcpbundle.config import Config
from mcpbundle.errors import ConfigError
from mcpbundle.manifest import MANIFEST_NAME, read_manifest, sha256_file
from mcpbundle.pinning import make_pinner, resolver_settings
from mcpbundle.resolve import index_args
from mcpbundle.plan import BuildPlan
from mcpbundle.sourcestate import current_source
from mcpbundle.verify import VerifyReport, verify

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


def is_stale(config: Config, plan: BuildPlan, output: Path) -> bool:
    """True when the output lacks a planned server or a planned file differs from its source."""
    manifest = read_manifest(output / MANIFEST_NAME)
    if manifest is None:
        return True
    for server in plan.servers:
        entry = manifest["servers"].get(server.name)
        if not isinstance(entry, dict) or entry.get("entrypoint") != server.entrypoint:
            return True
        hashes = entry.get("files", {})
        generated = {server.requirements_txt}
        for copy in server.files:
            if copy.dest in generated:
                continue
            if hashes.get(copy.dest) != sha256_file(copy.path(config.root)):
                return True
    return False


def run_verify(
    config: Config,
    *,
    servers: Sequence[str],
    http: bool,
    env_file: Path | None,
    output: Path | None,
) -> VerifyReport:
    out = output_dir(config, output)
    options = BuildOptions(servers=tuple(servers), output=output)
    plan = plan_build(config, options)
    if is_stale(config, plan, out):
        log.warning("output is missing or stale: building first")
        build(config, options, source=current_source(config.root), pin=make_pinner(config))
    shared_env = read_env_file(env_file) if env_file else {}
    names = list(servers) or list(config.servers)
    env = {name: {**config.servers[name].env, **shared_env} for name in names}
    expect = {name: config.servers[name].expect_tools for name in names}
    return verify(
        output_dir=out,
        servers=names,
        http=http,
        cache_dir=cache_root(),
        env=env,
        expect_tools=expect,
        installer="uv" if config.bundle.resolver == "uv" else None,
        index_args=index_args(resolver_settings(config)),
    )
