"""The import packages a library's build backend says it ships.

A library's ``pyproject.toml`` often names its packages for its build backend, and
that answer beats guessing from the directory layout, above all for namespace packages
(``src/acme/common/`` with no ``acme/__init__.py``), which layout discovery cannot
tell from a folder of scripts. Read, never built: hatch's wheel ``packages``,
setuptools' ``packages`` / ``package-dir`` / ``packages.find``, Poetry's ``packages``,
uv's build backend ``module-name`` / ``module-root``, flit's ``module``, PDM's
``includes`` / ``package-dir``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

Found = tuple[Path, tuple[str, ...]]  # (source root, dotted import names)


def declared_packages(pyproject: Path, directory: Path) -> Found | None:
    """What the build backend in the ``pyproject`` file of ``directory`` ships; None when
    the file is missing or unreadable (:func:`mcpbundle.plan.pyproject.read_pyproject`
    reports a broken one) or names nothing that exists."""
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return backend_packages(data, directory)


def backend_packages(data: Mapping[str, Any], directory: Path) -> Found | None:
    """What the backend configured in ``data`` (a parsed pyproject.toml of the library in
    ``directory``) ships; None when it names nothing that exists."""
    tool = _table(data.get("tool"))
    for reader in (_hatch, _setuptools, _poetry, _uv, _flit, _pdm):
        found = reader(tool, data, directory)
        if found is not None and found[1]:
            return found[0], tuple(sorted(set(found[1])))
    return None


def _hatch(tool: Mapping[str, Any], _data: Mapping[str, Any], directory: Path) -> Found | None:
    wheel = _table(
        _table(_table(_table(tool.get("hatch")).get("build")).get("targets")).get("wheel")
    )
    paths = wheel.get("packages")
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return None
    return _from_paths(directory, [str(p) for p in paths])


def _setuptools(tool: Mapping[str, Any], _data: Mapping[str, Any], directory: Path) -> Found | None:
    table = _table(tool.get("setuptools"))
    package_dir = _table(table.get("package-dir"))
    base = (
        directory / str(package_dir.get("", ""))
        if isinstance(package_dir.get(""), str)
        else directory
    )
    packages = table.get("packages")
    if isinstance(packages, list) and all(isinstance(p, str) for p in packages):
        return _existing(base, [str(p) for p in packages])
    find = _table(_table(packages).get("find")) if isinstance(packages, dict) else {}
    where = find.get("where")
    if isinstance(where, list) and len(where) == 1 and isinstance(where[0], str):
        from mcpbundle.plan.lib_discovery import namespace_packages, top_packages

        root = directory / where[0]
        include = find.get("include")
        names = top_packages(root) or namespace_packages(root)
        if isinstance(include, list) and include:
            prefixes = tuple(str(p).rstrip("*").rstrip(".") for p in include if isinstance(p, str))
            names = tuple(n for n in names if n.startswith(prefixes) or any(
                p.startswith(n + ".") for p in prefixes))  # fmt: skip
        return (root, names) if names else None
    return None


def _poetry(tool: Mapping[str, Any], _data: Mapping[str, Any], directory: Path) -> Found | None:
    entries = _table(tool.get("poetry")).get("packages")
    if not isinstance(entries, list):
        return None
    roots: set[str] = set()
    names: list[str] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("include"), str):
            return None
        include = str(entry["include"])
        origin = entry.get("from", "")
        if not isinstance(origin, str) or any(ch in include for ch in "*?["):
            return None
        roots.add(origin)
        names.append(include.replace("/", ".").removesuffix(".py"))
    if len(roots) != 1:
        return None
    return _existing(directory / roots.pop(), names)


def _uv(tool: Mapping[str, Any], data: Mapping[str, Any], directory: Path) -> Found | None:
    backend = _table(_table(tool.get("uv")).get("build-backend"))
    system = _table(data.get("build-system")).get("build-backend")
    if not backend and system != "uv_build":
        return None
    module_root = backend.get("module-root", "src")
    names = backend.get("module-name")
    if names is None:
        project = _table(data.get("project")).get("name")
        names = str(project).replace("-", "_").replace(".", "_").lower() if project else None
    listed = [names] if isinstance(names, str) else names
    if not isinstance(module_root, str) or not isinstance(listed, list):
        return None
    return _existing(directory / module_root, [str(n) for n in listed])


def _flit(tool: Mapping[str, Any], _data: Mapping[str, Any], directory: Path) -> Found | None:
    name = _table(_table(tool.get("flit")).get("module")).get("name")
    if not isinstance(name, str):
        return None
    for base in (directory / "src", directory):
        found = _existing(base, [name])
        if found is not None:
            return found
    return None


def _pdm(tool: Mapping[str, Any], _data: Mapping[str, Any], directory: Path) -> Found | None:
    """pdm-backend: ``includes`` lists the packages or modules by path; without it the
    packages under ``package-dir`` ship (pdm's own default, ``src`` or the project
    folder, is what layout discovery finds anyway)."""
    build = _table(_table(tool.get("pdm")).get("build"))
    includes = build.get("includes")
    if isinstance(includes, list) and includes and all(isinstance(p, str) for p in includes):
        paths = [str(p).rstrip("/") for p in includes]
        if any(ch in p for p in paths for ch in "*?["):
            return None
        return _from_paths(directory, [p.removesuffix(".py") for p in paths])
    package_dir = build.get("package-dir")
    if not isinstance(package_dir, str):
        return None
    from mcpbundle.plan.lib_discovery import namespace_packages, top_packages

    root = directory / package_dir
    names = top_packages(root) or namespace_packages(root)
    return (root, names) if names else None


def _from_paths(directory: Path, paths: list[str]) -> Found | None:
    """hatch's ``packages = ["src/acme"]``: each entry's parent is a source root."""
    roots = {PurePosixPath(p).parent.as_posix() for p in paths}
    if len(roots) != 1:
        return None
    root = roots.pop()
    base = directory if root in ("", ".") else directory / root
    return _existing(base, [PurePosixPath(p).name for p in paths])


def _existing(base: Path, names: list[str]) -> Found | None:
    def exists(dotted: str) -> bool:
        path = base.joinpath(*dotted.split("."))
        return path.is_dir() or path.with_suffix(".py").is_file()

    kept = [n for n in names if n and all(part.isidentifier() for part in n.split("."))]
    if not kept or not all(exists(n) for n in kept):
        return None
    # a package listed with its subpackages ("acme", "acme.x") ships once, whole
    outer = [n for n in kept if not any(n.startswith(o + ".") for o in kept if o != n)]
    return base, tuple(outer)


def _table(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
