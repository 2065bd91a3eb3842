"""Folders above the entry (or its project's ``src/``) its absolute imports need on ``sys.path``.

FastMCP's file loader puts only the entry's own folder (or, for a package, the folder
above its top package) on ``sys.path``. A server developed with a source root above
that, ``src/`` of a Poetry project whose folders are namespace packages
(``src/weather_mcp/main.py`` importing ``config.settings`` from ``src/config/``), or
the repository root (``servers/housekeeping.py`` importing ``shared.embeddings``), loads
under its own setup and fails on the host: ``No module named 'config'``. The entry's
imports (and those of the modules beside it that it imports) that resolve in no folder
the loader gives but in one above it, inside the server, name the folders the shim
adds.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.backend_packages import declared_packages

# a top-level name a folder of the project shadows only when the code means it
_STDLIB = frozenset(sys.stdlib_module_names)


def ancestor_reason(
    tree: ast.Module,
    entry_file: Path,
    bound: Path | None,
    top: str | None,
    parse: Callable[[Path], ast.Module | None],
) -> tuple[tuple[Path, ...], tuple[str, ...]]:
    """The folders :func:`ancestor_imports` finds (those of the entry's own top package
    ``top`` aside: the shim's source root covers them) and the shim reason they give."""
    if bound is None:
        return (), ()
    found = {
        d: names
        for d, names in ancestor_imports(tree, entry_file, bound, parse).items()
        if any(n.split(".")[0] != top for n in names)
    }
    if not found:
        return (), ()
    shown = sorted(n for names in found.values() for n in names)
    where = ", ".join(d.relative_to(bound).as_posix() for d in sorted(found))
    more = " ..." if len(shown) > 3 else ""
    reason = (
        f"{entry_file.name}: imports {', '.join(shown[:3])}{more} from {where}, which is not on "
        "the host's sys.path (the entry's folder)"
    )
    return tuple(sorted(found)), (reason,)


def ancestor_imports(
    tree: ast.Module,
    entry_file: Path,
    bound: Path,
    parse: Callable[[Path], ast.Module | None],
) -> dict[Path, tuple[str, ...]]:
    """Folders above the entry's, up to ``bound`` (the server directory), in which the
    entry's absolute imports resolve while they do not beside it: folder -> the modules
    it provides (the nearest folder per module). A module counts only when its whole
    dotted path is there (``config/settings.py`` for ``config.settings``), so a folder
    merely named like an installed package does not."""
    here = entry_file.parent
    above = _above(here, bound)
    if not above:
        return {}
    modules = _modules([tree])
    siblings = {here / f"{module.split('.')[0]}.py" for module in modules} - {entry_file}
    others = [t for s in sorted(siblings) if s.is_file() and (t := parse(s)) is not None]
    found: dict[Path, set[str]] = {}
    candidates: list[Path] | None = None  # the project's roots are read at the first miss
    for module in sorted(modules | _modules(others)):
        if module.split(".")[0] in _STDLIB or _provides(here, module):
            continue
        if candidates is None:
            candidates = [*above[1:], *(r for r in project_roots(bound) if r not in above)]
        for directory in candidates:
            if _provides(directory, module):
                found.setdefault(directory, set()).add(module)
                break
    return {d: tuple(sorted(names)) for d, names in found.items()}


def project_roots(bound: Path) -> list[Path]:
    """The folders of the server's own project its packages install from, when that is
    not the server directory: what its build backend takes them from (``packages =
    ["src/notes_kit"]``: ``src``), else the ``src/`` of a project that has one.
    ``pip install -e .`` or ``uv sync`` puts it on ``sys.path`` at home; the host
    installs no project."""
    found = declared_packages(bound / "pyproject.toml", bound)
    if found is not None:
        roots = [found[0]]
    elif (bound / "src").is_dir() and any(
        (bound / name).is_file() for name in ("pyproject.toml", "setup.py", "setup.cfg")
    ):
        roots = [bound / "src"]
    else:
        return []
    resolved = [root.resolve() for root in roots]
    return [root for root in resolved if root != bound and root.is_relative_to(bound)]


def _above(start: Path, bound: Path) -> list[Path]:
    """``start`` and its parents up to and including ``bound``, nearest first."""
    if not start.is_relative_to(bound):
        return []
    chain = [start]
    while chain[-1] != bound:
        chain.append(chain[-1].parent)
    return chain


def _modules(trees: Iterable[ast.Module]) -> set[str]:
    """Every module imported absolutely (``from a.b import c``: ``a.b``)."""
    names: set[str] = set()
    for tree in trees:
        for node in walk(tree):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
    return names


def _provides(directory: Path, module: str) -> bool:
    """The dotted ``module`` is a file or a folder of Python code below ``directory``."""
    path = directory.joinpath(*module.split("."))
    if (path.parent / f"{path.name}.py").is_file():
        return True
    if not path.is_dir():
        return False
    return (path / "__init__.py").is_file() or any(
        child.suffix == ".py" or (child / "__init__.py").is_file() for child in path.iterdir()
    )


def sibling_imports(tree: ast.Module, directory: Path) -> tuple[str, ...]:
    """Top-level names the entry imports that are modules in its own directory."""
    found: set[str] = set()
    for node in walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module.split(".")[0]]
        elif isinstance(node, ast.Import):
            names = [a.name.split(".")[0] for a in node.names]
        for name in names:
            if (directory / f"{name}.py").is_file() or (directory / name / "__init__.py").is_file():
                found.add(name)
    return tuple(sorted(found))
