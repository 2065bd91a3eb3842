"""Which directories the servers share, for ``mcpbundle init``.

A directory is a shared library when a server (or a library it needs) reaches it
through a path requirement (``-e ../x``, ``../x``, ``name @ file:../x``), a
``[tool.uv.sources]`` path or workspace source, a Poetry path dependency, or when a
server imports the package of a uv workspace member that none of its requirements
names. A directory that is itself a server gets no ``[shared.*]`` table: the build
vendors a server another server depends on by its server table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from mcpbundle.base.errors import ConfigError, MCPBundleError
from mcpbundle.init.scan import FoundServer, Repo, lib_name, unique_names
from mcpbundle.plan.lib_discovery import discover_packages
from mcpbundle.plan.locks import workspace_members, workspace_root_of
from mcpbundle.plan.pyproject import project_name
from mcpbundle.plan.requirement_sources import declared_requirements, default_source, read_source
from mcpbundle.plan.requirements import ReqLine


@dataclass(frozen=True, kw_only=True)
class FoundLib:
    name: str
    path: str  # repo-relative directory
    notes: tuple[str, ...] = ()  # how the servers reach it


@dataclass(kw_only=True)
class Reach:
    """What following every server's requirements found."""

    libs: list[FoundLib] = field(default_factory=list)
    git: list[ReqLine] = field(default_factory=list)  # git requirements, in order met
    projects: list[str] = field(default_factory=list)  # every server / lib dir, for Python
    servers: list[FoundServer] = field(default_factory=list)  # with ``shared`` filled in


def requirement_lines(
    root: Path, directory: str, warnings: list[str], explicit: str | None = None
) -> list[ReqLine]:
    """A directory's requirements as the build reads them: ``explicit`` (relative to it),
    else requirements.txt, else pyproject.toml (unless it declares none and a Pipfile
    does), else the Pipfile."""
    try:
        if explicit is not None:
            path = (root / directory / explicit).resolve()
            return read_source(root, path.relative_to(root).as_posix())
        found = default_source(root, directory)
        if found is not None:
            return found[1]
    except ConfigError as exc:
        warnings.append(f"{exc}; its shared libraries were not looked for")
    return []


def declared_lines(root: Path, directory: str, entry: str, warnings: list[str]) -> list[ReqLine]:
    """What a server declares where its development tool reads it, as the build adds it
    (:func:`mcpbundle.plan.requirement_sources.declared_requirements`)."""
    try:
        return declared_requirements(root, directory, entry)
    except MCPBundleError as exc:
        warnings.append(f"{exc}; its shared libraries were not looked for")
        return []


def find_libs(repo: Repo, servers: list[FoundServer]) -> Reach:
    root = repo.root.resolve()
    server_dirs = {s.path for s in servers}
    reach = Reach()
    lib_dirs: dict[str, list[tuple[str, str, str]]] = {}  # dir -> (who, how, where)
    pending: list[tuple[str, str, str | None]] = [
        (s.path, f"server {s.name}", s.requirements) for s in servers
    ]
    entries = {s.path: s.entrypoint.split(":", 1)[0] for s in servers if s.requirements is None}
    seen: set[str] = set()
    while pending:
        directory, who, explicit = pending.pop(0)
        if directory in seen:
            continue
        seen.add(directory)
        reach.projects.append(directory)
        if explicit is not None:  # its project's requires-python is the one that applies
            project = (root / directory / explicit).resolve().parent
            reach.projects.append(project.relative_to(root).as_posix() or ".")
        lines = requirement_lines(root, directory, repo.warnings, explicit)
        if directory in entries and explicit is None:
            lines += declared_lines(root, directory, entries[directory], repo.warnings)
        for line in lines:
            if line.kind == "git":
                reach.git.append(line)
                continue
            if line.kind != "path":
                continue
            target = _target_dir(root, directory, line)
            if target is None:
                continue
            if target not in server_dirs and target != directory:
                how = "a workspace source" if line.path is None else "a path requirement"
                lib_dirs.setdefault(target, []).append((who, how, line.origin))
            pending.append((target, f"library {PurePosixPath(target).name}", None))
    imported = _imported_members(repo, servers, set(lib_dirs) | server_dirs)
    for directory, users in imported.items():
        for user in sorted(users):
            lib_dirs.setdefault(directory, []).append((f"server {user}", "an import", ""))
        if directory not in seen:
            reach.projects.append(directory)
    for server in servers:  # a workspace root's requires-python binds its members too
        ws_root = workspace_root_of(root / server.path, root)
        if ws_root is not None and ws_root != root / server.path:
            reach.projects.append(ws_root.relative_to(root).as_posix() or ".")
    ordered = sorted(lib_dirs)
    names = unique_names([lib_name(d, repo) for d in ordered])
    by_dir = dict(zip(ordered, names, strict=True))
    reach.libs = [FoundLib(name=by_dir[d], path=d, notes=_notes(lib_dirs[d])) for d in ordered]
    for server in servers:
        uses = sorted(by_dir[d] for d, users in imported.items() if server.name in users)
        if uses:
            note = f"imports {', '.join(uses)} without a requirement naming it"
            server = replace(server, shared=tuple(uses), shared_notes=(note,))
        reach.servers.append(server)
    return reach


def _notes(reasons: list[tuple[str, str, str]]) -> tuple[str, ...]:
    """``server ops needs it (a path requirement: ops/requirements.txt:2)``, one line per kind."""
    notes = []
    for how in dict.fromkeys(how for _, how, _ in reasons):
        whos = list(dict.fromkeys(who for who, kind, _ in reasons if kind == how))
        where = next(w for _, kind, w in reasons if kind == how)
        if len(whos) == 1:
            notes.append(f"{whos[0]} needs it ({how}{': ' + where if where else ''})")
            continue
        shown = ", ".join(whos[:4]) + (f" and {len(whos) - 4} more" if len(whos) > 4 else "")
        notes.append(f"{shown} need it ({how}, e.g. {where})" if where else f"{shown} need it")
    return tuple(notes)


def _target_dir(root: Path, owner: str, line: ReqLine) -> str | None:
    """The repo-relative directory a path or workspace requirement points at."""
    if line.path is not None:
        path = line.path.resolve()
    else:
        ws_root = workspace_root_of(root / owner, root)
        if ws_root is None:
            return None
        members = {project_name(m / "pyproject.toml"): m for m in workspace_members(ws_root)}
        member = members.get(line.name)
        if member is None:
            return None
        path = member.resolve()
    if not path.is_dir() or not path.is_relative_to(root) or path == root:
        return None
    return path.relative_to(root).as_posix()


def _imported_members(
    repo: Repo, servers: Iterable[FoundServer], known: set[str]
) -> dict[str, set[str]]:
    """Workspace members (not servers, not reached yet) whose packages a server imports."""
    root = repo.root.resolve()
    found: dict[str, set[str]] = {}
    for server in servers:
        ws_root = workspace_root_of(root / server.path, root)
        if ws_root is None:
            continue
        members = [m.relative_to(root).as_posix() for m in workspace_members(ws_root)]
        candidates = {m: _packages(root / m) for m in members if m not in known and m != "."}
        if not candidates:
            continue
        imported = _top_imports(repo, server.path)
        for member, packages in candidates.items():
            if packages & imported:
                found.setdefault(member, set()).add(server.name)
    return found


def _packages(directory: Path) -> frozenset[str]:
    try:
        return frozenset(
            p.split(".")[0] for p in discover_packages(directory, directory / "pyproject.toml")[1]
        )
    except OSError:
        return frozenset()


def _top_imports(repo: Repo, directory: str) -> set[str]:
    prefix = "" if directory == "." else directory.rstrip("/") + "/"
    names: set[str] = set()
    for rel in repo.files:
        if not rel.endswith(".py") or not rel.startswith(prefix):
            continue
        facts = repo.index.facts(rel)
        if facts is not None:
            names.update(r.module.split(".")[0] for r in facts.imported if r.level == 0)
    return names
