"""Build ``check`` targets from a plan (what build would ship) or from a built output.

Both describe the bundle as the runtime loads it: every file that ships (the
entry shim and generated metadata included, marked ``generated`` so rules do not
lint mcpbundle's own code), the ``sys.path`` the shim sets up, and the fixes the
build applies (``mcp<2``). A shimmed server is checked at its real entrypoint
and object, the ones the shim imports.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Sequence
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpbundle.base.errors import UsageError
from mcpbundle.check import installed_cache
from mcpbundle.check.engine import run_checks, unknown_codes
from mcpbundle.check.imports import provision
from mcpbundle.check.model import CheckTarget, Finding, SourceFile
from mcpbundle.check.plan_findings import (
    NEEDS_PLAN,
    Planned,
    error_finding,
    plan_servers,
    target_python,
)
from mcpbundle.check.registry import all_codes
from mcpbundle.check.target_paths import (
    SDK_FIX,
    ignored_codes,
    inside,
    shim_packages,
    shim_sys_path,
    sys_path_of,
)
from mcpbundle.config.settings import Config
from mcpbundle.plan.planner import PlanMemo, ServerPlan
from mcpbundle.plan.repo_files import (
    FileFilter,
    RepoFiles,
    is_secret,
    list_repo_files,
    local_spec,
    under,
)
from mcpbundle.plan.requirement_lists import requirements_in_text
from mcpbundle.plan.shipped_files import join

if TYPE_CHECKING:
    from mcpbundle.incremental.read_cache import ReadCache


log = logging.getLogger("mcpbundle")


@lru_cache(maxsize=8192)
def _requirement_name(line: str) -> str:
    return str(canonicalize_name(Requirement(line).name))


def _names(lines: Sequence[str]) -> frozenset[str]:
    names = set()
    for line in lines:
        try:
            names.add(_requirement_name(line))
        except InvalidRequirement:
            continue
    return frozenset(names)


def check_findings(
    config: Config,
    *,
    servers: Sequence[str],
    built: bool,
    output: Path,
    select: frozenset[str] | None,
    ignore: frozenset[str],
    plans: PlanCacheOpener | None = None,
) -> tuple[list[Finding], int]:
    """Every finding of every selected server in one run, and the number of servers checked.

    ``plans`` opens the build's plan cache for the listing (the CLI passes it): a server
    whose planning inputs are as the last build or check recorded is not planned again."""
    for name, codes in (("--select", select or ()), ("--ignore", ignore)):
        unknown = unknown_codes(codes)
        if unknown:
            raise UsageError(
                f"unknown check code{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}",
                where=name,
                hint=f"known codes: {', '.join(all_codes())} (a prefix such as MCB00 also works)",
            )
    if built:
        from mcpbundle.check.built_targets import built_targets  # only for --built

        targets = built_targets(config, output, servers)
    else:
        # listed as build lists them (the config never ships), so its plans are shared
        files = list_repo_files(config.root, skip=[output, config.path])
        cache = plans(config, files, output) if plans is not None else None
        memo = cache.compute if cache is not None else None
        targets = source_targets(config, files, servers, GENERATED, memo=memo)
        if cache is not None:
            cache.save()
            log.info("plans: %d from the cache, %d planned", cache.hits, cache.misses)
    findings = run_checks(targets, select=select, ignore=ignore)
    installed_cache.save_all()
    return findings, len(targets)


# Where the files the build would generate are named: check reads them from memory and
# writes nothing, and nothing can exist under the null device (it is no directory).
GENERATED = Path(os.devnull) / "mcpbundle-generated"


# the plan cache for a listing, passed in by the CLI
PlanCacheOpener = Callable[[Config, RepoFiles, Path], "ReadCache | None"]


def _open_plans(config: Config, files: RepoFiles, output: Path) -> ReadCache | None:
    """The build's plan cache (:mod:`mcpbundle.incremental.plan_store`), with the planner's
    fact makers."""
    from mcpbundle.incremental.plan_store import plan_cache
    from mcpbundle.plan.derived_reads import FACTS

    return plan_cache(config, files, output, FACTS)


PLAN_CACHE: PlanCacheOpener = _open_plans


def _git_guesses(unresolved: Sequence[str]) -> frozenset[str]:
    """Names for git requirements the offline plan did not fetch (``origin: URL (policy, not
    fetched)``): the repository's (or subdirectory's) name, so their imports are at most
    guessed (a warning), never reported as provided by nothing."""
    names = set()
    for entry in unresolved:
        match = re.search(r":\s(\S+) \([a-z]+, not fetched\)$", entry)
        if match is None:
            continue
        url, _, subdirectory = match.group(1).partition("#subdirectory=")
        last = (subdirectory or url).rstrip("/").rsplit("/", 1)[-1]
        last = last if subdirectory else last.split("@", 1)[0].removesuffix(".git")
        if last:
            names.add(str(canonicalize_name(last)))
    return frozenset(names)


def _added(config: Config) -> frozenset[str]:
    """What the build adds to every server's pins: fastmcp, unless it is there already
    (``[bundle] add-fastmcp``; with ``auto-fix = false`` the build fails instead, which
    MCB005 reports, so the import is not an MCB004 as well)."""
    return frozenset({canonicalize_name("fastmcp")}) if config.bundle.add_fastmcp else frozenset()


def _fastmcp_fix(config: Config, names: frozenset[str]) -> tuple[str | None, tuple[str, ...]]:
    """What the build adds when the requirements ``names`` (and what they require, as far as
    check can see) lack fastmcp, and the requirements whose own requirements it cannot see."""
    if not config.bundle.add_fastmcp or "fastmcp" in names:  # named: nothing to walk
        return None, ()
    closure = provision({name: frozenset() for name in names})
    if "fastmcp" in {*closure.modules.values(), *closure.guessed}:
        return None, ()
    return "fastmcp", tuple(sorted(closure.guessed))


def source_targets(
    config: Config,
    files: RepoFiles,
    servers: Sequence[str],
    scratch: Path,
    *,
    memo: PlanMemo | None = None,
) -> list[CheckTarget]:
    """Targets for what ``build`` would produce (generated files are named under ``scratch``
    and read from memory)."""
    for name in servers:
        if name not in config.servers:
            known = ", ".join(config.servers)
            raise UsageError(f"unknown server {name!r}", hint=f"known servers: {known}")
    names = list(servers) or list(config.servers)
    planned = plan_servers(config, files, names, memo)
    return [_target(config, files, one, scratch) for one in planned]


def _target(config: Config, files: RepoFiles, planned: Planned, scratch: Path) -> CheckTarget:
    problem = error_finding(config, planned)
    problems = (problem,) if problem is not None else ()
    if planned.plan is None:
        return _unplanned_target(config, files, planned.name, problems)
    return _source_target(config, planned.plan, scratch)


def _source_target(config: Config, server: ServerPlan, scratch: Path) -> CheckTarget:
    requirements_txt = inside(server.requirements_txt, server.path)
    files = {
        inside(copy.dest, server.path): SourceFile(path=copy.path(config.root), display=copy.source)
        for copy in server.files
        if inside(copy.dest, server.path) not in (requirements_txt, "requirements.in")
    }
    base = scratch / server.name
    generated: set[str] = set()
    shim_text = ""
    for dest, data in server.generated:
        rel = inside(dest, server.path)
        path = _generated_name(scratch, rel, data)
        files[rel] = SourceFile(path=path, display=f"{dest} (generated)", data=data)
        generated.add(rel)
        if dest == server.entry_file:
            shim_text = data.decode("utf-8", "replace")
    requirements_in = base / "requirements.in"
    requirements_data = requirements_in_text(server.requirements_in).encode("utf-8")
    entry_rel = inside(server.entry_file, server.path)
    shim: str | None = None
    packages: tuple[tuple[str | None, str], ...] = ()
    object_name: str | None = server.object
    if server.original_entrypoint is not None:
        shim = entry_rel
        original, _, object_name = server.original_entrypoint.rpartition(":")
        entry_rel = inside(original, server.path)
        sys_path = shim_sys_path(shim, shim_text)
        packages = shim_packages(shim, shim_text)
    else:
        sys_path = sys_path_of(entry_rel, inside(server.vendor_dir, server.path))
    names = _names(server.requirements_in) | _git_guesses(server.unresolved_git)
    fastmcp_fix, unseen = _fastmcp_fix(config, names)
    return CheckTarget(
        server=server.name,
        files=files,
        entrypoint=entry_rel,
        object_name=object_name,
        sys_path=sys_path,
        packages=packages,
        requirement_files={
            requirements_txt: SourceFile(
                path=requirements_in,
                display=f"{join(server.path, 'requirements.in')} (generated)",
                data=requirements_data,
            )
        },
        requirement_names=names | _added(config),
        ignore=ignored_codes(config, server.name),
        python=server.python,
        generated=frozenset(generated),
        shim=shim,
        sdk_fix=next((r.origin for r in server.rewrites if r.replacement == SDK_FIX), None),
        auto_fix=config.bundle.auto_fix,
        fastmcp_fix=fastmcp_fix,
        fastmcp_at=server.requirements_source,
        unseen=unseen,
        unfetched=server.unresolved_git,
        allow_secrets=config.bundle.allow_secrets,
        repo_root=config.root,
        lock=server.lock,
        lock_pins=_pins(server.preferences),
    )


def _generated_name(scratch: Path, rel: str, data: bytes) -> Path:
    """A name for a generated file check reads from memory: one per distinct content, so
    the dist-info every server vendoring a library gets is decoded (and parsed and
    scanned) once, not once per server. It keeps its file name (rules read suffixes)."""
    digest = hashlib.sha256(data).hexdigest()[:32]
    return scratch / "generated" / digest / rel.rsplit("/", 1)[-1]


def _pins(preferences: Sequence[str]) -> dict[str, str]:
    """``name==version`` lines as canonical name -> version."""
    pins = {}
    for line in preferences:
        name, sep, version = line.partition("==")
        if sep:
            pins[str(canonicalize_name(name))] = version.strip()
    return pins


def _unplanned_target(
    config: Config, repo: RepoFiles, name: str, problems: tuple[Finding, ...]
) -> CheckTarget:
    """The server's own files as they are, for the rules that need no plan."""
    server = config.servers[name]
    filt = FileFilter(config.bundle.exclude)
    spec = local_spec(server.exclude)
    files = {
        local: SourceFile(path=config.root / path, display=path)
        for path, local in under(repo.paths, server.path)
        if not filt.excluded(path, local, spec) and not is_secret(path)
    }
    entry_dir = PurePosixPath(server.entrypoint).parent.as_posix()
    requirements = {}
    for local in (server.requirements, "requirements.txt", "pyproject.toml"):
        if local is not None and local in files:
            requirements = {local: files.pop(local)}
            break
    local_dirs = {
        str((config.root / lib.path).resolve()): f"vendors shared lib {lib.name!r} instead"
        for lib in config.shared.values()
    }
    local_dirs[str((config.root / server.path).resolve())] = "uses the server's own project"
    return CheckTarget(
        server=name,
        files=files,
        entrypoint=server.entrypoint,
        object_name=server.object,
        sys_path=sys_path_of(server.entrypoint, server.vendor_dir or entry_dir),
        requirement_files=requirements,
        requirement_names=frozenset(),
        raw_requirements=True,
        local_dirs=local_dirs,
        ignore=ignored_codes(config, name),
        # a missing entry file is the MCB000 of its plan, not also an MCB001
        skip=NEEDS_PLAN | {"MCB001"}
        if server.missing and server.entrypoint not in files
        else NEEDS_PLAN,
        python=target_python(config, server),
        auto_fix=config.bundle.auto_fix,
        allow_secrets=config.bundle.allow_secrets,
        repo_root=config.root,
        problems=problems,
    )
