"""What a shared library provides: import packages, distribution name, dependencies.

Discovery follows the layouts setuptools knows: ``src/`` layout, flat layout, or
the library directory itself being a package. Nothing is imported or built.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.settings import SharedLib
from mcpbundle.plan.backend_packages import declared_packages
from mcpbundle.plan.licences import Licence, find_licence
from mcpbundle.plan.pipfile import PIPFILE, read_pipfile
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.requirements import ReqLine, read_requirements_file
from mcpbundle.plan.setup_scripts import setup_dependencies
from mcpbundle.plan.submodules import unchecked_submodule

# Top-level names a flat layout never vendors (setuptools' own exclusions, roughly).
_NOT_PACKAGES = frozenset(
    {"tests", "test", "testing", "docs", "doc", "examples", "example", "scripts", "tools",
     "benchmarks", "bench", "build", "dist", "site", "venv", "node_modules"}
)  # fmt: skip
_NOT_MODULES = frozenset(
    {"setup.py", "conftest.py", "noxfile.py", "toxfile.py", "tasks.py", "fabfile.py", "manage.py"}
)
STDLIB_NAMES = frozenset(sys.stdlib_module_names)


@dataclass(frozen=True, kw_only=True)
class LibInfo:
    """A shared library as discovered on disk."""

    name: str  # its [shared.NAME]
    path: str  # repo-relative directory
    distribution: str  # canonical distribution name
    version: str | None
    source_root: str  # repo-relative directory that holds the import packages
    packages: tuple[str, ...]  # import names to vendor (dotted for sub-packages)
    dependencies: tuple[ReqLine, ...]
    entry_points: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    licence: Licence = field(default_factory=Licence)
    # a setup.py that computes install_requires: its dependencies cannot be read
    unread_dependencies: str | None = None
    # [project.optional-dependencies] (see ProjectInfo.extras)
    extras: Mapping[str, tuple[ReqLine, ...] | ConfigError] = field(default_factory=dict)
    origin: str = ""  # where it comes from, for notices: its path, or a git URL at a commit

    @property
    def top_level(self) -> tuple[str, ...]:
        return tuple(sorted({p.split(".")[0] for p in self.packages}))


def discover_lib(lib: SharedLib, root: Path, *, key_path: str, display: str) -> LibInfo:
    """Discover ``lib`` under ``root``; errors name ``key_path`` in ``display``."""
    directory = root / lib.path
    pyproject = directory / "pyproject.toml"
    info = read_pyproject(pyproject, root=root) if pyproject.is_file() else None
    distribution = (info.name if info and info.name else None) or canonicalize_name(lib.name)
    dependencies: tuple[ReqLine, ...] = ()
    unread: str | None = None
    if info is not None and info.has_dependencies:
        dependencies = info.dependencies
    elif (directory / "requirements.txt").is_file():
        req_path = directory / "requirements.txt"
        dependencies = tuple(
            read_requirements_file(
                req_path, root=root, display=req_path.relative_to(root).as_posix()
            )
        )
    elif (directory / PIPFILE).is_file():
        dependencies = tuple(read_pipfile(directory / PIPFILE, root=root))
    elif (setup := setup_dependencies(directory, root)) is not None:
        dependencies = setup.lines
        if not setup.readable:
            unread = setup.source
    if lib.packages is not None:
        source_root, packages = _given_packages(lib, directory, root, key_path, display)
    else:
        source_root, packages = discover_packages(directory, pyproject)
        if source_root.resolve() != root and not source_root.resolve().is_relative_to(root):
            raise ConfigError(
                f"{lib.path!r} is itself a package at the top of the repository",
                where=f"{display}: {key_path}.path",
                hint="move the package into a subdirectory of the repository",
            )
        if not packages and unchecked_submodule(root, directory):
            raise ConfigError(
                f"{lib.path!r} is a git submodule that is not checked out",
                where=f"{display}: {key_path}.path",
                hint="run `git submodule update --init --recursive` (in CI: actions/checkout"
                " with `submodules: recursive`)",
            )
        if not packages:
            raise ConfigError(
                f"no Python package or module found in {lib.path!r}",
                where=f"{display}: {key_path}",
                hint="set packages = [...] or check the path",
            )
    return LibInfo(
        name=lib.name,
        path=lib.path,
        distribution=distribution,
        version=info.version if info else None,
        source_root=_relative(source_root, root),
        packages=packages,
        dependencies=dependencies,
        entry_points=info.entry_points if info else {},
        licence=find_licence(directory, root),
        extras=info.extras if info else {},
        unread_dependencies=unread,
        origin=lib.path,
    )


def discover_packages(
    directory: Path, pyproject: Path | None = None
) -> tuple[Path, tuple[str, ...]]:
    """``(source root, import names)`` for a directory: what its build backend names in
    ``pyproject`` (:mod:`mcpbundle.plan.backend_packages`), else by src/, flat or self
    layout. A namespace package (PEP 420, no ``__init__.py``) is named by its portions
    (``acme.common``), so two libraries sharing the namespace do not clash."""
    if (directory / "__init__.py").is_file():
        return directory.parent, (directory.name,)
    if pyproject is not None and pyproject.is_file():
        declared = declared_packages(pyproject, directory)
        if declared is not None:
            return declared[0], tuple(
                sorted({n for p in declared[1] for n in portions(declared[0], p)})
            )
    src = directory / "src"
    if src.is_dir():
        found = top_packages(src) + namespace_packages(src)
        if found:
            return src, tuple(sorted(found))
    return directory, _importables(directory, flat=True)


def top_packages(directory: Path) -> tuple[str, ...]:
    """Packages (with ``__init__.py``) and modules directly in a source root."""
    return _importables(directory, flat=False)


def namespace_packages(directory: Path) -> tuple[str, ...]:
    """The portions of namespace packages directly in a source root: ``acme/common/``
    (a package) in ``acme/`` (no ``__init__.py``) is ``acme.common``."""
    found: list[str] = []
    for child in sorted(directory.iterdir()) if directory.is_dir() else ():
        if child.is_dir() and child.name.isidentifier() and not (child / "__init__.py").is_file():
            found.extend(p for p in portions(directory, child.name) if "." in p)
    return tuple(found)


def portions(base: Path, dotted: str, depth: int = 0) -> tuple[str, ...]:
    """``dotted`` itself, unless it is a namespace directory: then the packages and modules
    inside it (recursively, a few levels), each dotted; () when it holds no Python."""
    path = base.joinpath(*dotted.split("."))
    if not path.is_dir() or regular_package(path):
        return (dotted,)
    if depth >= 4:
        return ()
    found: list[str] = []
    for child in sorted(path.iterdir()):
        if child.name in ("__pycache__", "__init__.py") or not child.stem.isidentifier():
            continue
        if child.is_dir():
            found.extend(portions(base, f"{dotted}.{child.name}", depth + 1))
        elif child.suffix == ".py":
            found.append(f"{dotted}.{child.stem}")
    return tuple(found)


def _importables(directory: Path, *, flat: bool) -> tuple[str, ...]:
    names: set[str] = set()
    for child in sorted(directory.iterdir()):
        name = child.name
        if child.is_dir():
            if not name.isidentifier() or (flat and name in _NOT_PACKAGES):
                continue
            if regular_package(child):
                names.add(name)
            elif (child / "__init__.py").is_file():  # a pkgutil-style namespace
                names.update(p for p in portions(directory, name) if "." in p)
        elif child.suffix == ".py" and child.stem.isidentifier():
            if (
                name in _NOT_MODULES
                or name.startswith(("test_", "_"))  # tests, __main__.py, private scripts
                or name.endswith("_test.py")
            ):
                continue
            names.add(child.stem)
    return tuple(sorted(names))


def regular_package(directory: Path) -> bool:
    """``directory`` is a package that owns its name: it has an ``__init__.py`` that is
    not a namespace declaration (:func:`namespace_init`)."""
    init = directory / "__init__.py"
    return init.is_file() and not namespace_init(init)


_DECLARATIONS = ("extend_path", "declare_namespace")


def namespace_init(init: Path) -> bool:
    """An ``__init__.py`` that only declares a namespace, pkgutil- or pkg_resources-style
    (``__path__ = __import__('pkgutil').extend_path(__path__, __name__)``): what several
    distributions sharing a top-level name each ship. Comments and a docstring aside,
    every statement names ``extend_path`` or ``declare_namespace``."""
    try:
        data = init.read_bytes()
    except OSError:
        return False
    if not any(word.encode() in data for word in _DECLARATIONS):
        return False  # the common case, without a parse
    try:
        body = ast.parse(data).body
    except (SyntaxError, ValueError):
        return False
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return bool(body) and all(
        any(word in ast.dump(statement) for word in _DECLARATIONS) for statement in body
    )


def _given_packages(
    lib: SharedLib, directory: Path, root: Path, key_path: str, display: str
) -> tuple[Path, tuple[str, ...]]:
    assert lib.packages is not None
    candidates = [directory / "src", directory]
    if directory.resolve() != root.resolve():
        candidates.append(directory.parent)
    for base in candidates:
        if all(_exists_as_import(base, name) for name in lib.packages):
            return base, tuple(sorted(lib.packages))
    best = max(
        candidates[:2], key=lambda b: sum(_exists_as_import(b, n) for n in lib.packages or ())
    )
    missing = next(p for p in lib.packages if not _exists_as_import(best, p))
    raise ConfigError(
        f"package {missing!r} not found in {lib.path!r} (looked in src/ and the directory itself)",
        where=f"{display}: {key_path}.packages",
        hint="fix the name or remove packages to discover them",
    )


def _exists_as_import(base: Path, dotted: str) -> bool:
    path = base.joinpath(*dotted.split("."))
    return path.is_dir() or path.with_suffix(".py").is_file()


def import_path(source_root: Path, dotted: str) -> Path:
    """The directory (package) or file (module) that provides ``dotted``."""
    path = source_root.joinpath(*dotted.split("."))
    return path if path.is_dir() else path.with_suffix(".py")


def top_level_names(directory: Path) -> frozenset[str]:
    """Import names a directory on ``sys.path`` provides (packages, namespace dirs, modules)."""
    if not directory.is_dir():
        return frozenset()
    names: set[str] = set()
    for child in directory.iterdir():
        if child.is_dir() and child.name.isidentifier() and child.name != "__pycache__":
            names.add(child.name)
        elif child.suffix == ".py" and child.stem.isidentifier():
            names.add(child.stem)
    return frozenset(names)


def _relative(path: Path, root: Path) -> str:
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved != root else "."
