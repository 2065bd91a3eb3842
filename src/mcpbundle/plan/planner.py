"""The build plan: for each server, what is copied where and what it requires.

Planning reads the repository but writes nothing. Its result is plain frozen
data that :mod:`mcpbundle.resolve.resolver` pins and :mod:`mcpbundle.emit.directory` writes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from packaging.requirements import Requirement

from mcpbundle.base.errors import BuildError, ConfigError, MCPBundleError, UsageError
from mcpbundle.base.regular_file import kind_of
from mcpbundle.config.settings import Config, Server
from mcpbundle.plan.adapters import (
    dist_infos,
    entry_layout,
    licence_warnings,
    lock_preferences,
)
from mcpbundle.plan.chain_siblings import sibling_copies
from mcpbundle.plan.clashes import reject_clashes
from mcpbundle.plan.closure import Classified, LibGraph, Rewrite
from mcpbundle.plan.derived_reads import Noted, noting
from mcpbundle.plan.entrypoints import server_object
from mcpbundle.plan.fastmcp_json import EntryFacts
from mcpbundle.plan.index_options import IndexOption, merged_index
from mcpbundle.plan.lib_discovery import LibInfo
from mcpbundle.plan.lib_extras import with_extras
from mcpbundle.plan.locks import workspace_root_dependencies
from mcpbundle.plan.own_extras import own_extras
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.python_target import (
    check_requires_python,
    running_python_warning,
    server_target,
)
from mcpbundle.plan.repo_files import FileFilter, RepoFiles
from mcpbundle.plan.requirement_lists import (
    constraints_for,
    merge_requirements,
    sort_requirements,
)
from mcpbundle.plan.requirement_sources import default_source, read_source
from mcpbundle.plan.requirements import ReqLine
from mcpbundle.plan.sdk_fixes import sdk_fix
from mcpbundle.plan.shipped_files import (
    FileCopy,
    LibFiles,
    dedupe,
    fastmcp_jsons,
    is_git_checkout,
    join,
    scrub_requirement_files,
    server_files,
    vendored_files,
)


@dataclass(frozen=True, kw_only=True)
class ServerPlan:
    name: str
    path: str  # repo-relative server directory = its folder in the output
    entry_file: str  # output-relative entrypoint file
    object: str
    vendor_dir: str  # output-relative
    files: tuple[FileCopy, ...]
    generated: tuple[tuple[str, bytes], ...]  # output-relative path -> content (shim, dist-info)
    shared: tuple[str, ...]
    vendored: tuple[LibInfo, ...]
    requirements_in: tuple[str, ...]
    rewrites: tuple[Rewrite, ...]
    skipped_secrets: tuple[str, ...]
    requirements_source: str | None  # repo-relative file the requirements came from
    requirement_files: tuple[str, ...] = ()  # every file its entries came from (-r/-c too)
    constraints: tuple[str, ...] = ()  # constraint files whose pins seed the resolver
    pyproject: str | None  # repo-relative server pyproject.toml, if any
    original_entrypoint: str | None = None  # the configured entrypoint when shimmed
    lock: str | None = None  # repo-relative lock file whose pins seed the resolver
    preferences: tuple[str, ...] = ()  # name==version from that lock
    python: str  # the target Python "3.12" the pins and the code are for
    python_origin: str = ""  # where the target came from ("[bundle] python", a file)
    unresolved_git: tuple[str, ...] = ()  # git requirements not fetched (planned offline)
    warnings: tuple[str, ...] = ()
    # its requirements files' index options, for its resolver ([bundle] key, value)
    index: tuple[IndexOption, ...] = ()
    unlicensed: tuple[str, ...] = ()  # vendored libraries without licence information

    @property
    def entrypoint(self) -> str:
        return f"{self.entry_file}:{self.object}"

    @property
    def requirements_txt(self) -> str:
        return join(self.path, "requirements.txt")

    @property
    def vendored_names(self) -> frozenset[str]:
        return frozenset(lib.distribution for lib in self.vendored)


@dataclass(frozen=True, kw_only=True)
class BuildPlan:
    servers: tuple[ServerPlan, ...]
    warnings: tuple[str, ...]
    libs: Mapping[str, LibInfo]  # every shared lib, declared or implicit
    requires: Mapping[str, tuple[str, ...]]  # lib -> libs it needs (declared + inferred)
    failures: Mapping[str, MCPBundleError] = field(default_factory=dict)  # keep_going only


# (key, make -> (plan, storable)) -> plan: a cache of server plans across builds. The key
# names what planning one server depends on besides the configuration, the file listing
# and the files it reads (which the cache records: see mcpbundle.incremental.read_cache).
PlanMemo = Callable[[str, Callable[[], "tuple[ServerPlan, bool, Noted]"]], "ServerPlan"]


def make_plan(
    config: Config,
    files: RepoFiles,
    *,
    only: Sequence[str] = (),
    strict: bool = False,
    keep_going: bool = False,
    fetch_git: bool = True,
    memo: PlanMemo | None = None,
) -> BuildPlan:
    """Plan the servers named in ``only`` (all when empty).

    ``keep_going``: a server whose planning fails is left out and its error recorded
    in ``failures`` instead of raised. ``fetch_git=False`` plans without the network
    (git requirements that would need a clone are listed, not resolved). ``memo``: where
    plans of unchanged servers come from (a server whose planning changes what the
    library graph knows, an implicit library found, is always planned)."""
    for name in only:
        if name not in config.servers:
            known = ", ".join(config.servers)
            raise UsageError(f"unknown server {name!r}", hint=f"known servers: {known}")
    graph = LibGraph(config, strict=strict)
    chosen = [s for n, s in config.servers.items() if not only or n in only]
    filt = FileFilter(config.bundle.exclude)
    seen: dict[tuple[str, tuple[str, ...]], LibFiles] = {}  # each library's files, found once
    plans: list[ServerPlan] = []
    failures: dict[str, MCPBundleError] = {}
    for server in chosen:
        graph.context = server.name
        try:
            if server.missing is not None:
                message, where, hint = server.missing
                raise ConfigError(message, where=where, hint=hint, server=server.name)
            if memo is None:
                plans.append(
                    _plan_server(config, server, graph, files, filt, seen, fetch_git=fetch_git)
                )
            else:
                plans.append(_memoized(memo, config, server, graph, files, filt, seen, fetch_git))
        except MCPBundleError as exc:
            if not keep_going:
                raise
            failures[server.name] = exc
        finally:
            graph.context = None
    unused = sorted(set(graph.broken) - graph.raised)
    if unused and not keep_going and not only:
        raise graph.broken_error(unused[0], None)  # a broken library no server vendors
    warnings = [*graph.warnings, *(w for p in plans for w in p.warnings)]
    warnings += licence_warnings([(p.name, lib) for p in plans for lib in p.unlicensed])
    warnings += [f"{graph.broken_error(name, None)}" for name in unused]
    unchosen = [p.name for p in plans if p.python_origin == "the running Python"]
    if unchosen:
        warnings.append(running_python_warning(unchosen))
    return BuildPlan(
        servers=tuple(plans),
        warnings=tuple(dict.fromkeys(warnings)),
        libs=dict(sorted(graph.libs.items())),
        requires=dict(sorted(graph.requires.items())),
        failures=failures,
    )


def _memoized(
    memo: PlanMemo,
    config: Config,
    server: Server,
    graph: LibGraph,
    files: RepoFiles,
    filt: FileFilter,
    seen: dict[tuple[str, tuple[str, ...]], LibFiles],
    fetch_git: bool,
) -> ServerPlan:
    before = graph.state()
    # No fetch flag in the key: it only matters to a server with git requirements, whose
    # plan is never stored, so build (which fetches) and check (which does not) share plans.
    key = repr((server.name, before, graph.strict))

    def make() -> tuple[ServerPlan, bool, Noted]:
        git: list[str] = []
        with noting() as noted:
            plan = _plan_server(
                config, server, graph, files, filt, seen, fetch_git=fetch_git, git_seen=git
            )
        return plan, graph.state() == before and not git, noted

    return memo(key, make)


def _plan_server(
    config: Config,
    server: Server,
    graph: LibGraph,
    files: RepoFiles,
    filt: FileFilter,
    seen: dict[tuple[str, tuple[str, ...]], LibFiles],
    *,
    fetch_git: bool,
    git_seen: list[str] | None = None,
) -> ServerPlan:
    """One server's plan; ``git_seen`` gets the server's name when it has git requirements
    (their plan depends on ``fetch_git``)."""
    root = config.root
    key = config.where(f"servers.{server.name}")
    target = server_target(root, server.path, config.bundle.python, config.display)
    source, lines, project_path = _server_requirements(config, server)
    lines = [*lines, *own_extras(config, server, source, project_path)]
    server_dir = root / server.path
    found = graph.classify(lines, owner_dir=server_dir)
    own: list[ReqLine] = []
    if found.self_reference and project_path is not None:
        info = read_pyproject(root / project_path, root=root)
        own_found = graph.classify(info.dependencies, owner_dir=server_dir)
        _absorb(found, own_found)
        own = own_found.pypi
    own.extend(_workspace_root(config, server, graph, found))
    git_libs: list[LibInfo] = []
    unresolved: list[str] = []
    if found.git:
        from mcpbundle.plan.git_policy import expand_git  # GitPython: only for git requirements

        if git_seen is not None:
            git_seen.append(server.name)

        outcome = expand_git(config, graph, found, fetch=fetch_git)
        git_libs, unresolved = outcome.vendored, outcome.unresolved
    grown = with_extras(graph, graph.closure({*server.shared, *found.libs}), found.extras)
    closure = grown.closure
    vendored = (*(graph.libs[name] for name in closure), *git_libs)
    projects = [root / server.path / "pyproject.toml"]
    projects += [root / lib.path / "pyproject.toml" for lib in vendored if not is_git_checkout(lib)]
    check_requires_python(target, projects, root)
    requirements = merge_requirements(
        [found.pypi, own, *(graph.third_party[name] for name in closure), grown.pypi]
    )
    required = {Requirement(r).name.lower().replace("_", "-"): r for r in requirements}
    constraints = constraints_for(lines, required)
    entry_rel = join(server.path, server.entrypoint)
    obj = server_object(
        root / entry_rel, entry_rel, server.object, f"{key}.entrypoint", target.version
    )
    layout = entry_layout(config, server, entry_rel, obj, python=target.version)
    vendor_dir = layout.vendor_dir
    reject_clashes(config, vendored, vendor_dir, key, requirements)
    copies, secrets = server_files(config, server, files, filt, vendored=vendored)
    lib_copies, lib_secrets = vendored_files(vendored, vendor_dir, files, filt, seen)
    chain = [FileCopy(source=src, dest=dest) for src, dest in layout.chain]
    if layout.chain_root is not None and layout.inside_package:
        parts, chain_secrets = sibling_copies(
            root=root, server_path=server.path, chain_root=layout.chain_root,
            packages=layout.chain_packages, inside=layout.inside_package, shipped=copies,
            files=files, filt=filt, python=target.version,
        )  # fmt: skip
        chain.extend(parts)
        secrets = [*secrets, *chain_secrets]
    all_copies = sorted(dedupe([*copies, *lib_copies, *chain]), key=lambda c: c.dest)
    regenerated = {join(server.path, "requirements.txt"), join(server.path, "requirements.in")}
    all_copies, scrubbed = scrub_requirement_files(
        root, all_copies, set(_origin_files(lines)) - regenerated
    )
    lock = lock_preferences(config, server, exclude=[lib.distribution for lib in vendored])
    python_files = [(c.path(root), c.source) for c in all_copies if c.dest.endswith(".py")]
    fix = sdk_fix(
        config, python_files, requirements, lock.pins, python=target.version,
        source=source or config.where(f"servers.{server.name}"),
    )  # fmt: skip
    metadata = dist_infos(config, server, vendored, vendor_dir)
    licences = [FileCopy(source=src, dest=dest) for src, dest in metadata.licence_files]
    all_copies = sorted(dedupe([*all_copies, *licences]), key=lambda c: c.dest)
    generated = metadata.generated
    generated.extend(scrubbed)
    if layout.shim is not None:
        generated.append(layout.shim)
    facts = EntryFacts(
        server_path=server.path,
        original_entry=entry_rel,
        entry_file=layout.entry_file,
        object=layout.object,
        requirements_txt=join(server.path, "requirements.txt"),
        python=target.version,
    )
    all_copies, rewritten, json_warnings = fastmcp_jsons(root, all_copies, generated, facts)
    generated.extend(rewritten)
    return ServerPlan(
        name=server.name,
        path=server.path,
        entry_file=layout.entry_file,
        object=layout.object,
        vendor_dir=vendor_dir,
        files=tuple(all_copies),
        generated=tuple(sorted(generated)),
        shared=closure,
        vendored=vendored,
        requirements_in=sort_requirements([*requirements, *constraints, *fix.requirements]),
        rewrites=(*found.rewrites, *fix.rewrites),
        index=merged_index(found.index, key),
        skipped_secrets=tuple(sorted({*secrets, *lib_secrets})),
        requirements_source=source,
        requirement_files=_origin_files(lines),
        pyproject=project_path,
        original_entrypoint=layout.original,
        lock=lock.path,
        preferences=lock.preferences,
        constraints=lock.constraints,
        python=target.version,
        python_origin=target.origin,
        unresolved_git=tuple(unresolved),
        warnings=(*layout.warnings, *fix.warnings, *json_warnings),
        unlicensed=tuple(metadata.unlicensed),
    )


def _workspace_root(
    config: Config, server: Server, graph: LibGraph, found: Classified
) -> list[ReqLine]:
    """A uv workspace root's own third-party dependencies apply to its member servers."""
    _, root_pyproject = workspace_root_dependencies(config.root / server.path, config.root)
    if root_pyproject is None or root_pyproject == join(server.path, "pyproject.toml"):
        return []
    path = config.root / root_pyproject
    info = read_pyproject(path, root=config.root)
    # Only its third-party dependencies: a composite root names every member, and a
    # member does not depend on the others because the root does.
    third_party = [d for d in info.dependencies if not graph.is_local(d, path.parent)]
    extra = graph.classify(third_party, owner_dir=path.parent)
    _absorb(found, extra)
    return extra.pypi


def _origin_files(lines: Sequence[ReqLine]) -> tuple[str, ...]:
    """Repo-relative files named by the entries' origins (``file:line`` or ``file: key``)."""
    files = {line.origin.split(":", 1)[0].split(" (from ", 1)[0] for line in lines}
    return tuple(sorted(files))


def _absorb(into: Classified, other: Classified) -> None:
    into.libs |= other.libs
    into.rewrites.extend(other.rewrites)
    into.git.extend(other.git)
    into.index.extend(other.index)
    for lib, extras in other.extras.items():
        for extra, origin in extras.items():
            into.extras.setdefault(lib, {}).setdefault(extra, origin)


def _server_requirements(
    config: Config, server: Server
) -> tuple[str | None, list[ReqLine], str | None]:
    """(source file, its entries, the server's pyproject.toml) by the documented default rule
    (:mod:`mcpbundle.plan.requirement_sources`)."""
    root = config.root
    pyproject = join(server.path, "pyproject.toml")
    project_path = pyproject if (root / pyproject).is_file() else None
    if server.requirements is not None:
        source = PurePosixPath(os.path.normpath(join(server.path, server.requirements))).as_posix()
        return source, read_source(root, source), project_path
    default = root / server.path / "requirements.txt"
    if os.path.lexists(default) and not default.is_file():  # a FIFO or a device
        raise BuildError(
            f"is a {kind_of(default.lstat().st_mode)}, not a regular file",
            where=join(server.path, "requirements.txt"),
            hint="replace it with a requirements file (or remove it to use pyproject.toml)",
        )
    found = default_source(root, server.path)
    if found is None:
        return None, [], project_path
    return found[0], found[1], project_path
