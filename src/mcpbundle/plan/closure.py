"""Which shared libraries a requirement list needs, and what is left for PyPI.

Every entry that points at a shared library (by distribution name, by path,
``-e``, ``name @ file:``, or ``[tool.uv.sources]``) is taken out and the library
is vendored instead; the library's own third-party dependencies are merged in.
A path requirement to an undeclared directory becomes an *implicit* library,
with a warning (an error under ``--strict``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import BuildError, ConfigError, MCPBundleError
from mcpbundle.base.real_paths import resolved
from mcpbundle.config.paths import find_cycle
from mcpbundle.config.settings import Config, SharedLib
from mcpbundle.plan.index_options import IndexOption, index_option
from mcpbundle.plan.lib_discovery import LibInfo, discover_lib, discover_packages
from mcpbundle.plan.locks import workspace_members, workspace_root_of
from mcpbundle.plan.pyproject import project_name
from mcpbundle.plan.requirements import ReqLine


@dataclass(frozen=True, kw_only=True)
class Rewrite:
    """One requirement entry that did not pass through unchanged."""

    origin: str
    original: str
    replacement: str

    @classmethod
    def addition(cls, origin: str, requirement: str) -> Rewrite:
        """A requirement mcpbundle added (no original entry): ``added REQUIREMENT``."""
        return cls(origin=origin, original="", replacement=f"{_ADDED}{requirement}")

    @property
    def added(self) -> str | None:
        """The requirement an :meth:`addition` added, else None."""
        if self.original or not self.replacement.startswith(_ADDED):
            return None
        return self.replacement.removeprefix(_ADDED)


_ADDED = "added "  # the manifest's "to" of an addition (check reads it back)


@dataclass(kw_only=True)
class Classified:
    """The result of sorting one requirement list."""

    pypi: list[ReqLine] = field(default_factory=list)
    libs: set[str] = field(default_factory=set)
    rewrites: list[Rewrite] = field(default_factory=list)
    self_reference: bool = False
    git: list[ReqLine] = field(default_factory=list)
    index: list[IndexOption] = field(default_factory=list)  # for the resolver, not shipped
    # extras asked of a library (``core[table]``): library -> extra -> where first asked
    extras: dict[str, dict[str, str]] = field(default_factory=dict)


class LibGraph:
    """Declared (and implicit) shared libraries, discovered once per build.

    Besides the ``[shared.*]`` tables, a library can be another *server* (one server
    depending on another by distribution name, path or workspace source: vendored like
    a shared library, no second table needed) or an undeclared directory or uv
    workspace member (vendored with a warning suggesting the table to add).
    """

    def __init__(self, config: Config, *, strict: bool):
        self.config = config
        self.root = config.root
        self.strict = strict
        self.warnings: list[str] = []
        self.context: str | None = None  # the server being planned, named in errors
        self.libs: dict[str, LibInfo] = {}
        for name, lib in config.shared.items():
            self.libs[name] = discover_lib(
                lib, self.root, key_path=config.key(f"shared.{name}"), display=config.display
            )
        self._by_path = {resolved(self.root / lib.path): name for name, lib in self.libs.items()}
        self._by_dist = {lib.distribution: name for name, lib in self.libs.items()}
        self._server_dirs: dict[Path, str] = {}
        self._server_dists: dict[str, str] = {}
        for name, server in config.servers.items():
            directory = resolved(self.root / server.path)
            if directory in self._by_path or directory == resolved(self.root):
                continue  # declared as a library too, or the repository root itself
            self._server_dirs[directory] = name
            dist = project_name(directory / "pyproject.toml")
            if dist is not None and dist not in self._by_dist:
                self._server_dists[dist] = name
        self._members: dict[Path, dict[str, Path]] = {}
        self._state: tuple[tuple[int, ...], str] | None = None  # (sizes, digest): see state()
        self.requires: dict[str, tuple[str, ...]] = {}
        # extras a library's own requirements ask of other libraries (see Classified.extras)
        self.extras_asked: dict[str, dict[str, dict[str, str]]] = {}
        self._extra_lines: dict[tuple[str, str], Classified | None] = {}
        self.third_party: dict[str, tuple[ReqLine, ...]] = {}
        # a declared library whose requirements fail fails the servers that vendor it
        # (raised by closure(), naming the server), not every server
        self.broken: dict[str, MCPBundleError] = {}
        self.raised: set[str] = set()  # the broken ones a server's closure reached
        for name in list(self.libs):
            try:
                self._settle(name)
            except MCPBundleError as exc:
                self.broken[name] = exc
        cycle = find_cycle(self.requires)
        if cycle:
            raise ConfigError(
                f"shared libraries form a cycle: {' -> '.join(cycle)}",
                where=config.where(f"shared.{cycle[0]}"),
                hint="break the cycle between their dependencies",
            )

    def state(self) -> str:
        """A digest of everything planning a server reads from the graph and may add to it
        (the libraries known, by path and name, their requirements, the warnings so far,
        the workspaces looked into).

        The graph only ever gains entries (new names, new paths, warnings appended), so
        the same sizes mean the same content: the digest is made again only when one grew."""
        sizes = (
            len(self.libs), len(self.requires), len(self.third_party), len(self.warnings),
            len(self._by_path), len(self._by_dist), len(self._members),
        )  # fmt: skip
        if self._state is not None and self._state[0] == sizes:
            return self._state[1]
        known = (
            sorted(self.libs.items()), sorted(self.requires.items()),
            sorted(self.third_party.items()), sorted(self.extras_asked.items()), self.warnings,
            sorted((str(p), n) for p, n in self._by_path.items()), sorted(self._by_dist.items()),
            sorted((str(p), n) for p, n in self._server_dirs.items()),
            sorted(self._server_dists.items()),
            sorted((str(p), sorted((k, str(v)) for k, v in m.items()))
                   for p, m in self._members.items()),
        )  # fmt: skip
        digest = hashlib.sha256(repr(known).encode("utf-8", "surrogateescape")).hexdigest()
        self._state = (sizes, digest)
        return digest

    def _settle(self, name: str) -> None:
        info = self.libs[name]
        if info.unread_dependencies is not None:
            raise BuildError(
                f"shared lib {name!r} computes its install_requires in code, which mcpbundle "
                "cannot read without running it",
                where=info.unread_dependencies,
                hint="list them in [project] dependencies of a pyproject.toml or in a "
                "requirements.txt beside it",
            )
        sorted_deps = self.classify(info.dependencies, owner_dir=self.root / info.path)
        declared = self.config.shared.get(name)
        explicit = set(declared.requires or ()) if declared is not None else set()
        self.requires[name] = tuple(sorted((sorted_deps.libs | explicit) - {name}))
        self.third_party[name] = tuple(sorted_deps.pypi)
        self.extras_asked[name] = sorted_deps.extras

    def extra(self, lib: str, extra: str) -> Classified | None:
        """What extra ``extra`` of library ``lib`` adds, sorted like any requirement list
        (once per pair); None when the library has no such extra."""
        key = (lib, extra)
        if key not in self._extra_lines:
            info = self.libs[lib]
            lines = info.extras.get(extra)
            if isinstance(lines, ConfigError):
                raise lines
            self._extra_lines[key] = (
                None if lines is None else self.classify(lines, owner_dir=self.root / info.path)
            )
        return self._extra_lines[key]

    def classify(self, lines: Iterable[ReqLine], *, owner_dir: Path) -> Classified:
        """Sort ``lines`` into PyPI requirements, shared libs and rewrites."""
        result = Classified()
        for line in lines:
            self._classify_one(line, resolved(owner_dir), result)
        return result

    def _classify_one(self, line: ReqLine, owner_dir: Path, result: Classified) -> None:
        if line.kind == "option":
            option = index_option(line, self.config.bundle)
            if option is not None:
                result.index.append(option)
            result.rewrites.append(Rewrite(origin=line.origin, original=line.text, replacement=""))
            return
        if line.constraint and (line.kind != "pypi" or line.editable):
            # pip takes only a name and a version specifier from a -c file: a path, -e, git
            # or URL line there constrains nothing, so it vendors nothing either
            self.warnings.append(
                f"{line.origin}: {line.text.strip()!r} in a constraints file is ignored "
                "(a constraint is a name and a version specifier; pip rejects this one)"
            )
            result.rewrites.append(Rewrite(origin=line.origin, original=line.text, replacement=""))
            return
        if line.kind == "pypi":
            lib = self._by_dist.get(line.name or "") or self._server_by_dist(line.name)
            if lib is None:
                result.pypi.append(line)
                return
            self._take(line, lib, result)
            return
        if line.kind == "git":
            lib = self._by_dist.get(line.name or "")
            if lib is None:
                result.git.append(line)
                return
            self.warnings.append(
                f"{line.origin}: {line.name} comes from a git URL, but the repository holds it "
                f"(shared lib {lib!r}): vendoring the repository's own copy"
            )
            self._take(line, lib, result)
            return
        if line.kind == "url":
            raise BuildError(
                f"{line.text!r} is a URL requirement, which a PyPI-only host cannot install",
                where=line.origin,
                hint="depend on a released version (name==x.y) instead",
            )
        self._classify_path(line, owner_dir, result)

    def _classify_path(self, line: ReqLine, owner_dir: Path, result: Classified) -> None:
        if line.found_at is not None:  # read from elsewhere than written: say how to fix it
            self.warnings.append(f"{line.origin}: {line.text.strip()!r} {line.found_at}")
        if line.path is None:  # uv workspace member, known by name only
            lib = self._by_dist.get(line.name or "") or self._server_by_dist(line.name)
            if lib is None:
                lib = self._workspace_member(line, owner_dir)
            self._take(line, lib, result)
            return
        target = line.path.resolve()
        if target == owner_dir:
            result.self_reference = True
            result.rewrites.append(Rewrite(origin=line.origin, original=line.text, replacement=""))
            return
        lib = self._by_path.get(target)
        if lib is None and target in self._server_dirs:
            lib = self._server_lib(self._server_dirs[target])
        if lib is None:
            lib = self._implicit(line, target)
        self._take(line, lib, result)

    def _implicit(self, line: ReqLine, target: Path) -> str:
        if not target.is_relative_to(self.root):
            raise ConfigError(
                f"{line.text!r} points outside the repository",
                where=line.origin,
                hint="vendor the code into the repo or depend on a PyPI release",
            )
        if not target.is_dir():
            raise BuildError(
                f"{line.text!r} is not a directory (local archives cannot ship)",
                where=line.origin,
                hint="publish it to PyPI or point at its source directory",
            )
        rel = target.relative_to(self.root).as_posix()
        _, packages = discover_packages(target, target / "pyproject.toml")
        if not packages:
            raise ConfigError(
                f"{line.text!r} points at {rel!r}, which has no Python package",
                where=line.origin,
                hint="point at a directory with a package (a dir with __init__.py)",
            )
        name: str = canonicalize_name(target.name)
        base = name
        counter = 2
        while name in self.libs:
            name = f"{base}-{counter}"
            counter += 1
        message = (
            f"{line.origin}: {line.text!r} points at {rel!r}, which is not a declared shared "
            f"library; vendoring it anyway (add [shared.{name}] with path = {rel!r})"
        )
        if self.strict:
            raise ConfigError(message.split(": ", 1)[1], where=line.origin)
        self.warnings.append(message)
        lib = SharedLib(name=name, path=rel)
        self.libs[name] = discover_lib(lib, self.root, key_path=rel, display=line.origin)
        self._by_path[target] = name
        self._settle(name)
        return name

    def is_local(self, line: ReqLine, owner_dir: Path) -> bool:
        """True for an entry naming code of this repository: a path or workspace source,
        a declared library, a server, or a member of the uv workspace ``owner_dir`` is in."""
        if line.kind == "path":
            return True
        if line.kind != "pypi" or line.name is None:
            return False
        if line.name in self._by_dist or line.name in self._server_dists:
            return True
        ws_root = workspace_root_of(owner_dir, self.root)
        return ws_root is not None and line.name in self._member_dists(ws_root)

    def _member_dists(self, ws_root: Path) -> dict[str, Path]:
        if ws_root not in self._members:
            self._members[ws_root] = {
                dist: path
                for path in workspace_members(ws_root)
                if (dist := project_name(path / "pyproject.toml")) is not None
            }
        return self._members[ws_root]

    def _server_by_dist(self, dist: str | None) -> str | None:
        server = self._server_dists.get(dist or "")
        if server is None or server == self.context:
            return None
        return self._server_lib(server)

    def _server_lib(self, server: str) -> str:
        """Another server, vendored like a shared library (its table is the declaration)."""
        directory = self.config.servers[server].path
        existing = self._by_path.get(resolved(self.root / directory))
        if existing is not None:
            return existing
        name = server if server not in self.libs else f"{server}-server"
        lib = SharedLib(name=name, path=directory)
        self.libs[name] = discover_lib(
            lib,
            self.root,
            key_path=self.config.key(f"servers.{server}"),
            display=self.config.display,
        )
        self._by_path[resolved(self.root / directory)] = name
        self._by_dist[self.libs[name].distribution] = name
        self._settle(name)
        return name

    def _workspace_member(self, line: ReqLine, owner_dir: Path) -> str:
        """A ``{ workspace = true }`` dependency no table declares: find the member by name."""
        ws_root = workspace_root_of(owner_dir, self.root)
        members = self._member_dists(ws_root) if ws_root is not None else {}
        target = members.get(line.name or "")
        reached = f" (needed by server {self.context!r})" if self.context else ""
        if target is None:
            raise ConfigError(
                f"workspace dependency {line.name!r} is neither a declared shared library nor "
                f"a member of the uv workspace{reached}",
                where=line.origin,
                hint=f"add a [shared.{line.name}] table with its path, or add the member to "
                "[tool.uv.workspace] members",
            )
        return self._by_path.get(target) or (
            self._server_lib(self._server_dirs[target])
            if target in self._server_dirs
            else self._implicit(line, target)
        )

    def _take(self, line: ReqLine, lib: str, result: Classified) -> None:
        result.libs.add(lib)
        result.rewrites.append(self._vendored(line, lib))
        asked = result.extras.setdefault(lib, {}) if line.extras else {}
        for extra in line.extras:
            asked.setdefault(extra, line.origin)

    def _vendored(self, line: ReqLine, lib: str) -> Rewrite:
        return Rewrite(
            origin=line.origin, original=line.text, replacement=f"vendored shared lib {lib!r}"
        )

    def closure(self, names: Iterable[str]) -> tuple[str, ...]:
        """``names`` plus every library they require, transitively, sorted."""
        seen: set[str] = set()
        pending = list(names)
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            pending.extend(self.requires.get(name, ()))
        for name in sorted(seen):
            if name in self.broken:
                self.raised.add(name)
                raise self.broken_error(name, self.context)
        return tuple(sorted(seen))

    def broken_error(self, name: str, server: str | None) -> MCPBundleError:
        """The error of broken library ``name``, as a failure of ``server`` (None: of no
        server in particular, the library alone)."""
        exc = self.broken[name]
        reached = f"shared lib {name!r}" + (f", needed by server {server!r}" if server else "")
        message = exc.message if reached in exc.message else f"{exc.message} ({reached})"
        return type(exc)(message, where=exc.where, hint=exc.hint, server=server)
