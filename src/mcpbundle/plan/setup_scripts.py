"""Dependencies a setuptools project declares outside ``pyproject.toml``.

An older shared library (or server) has only ``setup.cfg`` (``[options] install_requires``)
or a ``setup.py`` calling ``setup(install_requires=[...])``. Both are read statically:
``setup.cfg`` with :mod:`configparser`, ``setup.py`` with :mod:`ast` (a literal list, or
a module-level name bound to one); the script is never run. A ``setup.py`` whose list is
computed (read from a file, built in a loop) cannot be read: :func:`setup_dependencies`
then says so instead of guessing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from mcpbundle.plan.ast_walk import walk
from mcpbundle.plan.requirements import ReqLine, parse_requirement_text, relative_display


@dataclass(frozen=True, kw_only=True)
class SetupDependencies:
    """The requirements a ``setup.py`` / ``setup.cfg`` declares, and whether they could be read."""

    source: str  # repo-relative setup.cfg or setup.py
    lines: tuple[ReqLine, ...]
    readable: bool = True  # False: setup.py computes install_requires


def setup_dependencies(
    directory: Path, root: Path, *, shown: str | None = None
) -> SetupDependencies | None:
    """What ``setup.cfg`` or ``setup.py`` in ``directory`` installs; None when neither
    declares ``install_requires``. Files are named relative to ``root``, or as
    ``"<shown>: setup.cfg"`` (a git checkout, named by its requirement)."""
    cfg = directory / "setup.cfg"
    if cfg.is_file():
        found = _from_cfg(cfg, _display(cfg, root, shown))
        if found is not None:
            return found
    script = directory / "setup.py"
    if script.is_file():
        return _from_script(script, _display(script, root, shown))
    return None


def _display(path: Path, root: Path, shown: str | None) -> str:
    return f"{shown}: {path.name}" if shown is not None else relative_display(path, root)


def _from_cfg(path: Path, display: str) -> SetupDependencies | None:
    import configparser  # only for a setup.cfg

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError, OSError):
        return None
    if not parser.has_option("options", "install_requires"):
        return None
    raw = parser.get("options", "install_requires")
    entries = [
        entry for entry in (line.split("#")[0].strip() for line in raw.splitlines()) if entry
    ]
    where = f"{display}: options.install_requires"
    lines = tuple(parse_requirement_text(e, origin=where, base=path.parent) for e in entries)
    return SetupDependencies(source=display, lines=lines)


def _from_script(path: Path, display: str) -> SetupDependencies | None:
    try:
        tree = ast.parse(path.read_bytes(), str(path))
    except (SyntaxError, ValueError, OSError):
        return None
    bound: dict[str, ast.expr] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            if isinstance(target, ast.Name):
                bound[target.id] = statement.value
    for node in walk(tree):
        if not (isinstance(node, ast.Call) and _is_setup(node.func)):
            continue
        for keyword in node.keywords:
            if keyword.arg != "install_requires":
                continue
            value = keyword.value
            if isinstance(value, ast.Name):
                value = bound.get(value.id, value)
            entries = _literal_strings(value)
            if entries is None:
                return SetupDependencies(source=display, lines=(), readable=False)
            lines = tuple(
                parse_requirement_text(e, origin=f"{display}: install_requires", base=path.parent)
                for e in entries
            )
            return SetupDependencies(source=display, lines=lines)
    return None


def _is_setup(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id == "setup"
    return isinstance(func, ast.Attribute) and func.attr == "setup"


def _literal_strings(value: ast.expr) -> list[str] | None:
    if not isinstance(value, ast.List | ast.Tuple):
        return None
    entries = []
    for element in value.elts:
        if not (isinstance(element, ast.Constant) and isinstance(element.value, str)):
            return None
        if element.value.strip():
            entries.append(element.value.strip())
    return entries
