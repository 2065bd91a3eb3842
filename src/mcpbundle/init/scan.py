"""Read a repository statically and propose its ``mcpbundle.toml`` (``mcpbundle init``).

Nothing is imported or run but ``git ls-files``: Python files are read with ``ast``
(:mod:`mcpbundle.init.ast_facts`, :mod:`mcpbundle.init.entries`), ``pyproject.toml`` with
``tomllib``, ``fastmcp.json`` with ``json``. A *project* is a directory holding a
``pyproject.toml`` with a ``[project]`` (or Poetry) table, a ``requirements.txt``, a
``Pipfile``, a ``fastmcp.json`` that lists dependencies or a Python file whose PEP 723
``# /// script`` block does;
each Python file belongs to the nearest one, and each project with a server becomes
one ``[servers.NAME]`` whose ``path`` is the project directory, so the build reads
the project's requirements. Libraries, the target Python, the resolver, the git
policy and the excludes come from :mod:`mcpbundle.init.libraries` and
:mod:`mcpbundle.init.bundle_settings`.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mcpbundle.base.errors import MCPBundleError, UsageError
from mcpbundle.base.regular_file import read_regular
from mcpbundle.init.entries import Entry, Project, choose_entries
from mcpbundle.init.module_index import ModuleIndex
from mcpbundle.plan.entrypoints import SERVER_NAMES
from mcpbundle.plan.fastmcp_json import is_fastmcp_json
from mcpbundle.plan.pipfile import PIPFILE
from mcpbundle.plan.repo_files import OUTPUT_MARKER, list_repo_files
from mcpbundle.plan.script_metadata import script_block

MAX_META_BYTES = 4 * 1024 * 1024
_SKIP_PARTS = frozenset({"__pycache__", "node_modules", "site-packages", "venv"})
_TEST_PARTS = frozenset({"tests", "test", "testing"})
_DROP_TOKENS = frozenset({"mcp", "server", "servers", "fastmcp"})
_NAME_OK = re.compile(r"[^a-z0-9._-]+")


@dataclass(frozen=True, kw_only=True)
class FoundServer:
    name: str
    path: str  # repo-relative directory ("." for the root)
    entrypoint: str  # relative to path, ``file.py[:object]``
    requirements: str | None = None  # relative to path, when not the directory's own
    notes: tuple[str, ...] = ()  # comments above the entrypoint
    why: str = ""
    shared: tuple[str, ...] = ()  # libraries it imports that no requirement names
    shared_notes: tuple[str, ...] = ()


@dataclass(kw_only=True)
class Repo:
    """The repository as init sees it: files, projects and their metadata."""

    root: Path
    files: list[str]  # repo-relative POSIX paths, hidden / virtualenv / output dirs left out
    from_git: bool
    index: ModuleIndex = field(init=False)  # every Python file, parsed once, on demand
    projects: dict[str, Project] = field(default_factory=dict)
    pyprojects: dict[str, dict[str, Any]] = field(default_factory=dict)  # dir -> parsed
    warnings: list[str] = field(default_factory=list)
    uncallable: list[str] = field(default_factory=list)  # factories needing arguments, why
    out_of_reach: list[str] = field(default_factory=list)  # servers made in functions, where

    def has(self, rel: str) -> bool:
        return rel in self._set

    def __post_init__(self) -> None:
        self._set = frozenset(self.files)


def read_repo(root: Path) -> Repo:
    listing = list_repo_files(root)
    # Earlier builds' output ("dist/": copies of the servers) and virtualenvs, whatever
    # their names, are never read.
    skipped = {
        p[: -len(name)]
        for p in listing.paths
        for name in (OUTPUT_MARKER, "pyvenv.cfg")
        if p == name or p.endswith("/" + name)
    }
    files = [
        rel
        for rel in listing.paths
        if not _skipped_path(rel) and not any(rel.startswith(o) for o in skipped)
    ]
    repo = Repo(root=root, files=files, from_git=listing.from_git)
    repo.index = ModuleIndex(root, [f for f in files if f.endswith(".py")])
    markers: set[str] = {"."}
    documents: dict[str, dict[str, Any] | None] = {}  # fastmcp.json files, read once
    for rel in files:
        path = PurePosixPath(rel)
        directory = path.parent.as_posix()
        if path.name in ("requirements.txt", PIPFILE):
            markers.add(directory)
        elif path.suffix == ".py" and _declares_script(root, rel):
            markers.add(directory)  # build reads its block (plan.script_metadata)
        elif is_fastmcp_json(path.name):
            documents[rel] = _fastmcp_document(root, rel, repo.warnings)
            if _declares_environment(documents[rel]):
                markers.add(directory)  # build reads its dependencies (plan.fastmcp_env)
        elif path.name == "pyproject.toml":
            data = _read_toml(root / rel, repo.warnings, rel)
            repo.pyprojects[directory] = data
            tool = data.get("tool") if isinstance(data.get("tool"), dict) else {}
            poetry = tool.get("poetry") if isinstance(tool, dict) else None
            if isinstance(data.get("project"), dict) or isinstance(poetry, dict):
                markers.add(directory)
    repo.index.projects = tuple(sorted(markers))
    for directory in sorted(markers):
        project = Project(directory=directory)
        scripts = _table(_table(repo.pyprojects.get(directory, {}), "project"), "scripts")
        project.scripts = {str(k): str(v) for k, v in scripts.items() if isinstance(v, str)}
        repo.projects[directory] = project
    for rel in files:
        if rel.endswith(".py") and not _is_test(rel):
            repo.projects[_owner(rel, markers)].py_files.append(rel)
        elif rel.endswith("fastmcp.json"):
            document = (
                documents[rel] if rel in documents else _fastmcp_document(root, rel, repo.warnings)
            )
            source = _fastmcp_source(rel, document)
            if source is not None:
                repo.projects[_owner(rel, markers)].fastmcp_json.append((rel, *source))
    return repo


def find_servers(repo: Repo) -> list[FoundServer]:
    """One server per project that exposes one, named after its directory."""
    index = repo.index
    chosen: list[tuple[str, Entry]] = []
    owners: dict[str, str] = {}  # server directory -> its project, when they differ
    for directory, project in sorted(repo.projects.items()):
        entries = choose_entries(index, project)
        if not entries:
            left_out = _uncallable_factories(index, project)
            repo.warnings.extend(left_out)
            repo.uncallable.extend(left_out)
            repo.out_of_reach.extend(_out_of_reach(index, project))
        for server_dir, entry in entries:
            chosen.append((server_dir, entry))
            if server_dir != directory:
                owners[server_dir] = directory
    kept: list[tuple[str, Entry]] = []
    for directory, entry in chosen:
        outer = next(
            (d for d, _ in kept if d != "." and PurePosixPath(directory).is_relative_to(d)), None
        )
        if outer is not None:
            repo.warnings.append(
                f"{entry.file}: a server inside server directory {outer!r}; not added "
                "(servers must not nest)"
            )
            continue
        kept.append((directory, entry))
    names = server_names([d for d, _ in kept], repo)
    found = []
    for (directory, entry), name in zip(kept, names, strict=True):
        requirements = _requirements(repo, directory, owners.get(directory))
        found.append(
            FoundServer(
                name=name, path=directory, entrypoint=_entrypoint(repo, directory, entry),
                requirements=requirements, notes=entry.notes, why=entry.why,
            )
        )  # fmt: skip
    return found


def _uncallable_factories(index: ModuleIndex, project: Project) -> list[str]:
    """Why a project whose only servers come from factories needing arguments is left out."""
    lines = []
    for rel in project.py_files:
        facts = index.facts(rel)
        if facts is None:
            continue
        for name, needed in facts.needs_arguments.items():
            lines.append(
                f"{rel}:{facts.factories[name]}: `{name}` builds a server but needs arguments "
                f"({', '.join(needed)}), which the host does not pass; not added: bind "
                f"`mcp = {name}(...)` at module level"
            )
    return lines


def _out_of_reach(index: ModuleIndex, project: Project) -> list[str]:
    """Servers a project makes only where the host cannot reach them (in a function, a class
    or a ``__main__`` guard): said only when the repository has no server at all, since a
    library may well make one in a helper."""
    lines = []
    for rel in project.py_files:
        facts = index.facts(rel)
        if facts is not None and facts.inside and not facts.created and not facts.factories:
            lines.append(
                f"{rel}:{facts.inside[0]}: a server is created only inside a function or class "
                "(or under `if __name__ == '__main__'`), where the host, which imports a "
                "module-level object, cannot reach it; bind it at module level (`mcp = ...`)"
            )
    return lines


def _requirements(repo: Repo, directory: str, project: str | None) -> str | None:
    """For a server below its project's directory: the project's requirements, from it."""
    if project is None:
        return None
    for name in ("requirements.txt", "pyproject.toml"):
        rel = name if project == "." else f"{project}/{name}"
        if repo.has(rel):
            return os.path.relpath(rel, directory)
    return None


def _entrypoint(repo: Repo, directory: str, entry: Entry) -> str:
    rel = entry.file if directory == "." else entry.file[len(directory) + 1 :]
    facts = repo.index.facts(entry.file)
    names = facts.names if facts is not None else {}
    default = next((n for n in SERVER_NAMES if n in names), None)
    if entry.kind == "object" and entry.object == default:
        return rel
    return f"{rel}:{entry.object}"


def server_names(directories: list[str], repo: Repo) -> list[str]:
    """Names from the directories: ``server-ops`` -> ``ops``, ``mcp-garmin`` -> ``garmin``;
    a first word every name shares (``acme-billing``, ``acme-crm``) is dropped too."""
    tokens = [_name_tokens(_base_name(d, repo)) for d in directories]
    trimmed = [[t for t in words if t not in _DROP_TOKENS] or words for words in tokens]
    firsts = [words[0] for words in trimmed if len(words) > 1]
    shared = {w for w in firsts if firsts.count(w) > 1}
    for words in trimmed:
        if len(words) > 1 and words[0] in shared:
            candidate = words[1:]
            if candidate not in trimmed:
                words[:] = candidate
    return unique_names(["-".join(words) for words in trimmed])


def lib_name(directory: str, repo: Repo) -> str:
    words = _name_tokens(_base_name(directory, repo))
    return "-".join(
        words[1:] if len(words) > 1 and words[0] in ("shared", "lib", "libs") else words
    )


def unique_names(names: list[str]) -> list[str]:
    seen: set[str] = set()
    result = []
    for name in names:
        candidate, number = name[:60] or "server", 2
        while candidate in seen:
            candidate, number = f"{name[:57]}-{number}", number + 1
        seen.add(candidate)
        result.append(candidate)
    return result


# A folder named for its role, not its server (servers/ctest_mcp/src): named by its parent.
_ROLE_DIRS = frozenset({"src", "app", "server", "lib", "python", "code"})


def _base_name(directory: str, repo: Repo) -> str:
    if directory != ".":
        path = PurePosixPath(directory)
        while path.name.lower() in _ROLE_DIRS and path.parent != PurePosixPath("."):
            path = path.parent
        return path.name
    project = _table(repo.pyprojects.get(".", {}), "project")
    name = project.get("name")
    return name if isinstance(name, str) and name else repo.root.resolve().name


def _name_tokens(text: str) -> list[str]:
    cleaned = _NAME_OK.sub("-", text.lower().replace("_", "-").replace(".", "-"))
    words = [w for w in cleaned.split("-") if w]
    return words or ["server"]


def _owner(rel: str, markers: set[str]) -> str:
    for parent in PurePosixPath(rel).parents:
        if parent.as_posix() in markers:
            return parent.as_posix()
    return "."


def _skipped_path(rel: str) -> bool:
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return True  # a name that is not UTF-8 cannot be written into the TOML
    parts = rel.split("/")
    return any(p.startswith(".") or p in _SKIP_PARTS for p in parts[:-1]) or (
        len(parts) > 2 and parts[-3] == "build" and parts[-2].startswith("lib")
    )


def _is_test(rel: str) -> bool:
    path = PurePosixPath(rel)
    if any(part in _TEST_PARTS for part in path.parts[:-1]):
        return True
    name = path.name
    return name.startswith("test_") or name.endswith("_test.py") or name == "conftest.py"


def _fastmcp_document(root: Path, rel: str, warnings: list[str]) -> dict[str, Any] | None:
    """A ``fastmcp.json`` as a JSON object; None (with a warning when it is no JSON)."""
    try:
        document = json.loads(read_regular(root / rel, MAX_META_BYTES))
    except (OSError, ValueError):
        warnings.append(f"{rel}: not readable JSON; ignored")
        return None
    return document if isinstance(document, dict) else None


def _declares_environment(document: dict[str, Any] | None) -> bool:
    """A ``fastmcp.json`` that lists the server's dependencies (``environment``'s
    ``dependencies``, ``requirements`` or ``project``): its directory is a project."""
    environment = document.get("environment") if document is not None else None
    return isinstance(environment, dict) and any(
        environment.get(key) for key in ("dependencies", "requirements", "project", "editable")
    )


def _declares_script(root: Path, rel: str) -> bool:
    """A Python file whose PEP 723 ``# /// script`` block lists dependencies (a server run
    with ``uv run server.py``): its directory is a project."""
    try:
        block = script_block(read_regular(root / rel, MAX_META_BYTES), rel)
    except (OSError, MCPBundleError):
        return False  # the build reports a broken block
    return block is not None and bool(block.get("dependencies"))


def _fastmcp_source(rel: str, document: dict[str, Any] | None) -> tuple[str, str | None] | None:
    """The file (repo-relative) and object the ``fastmcp.json`` ``rel`` names."""
    if document is None:
        return None
    source = document.get("source")
    path: object = None
    obj: object = None
    if isinstance(source, dict):
        path, obj = source.get("path"), source.get("entrypoint")
    elif isinstance(document.get("entrypoint"), str):
        path, _, tail = str(document["entrypoint"]).rpartition(":")
        if not path.endswith(".py"):
            path, tail = document["entrypoint"], ""
        obj = tail or None
    if not isinstance(path, str) or not path.endswith(".py"):
        return None
    joined = PurePosixPath(rel).parent / path
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part != ".":
            parts.append(part)
    return "/".join(parts), obj if isinstance(obj, str) and obj.isidentifier() else None


def _read_toml(path: Path, warnings: list[str], rel: str) -> dict[str, Any]:
    try:
        return tomllib.loads(read_regular(path, MAX_META_BYTES).decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
        warnings.append(f"{rel}: cannot read ({exc}); ignored")
        return {}


def _table(data: object, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def no_servers_error(repo: Repo) -> UsageError:
    where = "the repository" if repo.from_git else "this directory"
    reasons = repo.uncallable or repo.out_of_reach  # servers, none of them loadable
    if reasons:
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        return UsageError(
            f"no FastMCP server the host can load in {where} ({repo.root})",
            hint=reasons[0] + more,
        )
    return UsageError(
        f"no FastMCP server found in {where} ({repo.root})",
        hint="init looks for a module-level FastMCP(...) / MCPServer(...) (or an instance of "
        "a class derived from one), a factory returning one, a fastmcp.json or a console script "
        "that runs one; write mcpbundle.toml by hand (see mcpbundle.toml.example)",
    )
