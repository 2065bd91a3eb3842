"""The repository's Python files as ``mcpbundle init`` reads them (parsed, never imported).

:class:`ModuleIndex` resolves imports between the repository's files (relative
imports, and absolute ones from the file's own source root, the project directory
or its ``src/``) and tells, per file, which module-level names are servers: created
there (by FastMCP / MCPServer or by a class of the repository derived from one),
built by a factory there, or imported from a file where they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mcpbundle.base.regular_file import read_regular
from mcpbundle.init.ast_facts import MAX_SOURCE_BYTES, Facts, ImportRef, analyze

_HERE = PurePosixPath(".")
MAX_DEPTH = 8  # import hops followed from one name
NEEDS_ARGUMENTS = "factory needing arguments"


@dataclass(frozen=True)
class Found:
    """A server a module exposes at module level."""

    name: str  # the name in the module that exposes it
    kind: str  # "object", "factory" or NEEDS_ARGUMENTS (a factory only a call can use)
    defined_in: str  # the file that creates it (or defines the factory)
    line: int


class ModuleIndex:
    """Lazily parsed Python files of the repository, keyed by repo-relative path."""

    def __init__(self, root: Path, py_files: Iterable[str]):
        self.root = root
        self.files = frozenset(py_files)
        self._facts: dict[str, Facts | None] = {}
        self._servers: dict[str, dict[str, Found]] = {}
        self._resolved: dict[tuple[str, str, int], str | None] = {}
        self._root_cache: dict[str, list[PurePosixPath]] = {}
        self._classes: dict[str, frozenset[str]] = {}
        # directories of the repository's projects (set by the scan): where a server class
        # imported by absolute name is looked for when the importer's own roots lack it
        self.projects: tuple[str, ...] = ()
        self._class_names: frozenset[bytes] | None = None

    def facts(self, rel: str) -> Facts | None:
        if rel not in self._facts:
            data = self._read(rel)
            self._facts[rel] = analyze(data) if data is not None else None
        return self._facts[rel]

    def may_expose(self, rel: str) -> bool:
        """False for a file that cannot bind a server: it never says ``mcp`` / ``MCP``.

        Read as bytes, not parsed: most files of a large repository stop here. A file that
        names a server class of the repository (``weather = CompanyServer("w")``) may too."""
        if rel in self._facts:
            return self._facts[rel] is not None
        data = self._read(rel)
        if data is None:
            return False
        if b"mcp" in data or b"MCP" in data:
            return True
        return any(name in data for name in self.class_names())

    def class_names(self) -> frozenset[bytes]:
        """The names of every class of the repository derived from FastMCP / MCPServer,
        directly or through other files' classes (by name: only :meth:`may_expose`'s
        pre-filter, :meth:`server_classes` follows the imports)."""
        if self._class_names is not None:
            return self._class_names
        names: set[str] = set()
        wanted: tuple[bytes, ...] = (b"FastMCP", b"MCPServer")
        # each file is read once; a later round looks only at those that define classes
        defining = [
            (rel, data)
            for rel in sorted(self.files)
            if (data := self._read(rel)) is not None and b"class" in data
        ]
        for _ in range(MAX_DEPTH):
            before = len(names)
            for rel, data in defining:
                if not any(w in data for w in wanted):
                    continue
                facts = self.facts(rel)
                if facts is None:
                    continue
                names.update(facts.server_classes)
                names.update(
                    cls
                    for cls, bases in facts.classes.items()
                    if any(base.rsplit(".", 1)[-1] in names for base in bases)
                )
            if len(names) == before:
                break
            wanted = tuple(name.encode() for name in sorted(names))
        self._class_names = frozenset(name.encode() for name in names)
        return self._class_names

    def server_classes(self, rel: str, _stack: tuple[str, ...] = ()) -> frozenset[str]:
        """Module-level names of ``rel`` bound to a server class of the repository: defined
        here on FastMCP / MCPServer or on another such class, or imported from a file where
        one is (import cycles cut)."""
        if rel in self._classes:
            return self._classes[rel]
        facts = self.facts(rel)
        if facts is None or rel in _stack or len(_stack) > MAX_DEPTH:
            return frozenset()
        used = {callee for callee, _line in facts.calls.values()}
        used.update(base for bases in facts.classes.values() for base in bases)
        known = set(facts.server_classes)
        for name, ref in facts.imports.items():
            if name not in used or ref.name is None:
                continue
            source = self.resolve(rel, ref) or self._in_projects(ref)
            if source is not None and ref.name in self.server_classes(source, (*_stack, rel)):
                known.add(name)
        for cls, bases in facts.classes.items():  # in source order: a base comes first
            if any(base in known for base in bases):
                known.add(cls)
        self._classes[rel] = frozenset(known)
        return self._classes[rel]

    def _read(self, rel: str) -> bytes | None:
        try:
            return read_regular(self.root / rel, MAX_SOURCE_BYTES)
        except OSError:
            return None

    def resolve(self, importer: str, ref: ImportRef, *, name: str | None = None) -> str | None:
        """The file ``ref`` (plus ``.name`` when given) imports, if it is in the repository."""
        module = ref.module + (f".{name}" if name else "") if ref.module else (name or "")
        directory = PurePosixPath(importer).parent
        key = (directory.as_posix() if ref.level else self._top(directory), module, ref.level)
        if key not in self._resolved:
            self._resolved[key] = self._resolve(directory, module, ref.level)
        return self._resolved[key]

    def _resolve(self, directory: PurePosixPath, module: str, level: int) -> str | None:
        parts = [p for p in module.split(".") if p]
        if level:
            base = directory
            for _ in range(level - 1):
                base = base.parent
            return self.module_file(base, parts)
        for base in self._roots(directory):
            found = self.module_file(base, parts)
            if found is not None:
                return found
        return None

    def names_directory(self, importer: str, ref: ImportRef) -> bool:
        """``ref`` imports a directory of the repository's Python files that is no regular
        package (``import tools``, a namespace package whose modules load dynamically)."""
        parts = [p for p in ref.module.split(".") if p]
        if not parts or ref.level:
            return False
        for base in self._roots(PurePosixPath(importer).parent):
            prefix = base.joinpath(*parts).as_posix().removeprefix("./").lstrip("/") + "/"
            if any(f.startswith(prefix) for f in self.files):
                return True
        return False

    def module_file(self, base: PurePosixPath, parts: Sequence[str]) -> str | None:
        path = base.joinpath(*parts) if parts else base
        text = path.as_posix().removeprefix("./")
        for candidate in (f"{text}.py", f"{text}/__init__.py"):
            candidate = candidate.removeprefix("./").lstrip("/")
            if candidate in self.files:
                return candidate
        return None

    def _top(self, directory: PurePosixPath) -> str:
        """The directory above the package ``directory`` is in (itself when not a package)."""
        while directory != _HERE and f"{directory.as_posix()}/__init__.py" in self.files:
            directory = directory.parent
        return directory.as_posix()

    def _roots(self, directory: PurePosixPath) -> list[PurePosixPath]:
        """Where absolute imports from ``directory`` are looked up: its package's parent first,
        then each directory above and its ``src/``."""
        top = self._top(directory)
        if top not in self._root_cache:
            start = PurePosixPath(top)
            roots = [start]
            for parent in (start, *start.parents):
                roots.extend((parent, parent / "src"))
            self._root_cache[top] = list(dict.fromkeys(roots))
        return self._root_cache[top]

    def _in_projects(self, ref: ImportRef) -> str | None:
        """An absolute import found in one of the projects (a shared library's directory or
        its ``src/``): a server class may come from a library the server requires."""
        if ref.level:
            return None
        parts = [p for p in ref.module.split(".") if p]
        for directory in self.projects:
            for base in (PurePosixPath(directory), PurePosixPath(directory) / "src"):
                found = self.module_file(base, parts)
                if found is not None:
                    return found
        return None

    def servers(self, rel: str) -> dict[str, Found]:
        """Module-level names of ``rel`` the host can load: servers, and factories it can
        call with no arguments (import cycles cut)."""
        return {n: f for n, f in self._exposed(rel).items() if f.kind != NEEDS_ARGUMENTS}

    def _exposed(self, rel: str, _stack: tuple[str, ...] = ()) -> dict[str, Found]:
        """Every server and factory of ``rel``, factories needing arguments among them
        (``mcp = build(config)`` makes a server of one)."""
        if rel in self._servers:
            return self._servers[rel]
        facts = self.facts(rel)
        if facts is None or rel in _stack or len(_stack) > MAX_DEPTH:
            return {}
        stack = (*_stack, rel)
        found: dict[str, Found] = {}
        for name, line in facts.created.items():
            found[name] = Found(name, "object", rel, line)
        for name, line in facts.factories.items():
            kind = NEEDS_ARGUMENTS if name in facts.needs_arguments else "factory"
            found.setdefault(name, Found(name, kind, rel, line))
        for name, ref in facts.imports.items():
            if name in found or ref.name is None:
                continue
            source = self.resolve(rel, ref)
            if source is None:
                continue
            hit = self._exposed(source, stack).get(ref.name)
            if hit is not None:
                found[name] = Found(name, hit.kind, hit.defined_in, ref.line)
        classes = self.server_classes(rel) if facts.calls else frozenset()
        for name, (callee, line) in facts.calls.items():
            if name in found:
                continue
            target = found.get(callee)
            if (target is not None and target.kind != "object") or callee in classes:
                found[name] = Found(name, "object", rel, line)
        self._servers[rel] = found
        return found
