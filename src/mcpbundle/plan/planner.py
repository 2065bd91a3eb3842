"""The build plan: for each server, what is copied where and what it requires.

Planning reads the repository but writes nothing. Its result is plain frozen
data that :mod:`mcpbundle.resolve.resolver` pins and :mod:`mcpbundle.emit.directory` writes.
One server's planning is :mod:`mcpbundle.plan.server_plan`, imported only when a plan is
not in the cache.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mcpbundle.base.errors import ConfigError, MCPBundleError, UsageError
from mcpbundle.base.real_paths import memoized
from mcpbundle.config.settings import Config, Server
from mcpbundle.plan.closure import LibGraph, Rewrite
from mcpbundle.plan.derived_reads import Noted, noting
from mcpbundle.plan.licences import licence_warnings
from mcpbundle.plan.python_target import running_python_warning
from mcpbundle.plan.repo_files import FileFilter, RepoFiles
from mcpbundle.plan.shipped_files import FileCopy, LibFiles, join

if TYPE_CHECKING:
    from mcpbundle.plan.index_options import IndexOption
    from mcpbundle.plan.lib_discovery import LibInfo


@dataclass(frozen=True, kw_only=True)
class ServerPlan:
    """Everything the build will do for one server, decided before anything is written."""

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
    requires_python: str | None = None  # every requires-python of its projects, joined
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
    """The plans of every server, with the warnings and failures met while making them."""

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
    with memoized():  # each directory resolved once
        return _make_plan(config, files, only, strict, keep_going, fetch_git, memo)


def _make_plan(
    config: Config,
    files: RepoFiles,
    only: Sequence[str],
    strict: bool,
    keep_going: bool,
    fetch_git: bool,
    memo: PlanMemo | None,
) -> BuildPlan:
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
                from mcpbundle.plan.server_plan import plan_server

                plans.append(
                    plan_server(config, server, graph, files, filt, seen, fetch_git=fetch_git)
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
        from mcpbundle.plan.server_plan import plan_server  # only when not in the cache

        git: list[str] = []
        with noting() as noted:
            plan = plan_server(
                config, server, graph, files, filt, seen, fetch_git=fetch_git, git_seen=git
            )
        return plan, graph.state() == before and not git, noted

    return memo(key, make)
