"""Planning one server: what it copies where, what it requires, how it is entered.

:func:`plan_server` is :func:`mcpbundle.plan.planner.make_plan`'s work for a server whose
plan is not in the cache; kept apart so that reading cached plans (``check`` after a
build, a one-lib rebuild) imports none of what planning needs.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import PurePosixPath

from mcpbundle.base.errors import BuildError
from mcpbundle.base.regular_file import kind_of
from mcpbundle.config.settings import Config, Server
from mcpbundle.plan.adapters import dist_infos, entry_layout, lock_preferences
from mcpbundle.plan.chain_siblings import sibling_copies
from mcpbundle.plan.clashes import reject_clashes
from mcpbundle.plan.closure import Classified, LibGraph, Rewrite
from mcpbundle.plan.entrypoints import server_object
from mcpbundle.plan.fastmcp_env import environment_python
from mcpbundle.plan.fastmcp_json import EntryFacts
from mcpbundle.plan.index_options import merged_index
from mcpbundle.plan.lib_discovery import LibInfo
from mcpbundle.plan.lib_extras import with_extras
from mcpbundle.plan.locks import workspace_root_dependencies
from mcpbundle.plan.own_extras import own_extras
from mcpbundle.plan.parsed_requirement import parsed
from mcpbundle.plan.planner import ServerPlan
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.python_target import check_requires_python, server_target
from mcpbundle.plan.repo_files import FileFilter, RepoFiles
from mcpbundle.plan.requirement_lists import (
    constraints_for,
    merge_requirements,
    sort_requirements,
)
from mcpbundle.plan.requirement_sources import declared_requirements, default_source, read_source
from mcpbundle.plan.requirements import ReqLine
from mcpbundle.plan.script_metadata import script_python
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
    without_stale_locks,
)


def plan_server(
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
    declared_python = environment_python(root, server.path, server.entrypoint)
    target = server_target(root, server.path, config.bundle.python, config.display, declared_python)
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
    entry_rel = join(server.path, server.entrypoint)
    script = script_python(root, entry_rel)
    declared = [(f"{entry_rel}: # /// script requires-python", script)] if script else []
    requires_python = check_requires_python(target, projects, root, declared)
    requirements = merge_requirements(
        [found.pypi, own, *(graph.third_party[name] for name in closure), grown.pypi]
    )
    required = {parsed(r).name.lower().replace("_", "-"): r for r in requirements}
    constraints = constraints_for(lines, required)
    obj = server_object(
        root / entry_rel, entry_rel, server.object, f"{key}.entrypoint", target.version
    )
    layout = entry_layout(config, server, entry_rel, obj, python=target.version)
    vendor_dir = layout.vendor_dir
    reject_clashes(config, vendored, vendor_dir, key, requirements)
    copies, secrets = server_files(config, server, files, filt, vendored=vendored)
    stale_locks: list[str] = []
    if project_path is not None:
        copies, stale_locks = without_stale_locks(copies, server.path)
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
        rewrites=(*found.rewrites, *fix.rewrites, *map(_stale_lock_note, stale_locks)),
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
        requires_python=requires_python,
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


def _stale_lock_note(lock: str) -> Rewrite:
    return Rewrite(
        origin=lock,
        original=PurePosixPath(lock).name,
        replacement="not shipped: it locks the source pyproject.toml, which ships rewritten; "
        "the pins are in requirements.txt",
    )


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
    declared = declared_requirements(root, server.path, server.entrypoint, config.bundle.python)
    if found is None:
        if declared:
            return declared[0].origin.split(":", 1)[0], declared, project_path
        return None, [], project_path
    return found[0], [*found[1], *declared], project_path
