"""Entry shims: load package-style servers and factories through FastMCP's file loader.

FastMCP's loader execs the entrypoint file as a standalone module ``server_module``
with only the file's own directory prepended to ``sys.path``. A server that lives
in a package (``src/pkg/server.py``) breaks under that loader when it

* uses relative imports (``from .tools import x``, ``from . import mcp``),
* imports its own package absolutely (``from pkg.config import Settings``),
* is the package's ``__init__.py``;

and a host that looks for a module-level ``mcp``/``server``/``app`` cannot use a
server built by a factory function. :func:`needs_shim` detects these statically
(``ast``, nothing is imported); :func:`render_shim` returns a small, deterministic
``mcpbundle_entry.py`` for the server's output root that puts the package's source
root first on ``sys.path``, imports the entry as the package module it is, and
binds the server at module level.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, overload

from mcpbundle.base.errors import BuildError, ConfigError
from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.backend_packages import declared_packages
from mcpbundle.plan.loop_calls import import_time_loops
from mcpbundle.plan.python_parse import TargetUnavailable, parse_module
from mcpbundle.plan.shim_roots import ancestor_reason, sibling_imports

ShimMode = Literal["auto", "always", "never"]
FactoryKind = Literal["sync", "async"]
SHIM_MODES: tuple[str, ...] = ("auto", "always", "never")


@dataclass(frozen=True, kw_only=True)
class ShimDecision:
    """Whether a server needs a shim, why, and what the shim must import."""

    needed: bool
    reasons: tuple[str, ...]  # "server.py:3: relative import 'from .tools import x'", ...
    source_root: Path  # directory to put first on sys.path (above the top package)
    module: str  # dotted module to import: "mcp_garmin.server", "mcp_garmin", "server"
    factory: FactoryKind | None  # the configured object is a module-level (async) def
    sibling_imports: tuple[str, ...] = ()  # plain imports of modules next to the entry
    # Packages of the chain above the server directory (a server that is a subpackage of
    # a top-level package): (dotted name, its __init__.py). Their __init__.py files ship
    # in the bundle and the shim builds the chain from them; ``source_root`` is then the
    # server directory, which is the first package of the chain inside the bundle.
    outside: tuple[tuple[str, Path], ...] = ()
    inside_package: str | None = None  # dotted name of the server directory's package
    package_root: Path | None = None  # the real directory above the top package (source tree)
    # lines of the entry's import-time event loops (asyncio.run): the shim imports it in a
    # thread of its own, since FastMCP's loader imports from inside its running loop
    loops: tuple[int, ...] = ()
    # folders above the entry's that its absolute imports need (shim_roots.ancestor_imports)
    ancestors: tuple[Path, ...] = ()

    def source_root_rel(self, server_dir: Path) -> str:
        """``source_root`` relative to ``server_dir`` as POSIX text ("." when equal)."""
        return _relative(self.source_root, server_dir)

    def extra_path_rels(self, server_dir: Path, entry_file: Path) -> tuple[str, ...]:
        """Paths the shim appends after the source root: the entry's own directory when
        the entry also imports its siblings as top-level modules, then the folders above
        it its absolute imports need."""
        root = self.source_root_rel(server_dir)
        rels = [_relative(entry_file.parent, server_dir)] if self.sibling_imports else []
        rels += [_relative(d, server_dir) for d in self.ancestors]
        return tuple(r for r in dict.fromkeys(rels) if r != root)


def needs_shim(
    entry_file: Path,
    source_root_guess: Path | None = None,
    *,
    object_name: str | None = None,
    mode: ShimMode = "auto",
    python: str | None = None,
) -> ShimDecision:
    """Decide statically whether ``entry_file`` needs a shim.

    ``source_root_guess`` is the server directory: the shim's ``sys.path`` entry may
    not lie above it (only the server's folder ships). ``object_name`` is the
    configured server object; a module-level ``def``/``async def`` of that name is a
    factory. ``mode`` ``"never"`` still reports reasons but says not needed;
    ``"always"`` shims even a plain file. ``python`` is the target Python whose
    grammar reads the code (:mod:`mcpbundle.plan.python_parse`).
    """
    if mode not in SHIM_MODES:
        raise ConfigError(
            f"unknown shim mode {mode!r}", where="shim", hint="use auto, always or never"
        )
    entry_file = entry_file.resolve()
    bound = source_root_guess.resolve() if source_root_guess is not None else None
    tree = _parse(entry_file, python=python)
    parts, top_dir = _package_chain(entry_file)
    parsed: dict[Path, ast.Module | None] = {entry_file: tree}
    namespaces: frozenset[Path] = frozenset()
    if top_dir is not None:
        package = parts if entry_file.name == "__init__.py" else parts[:-1]
        parts, top_dir, namespaces = _namespace_chain(
            parts, package, top_dir, bound, parsed, python
        )
    reasons: list[str] = []
    name = entry_file.name
    if entry_file.name == "__init__.py":
        reasons.append(f"{name}: the entrypoint is a package's __init__.py")
    top = parts[0] if top_dir is not None else None
    relative = _import_reasons(tree, name, top, relative=True)
    reasons.extend(relative)
    if top_dir is not None:
        # Another module of the package imported sibling-style by the entry also
        # breaks when it imports the package absolutely.
        for path in _package_modules(top_dir, namespaces):
            if path != entry_file:
                rel = path.relative_to(top_dir.parent).as_posix()
                other = _parsed(path, parsed, python)
                if other is not None:
                    reasons.extend(_import_reasons(other, rel, top, relative=False))
    factory = _factory_kind(tree, object_name) if object_name else None
    if factory is not None:
        reasons.append(f"{name}: {object_name!r} is a {factory} factory function")
    loops = import_time_loops(tree)
    if loops:
        reasons.append(
            f"{name}:{loops[0]}: runs an event loop at import (asyncio.run), which fails inside "
            "the host's running loop"
        )
    ancestors, why = ancestor_reason(
        tree, entry_file, bound, top, lambda path: _parsed(path, parsed, python)
    )
    reasons.extend(why)
    needed = mode == "always" or (mode == "auto" and bool(reasons))
    if top_dir is None and relative:
        # Relative imports outside a package: load the entry's directory as a
        # namespace package (PEP 420), so ``from . import x`` resolves.
        parts = [entry_file.parent.name, entry_file.stem]
        top_dir = entry_file.parent
    if top_dir is None:
        source_root = entry_file.parent
        module = entry_file.stem
    else:
        source_root = top_dir.parent
        module = ".".join(parts)
    # Plain imports of modules next to the entry work under FastMCP's loader; with
    # a shim they need the entry's directory on sys.path too.
    siblings = sibling_imports(tree, entry_file.parent) if top_dir is not None else ()
    outside: tuple[tuple[str, Path], ...] = ()
    inside_package: str | None = None
    package_root = source_root
    if bound is not None and top_dir is not None and not source_root.is_relative_to(bound):
        # A subpackage server: ship the __init__.py of each package above its directory.
        chain = list(reversed(list(_dirs_between(entry_file.parent, top_dir))))
        names = module.split(".")
        outside = tuple(
            (".".join(names[: i + 1]), d / "__init__.py")
            for i, d in enumerate(chain)
            if not d.is_relative_to(bound)
        )
        if not (bound / "__init__.py").is_file() or bound not in chain:
            outside = ()
        else:
            inside_package = ".".join(names[: chain.index(bound) + 1])
            source_root = bound
            needed = needed or mode == "auto"
    if needed and bound is not None and not source_root.is_relative_to(bound):
        raise BuildError(
            f"the entrypoint's package {module.split('.')[0]!r} starts above the server "
            "directory, so a shim cannot load it from the bundle",
            where=str(entry_file),
            hint="set the server's path to the directory that holds the top package "
            "(e.g. the folder with src/), or set shim = 'never'",
        )
    if needed and not all(p.isidentifier() for p in module.split(".")):
        raise BuildError(
            f"{module!r} is not an importable module name",
            where=str(entry_file),
            hint="rename the directory or file to a valid Python identifier",
        )
    if outside:
        reasons.append(f"{name}: its package {module.rsplit('.', 1)[0]!r} starts above the server")
    return ShimDecision(
        needed=needed,
        reasons=tuple(reasons),
        source_root=source_root,
        module=module,
        factory=factory,
        sibling_imports=siblings,
        outside=outside,
        inside_package=inside_package,
        package_root=package_root,
        loops=loops,
        ancestors=ancestors,
    )


@overload
def _parse(path: Path, *, python: str | None) -> ast.Module: ...
@overload
def _parse(path: Path, *, strict: Literal[False], python: str | None) -> ast.Module | None: ...


def _parse(path: Path, *, strict: bool = True, python: str | None = None) -> ast.Module | None:
    """The module's AST; an unparsable file raises when ``strict``, else gives None."""
    try:
        return parse_module(path.read_bytes(), str(path), python)
    except TargetUnavailable:
        if not strict:
            return None
        raise
    except (SyntaxError, ValueError) as exc:
        if not strict:
            return None
        line = getattr(exc, "lineno", None)
        raise BuildError(
            f"cannot parse: {getattr(exc, 'msg', exc)}",
            where=f"{path}:{line}" if line else str(path),
            hint="fix the code",
        ) from exc
    except OSError as exc:
        if not strict:
            return None
        raise BuildError(
            f"cannot read the entrypoint: {exc.strerror}",
            where=str(path),
            hint="check the server's entrypoint",
        ) from exc


def _package_chain(entry_file: Path) -> tuple[list[str], Path | None]:
    """Dotted parts of the entry's module and the top package's directory (None: no package)."""
    directory = entry_file.parent
    parts = [] if entry_file.name == "__init__.py" else [entry_file.stem]
    top: Path | None = None
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        parts.insert(0, directory.name)
        top = directory
        directory = directory.parent
    if top is None:
        return [entry_file.stem], None
    return parts, top


def _namespace_chain(
    parts: list[str],
    package: list[str],
    top_dir: Path,
    bound: Path | None,
    parsed: dict[Path, ast.Module | None],
    python: str | None,
) -> tuple[list[str], Path, frozenset[Path]]:
    """The chain grown through the namespace folders (PEP 420: no ``__init__.py``) above
    the top package (``package``: its dotted parts) that the server's build backend
    declares or the package's own code names: ``acme/weather/`` whose modules import
    ``acme.weather`` is the module ``acme.weather.server``, not ``weather.server`` (under
    the short name the same file would load twice, as two modules). Never above the
    server directory ``bound``: only what lies inside it ships."""
    namespaces: set[Path] = set()
    declared: tuple[Path, ...] | None = None  # read (like the trees) only when a folder qualifies
    trees: list[ast.Module] | None = None
    while True:
        parent = top_dir.parent
        if parent == top_dir or not parent.name.isidentifier():
            break
        if bound is not None and not parent.parent.is_relative_to(bound):
            break
        if declared is None:
            declared = _declared_tops(bound)
        if not any(parent.is_relative_to(d) for d in declared):
            if trees is None:
                modules = _package_modules(top_dir)
                trees = [t for t in (_parsed(m, parsed, python) for m in modules) if t]
            dotted = ".".join([parent.name, *package])
            if not any(_names_module(tree, dotted) for tree in trees):
                break
        parts = [parent.name, *parts]
        package = [parent.name, *package]
        namespaces.add(parent)
        top_dir = parent
    return parts, top_dir, frozenset(namespaces)


def _declared_tops(bound: Path | None) -> tuple[Path, ...]:
    """The top folders of the packages the server's ``pyproject.toml`` declares for its
    build backend (``packages = ["src/acme"]``: ``src/acme``)."""
    if bound is None:
        return ()
    found = declared_packages(bound / "pyproject.toml", bound)
    if found is None:
        return ()
    root, names = found
    return tuple((root / name.split(".")[0]).resolve() for name in names)


def _names_module(tree: ast.Module, dotted: str) -> bool:
    """``tree`` imports ``dotted`` (or something inside it) absolutely."""
    for node in walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and _is_top(node.module, dotted):
            return True
        if isinstance(node, ast.Import) and any(_is_top(a.name, dotted) for a in node.names):
            return True
    return False


def _parsed(
    path: Path, parsed: dict[Path, ast.Module | None], python: str | None
) -> ast.Module | None:
    if path not in parsed:
        parsed[path] = _parse(path, strict=False, python=python)
    return parsed[path]


def _package_modules(top_dir: Path, namespaces: frozenset[Path] = frozenset()) -> list[Path]:
    """The modules importable as part of the package rooted at ``top_dir`` (through
    ``namespaces``, folders that are namespace packages of the chain)."""
    return [
        path
        for path in sorted(top_dir.rglob("*.py"))
        if all(
            d in namespaces or (d / "__init__.py").is_file()
            for d in _dirs_between(path.parent, top_dir)
        )
    ]


def _dirs_between(directory: Path, top_dir: Path) -> Iterable[Path]:
    current = directory
    while True:
        yield current
        if current in (top_dir, current.parent):
            return
        current = current.parent


def _import_reasons(
    tree: ast.Module, display: str, top: str | None, *, relative: bool
) -> list[str]:
    """Relative imports (when ``relative``) and absolute imports of the package ``top``."""
    reasons: list[str] = []
    for node in walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level and relative:
                reasons.append(f"{display}:{node.lineno}: relative import {_show(node)!r}")
            elif not node.level and top and _is_top(node.module, top):
                reasons.append(f"{display}:{node.lineno}: imports its own package {_show(node)!r}")
        elif isinstance(node, ast.Import) and top:
            for alias in node.names:
                if _is_top(alias.name, top):
                    reasons.append(
                        f"{display}:{node.lineno}: imports its own package 'import {alias.name}'"
                    )
    return reasons


def _is_top(module: str | None, top: str) -> bool:
    return module is not None and (module == top or module.startswith(top + "."))


def _show(node: ast.ImportFrom) -> str:
    names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
    return f"from {'.' * node.level}{node.module or ''} import {names}"


def _factory_kind(tree: ast.Module, object_name: str) -> FactoryKind | None:
    """``sync``/``async`` when the last module-level binding of the name is a ``def``."""
    kind: FactoryKind | None = None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == object_name:
            kind = "sync"
        elif isinstance(node, ast.AsyncFunctionDef) and node.name == object_name:
            kind = "async"
        elif isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == object_name for t in node.targets
        ):
            kind = None
    return kind


def _relative(path: Path, base: Path) -> str:
    try:
        rel = path.resolve().relative_to(base.resolve())
    except ValueError as exc:
        raise BuildError(
            f"{path} is not inside the server directory {base}",
            where=str(path),
            hint="set the server's path to a directory that contains its package",
        ) from exc
    return rel.as_posix() if rel.parts else "."
