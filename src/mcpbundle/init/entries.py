"""Which file and object of a project is its server, for ``mcpbundle init``.

:func:`choose_entries` (over a :class:`~mcpbundle.init.module_index.ModuleIndex`)
picks one entry per project: the module a console script (``[project.scripts]``) or a
``__main__.py`` uses, else one a ``fastmcp.json`` names, else the best-looking server
file. Every choice that had alternatives
carries a note, written as a comment above the entrypoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath

from mcpbundle.init.module_index import MAX_DEPTH, Found, ModuleIndex
from mcpbundle.plan.entrypoints import SERVER_NAMES

_ENTRY_FILES = ("server.py", "main.py", "app.py", "__init__.py")


@dataclass(frozen=True, kw_only=True)
class Entry:
    """The chosen entrypoint of one project: ``file`` (repo-relative) and its object."""

    file: str
    object: str
    kind: str
    notes: tuple[str, ...] = ()
    why: str = ""  # how it was chosen, for the summary


@dataclass(kw_only=True)
class Project:
    """What :func:`choose_entries` needs to know about one project directory."""

    directory: str  # repo-relative, "." for the root
    py_files: list[str] = field(default_factory=list)  # files belonging to it, sorted
    scripts: Mapping[str, str] = field(default_factory=dict)  # [project.scripts]
    fastmcp_json: list[tuple[str, str, str | None]] = field(
        default_factory=list
    )  # (json, file, obj)


def choose_entries(index: ModuleIndex, project: Project) -> list[tuple[str, Entry]]:
    """``(server directory, entry)`` for the servers of ``project`` (none, one, or several).

    One per project, unless nothing (script, ``__main__``, fastmcp.json) picks among
    server files that sit in separate subdirectories of one directory
    (``servers/weather/server.py``, ``servers/github/server.py``): then each of those
    subdirectories is a server of its own, reading the project's requirements."""
    with_servers = {rel: index.servers(rel) for rel in project.py_files if index.may_expose(rel)}
    with_servers = {rel: found for rel, found in with_servers.items() if found}
    if not with_servers:
        return []
    with_servers, composers = _without_parts(index, project, with_servers)
    for directed in (_from_scripts, _from_main, _from_fastmcp_json):
        entry = directed(index, project, with_servers)
        if entry is not None:
            entry = _with_others(entry, with_servers, index)
            return [(project.directory, _noting(entry, composers))]
    units = _units(list(with_servers))
    if units is None:
        return [(project.directory, _noting(_best_file(index, with_servers), composers))]
    return [
        (unit, _noting(_best_file(index, {rel: with_servers[rel] for rel in files}), composers))
        for unit, files in sorted(units.items())
    ]


def _without_parts(
    index: ModuleIndex, project: Project, with_servers: Mapping[str, dict[str, Found]]
) -> tuple[dict[str, dict[str, Found]], dict[str, str]]:
    """``with_servers`` less the servers another server mounts or imports
    (``hub.mount(search)``, ``await hub.import_server(opinions)``): those are its parts,
    loaded with it, not entrypoints (a part deeper in the tree or in a directory of its
    own looked like one). Also a note for each file that composes others. Left as is
    when nothing would remain (servers mounting each other)."""
    parts: set[tuple[str, str]] = set()
    mounted: dict[str, set[str]] = {}
    for rel in with_servers:
        facts = index.facts(rel)
        if facts is None or not facts.composes:
            continue
        exposed = index.servers(rel)
        for name in sorted(facts.composes):
            hit = exposed.get(name)
            if hit is None:
                continue
            parts.add((hit.defined_in, _definer_name(index, rel, name) or name))
            if hit.defined_in != rel:
                mounted.setdefault(rel, set()).add(hit.defined_in)
    if not parts:
        return dict(with_servers), {}
    kept: dict[str, dict[str, Found]] = {}
    for rel, found in with_servers.items():
        whole = {
            name: hit
            for name, hit in found.items()
            if (hit.defined_in, _definer_name(index, rel, name) or name) not in parts
        }
        if whole:
            kept[rel] = whole
    if not kept:
        return dict(with_servers), {}
    notes = {
        rel: "mounts the servers of " + ", ".join(sorted(_short(f, project) for f in files))
        for rel, files in mounted.items()
        if rel in kept
    }
    return kept, notes


def _noting(entry: Entry, composers: Mapping[str, str]) -> Entry:
    note = composers.get(entry.file)
    return entry if note is None else replace(entry, notes=(*entry.notes, note))


def _with_others(
    entry: Entry, with_servers: Mapping[str, dict[str, Found]], index: ModuleIndex
) -> Entry:
    """The entry a script, ``__main__`` or fastmcp.json chose, with a note naming the
    other files of the project that create servers of their own (one server per
    directory: they need directories of their own to deploy)."""
    used = {entry.file, *(f.defined_in for f in with_servers.get(entry.file, {}).values())}
    facts = index.facts(entry.file)
    if facts is not None:
        used.update(t for r in facts.imported if (t := index.resolve(entry.file, r)))
    others = sorted(
        rel
        for rel, found in with_servers.items()
        if rel not in used and any(f.defined_in == rel for f in found.values())
    )
    if not others:
        return entry
    shown = ", ".join(others[:4]) + (", ..." if len(others) > 4 else "")
    note = (
        f"{len(others)} more server file(s) not added ({shown}): one server per directory; "
        "move each into a directory of its own to deploy it"
    )
    return replace(entry, notes=(*entry.notes, note))


def _units(files: list[str]) -> dict[str, list[str]] | None:
    """Server files grouped by the subdirectory they diverge into; None when they do not."""
    directories = [PurePosixPath(rel).parent for rel in files]
    common = PurePosixPath(*_common_parts([d.parts for d in directories]))
    units: dict[str, list[str]] = {}
    for rel, directory in zip(files, directories, strict=True):
        if directory == common:
            return None  # a server file in the common directory: one server there
        unit = common / directory.parts[len(common.parts)]
        units.setdefault(unit.as_posix(), []).append(rel)
    return units if len(units) > 1 else None


def _common_parts(parts: list[tuple[str, ...]]) -> tuple[str, ...]:
    shortest = min(parts, key=len)
    for index, part in enumerate(shortest):
        if any(other[index] != part for other in parts):
            return shortest[:index]
    return shortest


def _from_scripts(
    index: ModuleIndex, project: Project, with_servers: Mapping[str, dict[str, Found]]
) -> Entry | None:
    chosen: list[tuple[str, Entry]] = []
    for script, target in project.scripts.items():
        module = target.partition(":")[0].strip()
        rel = _module_in_project(index, project, module)
        if rel is None:
            continue
        entry = _used_by(index, rel, f"console script {script!r} ({target})")
        if entry is not None:
            chosen.append((script, entry))
    if not chosen:
        return None
    first = chosen[0][1]
    others = sorted({e.file for _, e in chosen if e.file != first.file})
    if others:
        note = f"other console scripts run {', '.join(others)}"
        first = Entry(file=first.file, object=first.object, kind=first.kind,
                      notes=(*first.notes, note), why=first.why)  # fmt: skip
    return first


def _from_main(
    index: ModuleIndex, project: Project, with_servers: Mapping[str, dict[str, Found]]
) -> Entry | None:
    mains = sorted(
        (rel for rel in project.py_files if rel.endswith("__main__.py")),
        key=lambda rel: (rel.count("/"), rel),
    )
    for rel in mains:
        entry = _used_by(index, rel, f"{_short(rel, project)} uses it")
        if entry is not None:
            return entry
    return None


def _from_fastmcp_json(
    index: ModuleIndex, project: Project, with_servers: Mapping[str, dict[str, Found]]
) -> Entry | None:
    for json_rel, file_rel, obj in sorted(project.fastmcp_json):
        found = index.servers(file_rel) if file_rel in project.py_files else {}
        if not found:
            continue
        name = obj if obj in found else _pick_name(found)
        others = [j for j, _, _ in project.fastmcp_json if j != json_rel]
        notes = (f"also named by {', '.join(sorted(others))}",) if others else ()
        return Entry(file=file_rel, object=name, kind=found[name].kind, notes=notes,
                     why=f"named by {json_rel}")  # fmt: skip
    return None


def _best_file(index: ModuleIndex, with_servers: Mapping[str, dict[str, Found]]) -> Entry:
    """No script, ``__main__`` or fastmcp.json decides: the most entry-like file."""

    def rank(rel: str) -> tuple[int, int, int, int, int, str]:
        found = with_servers[rel]
        own = any(f.defined_in == rel for f in found.values())
        has_object = any(f.kind == "object" for f in found.values())
        name = PurePosixPath(rel).name
        named = _ENTRY_FILES.index(name) if name in _ENTRY_FILES else len(_ENTRY_FILES)
        completes = not own and _completes(index, rel, found)
        return (
            0 if has_object else 1, 0 if completes else 1, 0 if own else 1, rel.count("/"),
            named, rel,
        )  # fmt: skip

    files = sorted(with_servers, key=rank)
    best = files[0]
    found = with_servers[best]
    name = _pick_name(found)
    notes = list(_name_notes(found, name))
    if len(files) > 1:
        shown = ", ".join(files[1:4]) + (", ..." if len(files) > 4 else "")
        notes.insert(0, f"found servers in {len(files)} files; using this one (also: {shown})")
    return Entry(file=best, object=name, kind=found[name].kind, notes=tuple(notes),
                 why="the only server file" if len(files) == 1 else "best match")  # fmt: skip


def _completes(index: ModuleIndex, rel: str, found: Mapping[str, Found]) -> bool:
    """``rel`` imports a server whose defining file registers nothing on it, together with
    other modules of the repository (those that do: ``import tools.hello``), so loading
    ``rel``, not the bare definition, gives the server its tools."""
    name = _pick_name(found)
    hit = found[name]
    if hit.kind != "object" or hit.defined_in == rel:
        return False
    definer = index.facts(hit.defined_in)
    source_name = _definer_name(index, rel, name) or name
    if definer is None or source_name in definer.registers:
        return False
    facts = index.facts(rel)
    dynamic = facts is not None and any(index.names_directory(rel, r) for r in facts.imported)
    return dynamic or _imports_more(index, rel, name)


def _used_by(index: ModuleIndex, rel: str, why: str) -> Entry | None:
    """The server module ``rel`` (a script's module or a ``__main__``) runs."""
    own = index.servers(rel)
    if own and not rel.endswith("__main__.py"):
        return _follow(index, rel, own, _pick_name(own), why)
    facts = index.facts(rel)
    if facts is None:
        return None
    if own:  # a __main__ that imports (or creates) the server: where does it come from?
        name = _pick_name(own)
        if own[name].defined_in == rel:
            return _entry(rel, own, name, why)
        return _follow(index, rel, own, name, why)
    for ref in facts.imported:
        target = index.resolve(rel, ref)
        if target is None and ref.name is not None:
            target = index.resolve(rel, ref, name=ref.name)  # `from . import server`
        if target is None or target == rel:
            continue
        found = index.servers(target)
        if not found:
            continue
        name = ref.name if ref.name in found else _pick_name(found)
        return _follow(index, target, found, name, why)
    return None


def _follow(index: ModuleIndex, rel: str, found: Mapping[str, Found], name: str, why: str) -> Entry:
    """Use the file that defines ``name``, unless it is a package ``__init__.py``."""
    hit = found[name]
    if not rel.endswith("__main__.py") and _imports_more(index, rel, name):
        return _entry(rel, found, name, why)
    if hit.defined_in != rel and not hit.defined_in.endswith("__init__.py"):
        defined = index.servers(hit.defined_in)
        source_name = _definer_name(index, rel, name)
        if source_name is not None and source_name in defined:
            return _entry(hit.defined_in, defined, source_name, why)
    return _entry(rel, found, name, why)


def _imports_more(index: ModuleIndex, rel: str, name: str) -> bool:
    """``rel`` imports modules of the repository besides the one ``name`` comes from:
    importing those may register the server's tools (``from .tools import cache``), so
    ``rel``, not the file that creates the server, is the module to load."""
    facts = index.facts(rel)
    if facts is None:
        return False
    link = facts.imports.get(name)
    for ref in facts.imported:
        if ref == link:
            continue
        target = index.resolve(rel, ref)
        if target is None and ref.name is not None:
            target = index.resolve(rel, ref, name=ref.name)
        if target is not None and target != rel:
            return True
    return False


def _definer_name(index: ModuleIndex, rel: str, name: str) -> str | None:
    """The name ``name`` has where it is defined (``from x import hub as mcp`` -> ``hub``)."""
    current, local = rel, name
    for _ in range(MAX_DEPTH):
        facts = index.facts(current)
        if facts is None:
            return None
        ref = facts.imports.get(local)
        if ref is None or ref.name is None or local in facts.created or local in facts.factories:
            return local
        source = index.resolve(current, ref)
        if source is None:
            return None
        current, local = source, ref.name
    return None


def _entry(rel: str, found: Mapping[str, Found], name: str, why: str) -> Entry:
    return Entry(file=rel, object=name, kind=found[name].kind,
                 notes=tuple(_name_notes(found, name)), why=why)  # fmt: skip


def _pick_name(found: Mapping[str, Found]) -> str:
    """Objects before factories; mcp / server / app first; then the first by line."""

    def rank(name: str) -> tuple[int, int, int, str]:
        hit = found[name]
        default = SERVER_NAMES.index(name) if name in SERVER_NAMES else len(SERVER_NAMES)
        return (0 if hit.kind == "object" else 1, default, hit.line, name)

    return min(found, key=rank)


def _name_notes(found: Mapping[str, Found], name: str) -> Iterable[str]:
    objects = sorted(n for n, f in found.items() if f.kind == "object")
    factories = sorted(n for n, f in found.items() if f.kind == "factory")
    if len(objects) > 1:
        yield f"found {len(objects)} module-level objects ({', '.join(objects)}): using {name!r}"
    elif not objects and len(factories) > 1:
        yield f"found {len(factories)} factories ({', '.join(factories)}): using {name!r}"
    elif objects and factories and found[name].kind == "object":
        yield f"also a factory: {', '.join(factories)}"


def _module_in_project(index: ModuleIndex, project: Project, module: str) -> str | None:
    parts = [p for p in module.split(".") if p]
    base = PurePosixPath(project.directory)
    for root in (base / "src", base):
        found = index.module_file(root, parts)
        if found is not None and found in project.py_files:
            return found
    for rel in project.py_files:  # a package below another directory (lib/pkg/...)
        stem = rel[: -len("/__init__.py")] if rel.endswith("/__init__.py") else rel[:-3]
        if stem.endswith("/" + "/".join(parts)) or stem == "/".join(parts):
            return rel
    return None


def _short(rel: str, project: Project) -> str:
    if project.directory in ("", "."):
        return rel
    return rel.removeprefix(project.directory.rstrip("/") + "/")
