"""Read a ``pyproject.toml``: dependencies, sources, entry points.

PEP 621 ``[project].dependencies`` with ``[tool.uv.sources]`` applied (path,
workspace, git), or Poetry's ``[tool.poetry.dependencies]`` (path, git and
version constraints), each entry classified by :mod:`mcpbundle.plan.requirements`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.read import read_toml
from mcpbundle.plan.extras_names import canonical_extras
from mcpbundle.plan.locks import workspace_root_of
from mcpbundle.plan.requirements import (
    ReqLine,
    check_local_path,
    git_line,
    parse_requirement_text,
    path_line,
    relative_display,
)


@dataclass(frozen=True, kw_only=True)
class ProjectInfo:
    """What mcpbundle reads from a ``pyproject.toml``."""

    name: str | None  # canonical [project].name
    version: str | None
    dependencies: tuple[ReqLine, ...]
    has_dependencies: bool  # [project].dependencies (or Poetry dependencies) is declared
    entry_points: Mapping[str, Mapping[str, str]]
    has_build_system: bool
    # [project.optional-dependencies]: canonical extra name -> its requirements, or the
    # error reading them (raised only for a server that asks for the extra)
    extras: Mapping[str, tuple[ReqLine, ...] | ConfigError] = field(default_factory=dict)


def read_pyproject(path: Path, *, root: Path) -> ProjectInfo:
    """Read a pyproject: PEP 621 deps with ``[tool.uv.sources]`` and Poetry path deps applied."""
    display = relative_display(path, root)
    data = read_toml(path, display=display)
    project: dict[str, Any] = (
        data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    )
    tool: dict[str, Any] = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    # uv: a workspace root's [tool.uv.sources] apply to every member, unless the member's
    # own table names the same package
    sources = {**_inherited_uv_sources(path, root), **_uv_sources(tool)}
    lines: list[ReqLine] = []
    raw_deps = project.get("dependencies")
    if raw_deps is not None and not isinstance(raw_deps, list):
        raise ConfigError(
            f"must be a list of strings, got {type(raw_deps).__name__}",
            where=f"{display}: project.dependencies",
            hint='write dependencies = ["name>=1.0", ...]',
        )
    has_deps = isinstance(raw_deps, list)
    lines.extend(_pep621_lines(raw_deps, f"{display}: project.dependencies", path, sources, root))
    extras = _optional_dependencies(project, display, path, sources, root)
    poetry = tool.get("poetry", {}) if isinstance(tool.get("poetry"), dict) else {}
    poetry_deps = poetry.get("dependencies", {})
    if isinstance(poetry_deps, dict) and not has_deps:
        has_deps = bool(poetry_deps)
        for dep_name, spec in poetry_deps.items():
            if canonicalize_name(dep_name) == "python":
                continue
            if isinstance(spec, dict) and spec.get("optional") is True:
                continue  # installed only with the project's own extra, which no host asks for
            where = f"{display}: tool.poetry.dependencies.{dep_name}"
            line = _poetry_line(dep_name, spec, where, path.parent)
            lines.append(check_local_path(line, root=root))
    name = project.get("name") or poetry.get("name")
    version = project.get("version") or poetry.get("version")
    entry_points: dict[str, dict[str, str]] = {}
    scripts = project.get("scripts")
    if isinstance(scripts, dict):
        entry_points["console_scripts"] = {str(k): str(v) for k, v in scripts.items()}
    groups = project.get("entry-points")
    if isinstance(groups, dict):
        for group, items in groups.items():
            if isinstance(items, dict):
                entry_points[str(group)] = {str(k): str(v) for k, v in items.items()}
    return ProjectInfo(
        name=canonicalize_name(name) if isinstance(name, str) and name else None,
        version=str(version) if isinstance(version, str) else None,
        dependencies=tuple(lines),
        has_dependencies=has_deps,
        entry_points=entry_points,
        has_build_system="build-system" in data,
        extras=extras,
    )


def _pep621_lines(
    raw: object,
    key: str,
    path: Path,
    sources: Mapping[str, Mapping[str, Any]],
    root: Path,
    *,
    check: bool = True,
) -> list[ReqLine]:
    lines = []
    for index, dep in enumerate(raw if isinstance(raw, list) else []):
        where = f"{key}[{index}]"
        if not isinstance(dep, str):
            raise ConfigError(
                f"must be a string, got {type(dep).__name__}",
                where=where,
                hint="write a PEP 508 requirement such as 'name>=1.0'",
            )
        line = parse_requirement_text(dep, origin=where, base=path.parent)
        line = _apply_uv_source(line, sources, path.parent, where)
        lines.append(check_local_path(line, root=root) if check else line)
    return lines


def _optional_dependencies(
    project: Mapping[str, Any],
    display: str,
    path: Path,
    sources: Mapping[str, Mapping[str, Any]],
    root: Path,
) -> dict[str, tuple[ReqLine, ...] | ConfigError]:
    """``[project.optional-dependencies]``: what a library's extras add when a server names
    them (``core[table]``). An extra no server asks for never fails a build: an entry that
    does not parse is kept as its error, a path that does not exist fails where it is used."""
    table = project.get("optional-dependencies")
    if not isinstance(table, dict):
        return {}
    extras: dict[str, tuple[ReqLine, ...] | ConfigError] = {}
    for extra, raw in table.items():
        key = f"{display}: project.optional-dependencies.{extra}"
        name = canonical_extras([extra])
        if not name:
            continue
        try:
            if not isinstance(raw, list):
                raise ConfigError(
                    f"must be a list of strings, got {type(raw).__name__}",
                    where=key,
                    hint=f'write {extra} = ["name>=1.0", ...]',
                )
            extras[name[0]] = tuple(_pep621_lines(raw, key, path, sources, root, check=False))
        except ConfigError as exc:
            extras[name[0]] = exc
    return extras


def project_name(path: Path) -> str | None:
    """The canonical ``[project].name`` (or Poetry name) of ``path``; None when unreadable."""
    try:
        data = read_toml(path, display=path.name)
    except ConfigError:
        return None
    for table in (data.get("project"), _subtable(_subtable(data, "tool"), "poetry")):
        if isinstance(table, dict) and isinstance(table.get("name"), str) and table["name"]:
            return canonicalize_name(table["name"])
    return None


def _subtable(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _uv_sources(tool: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    uv = tool.get("uv", {})
    sources = uv.get("sources", {}) if isinstance(uv, dict) else {}
    if not isinstance(sources, dict):
        return {}
    return {canonicalize_name(k): v for k, v in sources.items() if isinstance(v, dict)}


def _inherited_uv_sources(path: Path, root: Path) -> dict[str, Mapping[str, Any]]:
    """The ``[tool.uv.sources]`` of the uv workspace root ``path`` is a member of (not
    ``path`` itself), with ``path`` sources made absolute: they are relative to the root."""
    ws_root = workspace_root_of(path.parent, root)
    if ws_root is None or ws_root.resolve() == path.parent.resolve():
        return {}
    try:
        data = read_toml(ws_root / "pyproject.toml", display="pyproject.toml")
    except ConfigError:
        return {}
    inherited = _uv_sources(_subtable(data, "tool"))
    return {
        name: {**src, "path": str((ws_root / str(src["path"])).resolve())} if "path" in src else src
        for name, src in inherited.items()
    }


def _apply_uv_source(
    line: ReqLine, sources: Mapping[str, Mapping[str, Any]], base: Path, where: str
) -> ReqLine:
    if line.kind != "pypi" or line.name is None or line.name not in sources:
        return line
    source = sources[line.name]
    text = f"{line.text}  # [tool.uv.sources] {line.name}"
    if "path" in source:
        found = path_line(
            text, where, base / str(source["path"]), bool(source.get("editable")), False, line.name
        )
        return replace(found, extras=line.extras)
    if "git" in source:
        ref = source.get("rev") or source.get("tag") or source.get("branch")
        url = "git+" + str(source["git"]) + (f"@{ref}" if ref else "")
        if source.get("subdirectory"):
            url += f"#subdirectory={source['subdirectory']}"
        return git_line(text, url, where, False, False, name=line.name)
    if source.get("workspace"):
        return ReqLine(
            text=text, origin=where, kind="path", name=line.name, path=None, editable=True,
            extras=line.extras,
        )  # fmt: skip
    return line


def _poetry_line(name: str, spec: object, where: str, base: Path) -> ReqLine:
    canonical = canonicalize_name(name)
    if isinstance(spec, dict):
        if "path" in spec:
            found = path_line(
                f"{name} = {{path = {spec['path']!r}}}",
                where,
                base / str(spec["path"]),
                bool(spec.get("develop")),
                False,
                canonical,
            )
            return replace(found, extras=canonical_extras(spec.get("extras")))
        if "git" in spec:
            ref = spec.get("rev") or spec.get("tag") or spec.get("branch")
            url = "git+" + str(spec["git"]) + (f"@{ref}" if ref else "")
            return git_line(
                f"{name} = {{git = {spec['git']!r}}}", url, where, False, False, name=canonical
            )
        version = str(spec.get("version", "*"))
        extras = spec.get("extras")
        if isinstance(extras, list) and extras:
            name += f"[{','.join(str(e) for e in extras)}]"
        markers = spec.get("markers")
        marker = f"; {markers}" if isinstance(markers, str) and markers.strip() else ""
    else:
        version, marker = str(spec), ""
    text = name + poetry_specifier(version) + marker
    return parse_requirement_text(text, origin=where, base=base)


def poetry_specifier(version: str) -> str:
    """Poetry's ``^1.2`` / ``~1.2`` / ``*`` as a PEP 440 specifier.

    ``^`` keeps the left-most non-zero component fixed (``^1.2`` -> ``<2``,
    ``^0.2.3`` -> ``<0.3``, ``^0.0.3`` -> ``<0.0.4``, ``^0`` -> ``<1``); ``~``
    fixes major.minor (``~1.2.3`` -> ``<1.3``) or only major (``~1`` -> ``<2``).
    Anything that is not such a constraint is passed on (and validated) as is.
    """
    version = version.strip()
    if version in ("", "*"):
        return ""
    if version.startswith("^"):
        release = _release(version[1:])
        if release is None:
            return version
        given = len(version[1:].split("."))
        index = next((i for i, part in enumerate(release[:given]) if part != 0), given - 1)
        upper = [*release[:index], release[index] + 1]
        return f">={version[1:]},<{'.'.join(map(str, upper))}"
    if version.startswith("~") and not version.startswith("~="):
        release = _release(version[1:])
        if release is None:
            return version
        keep = 2 if len(version[1:].split(".")) > 1 else 1
        upper = [*release[: keep - 1], release[keep - 1] + 1]
        return f">={version[1:]},<{'.'.join(map(str, upper))}"
    if version[0].isdigit():
        return f"=={version}"
    return version


def _release(text: str) -> tuple[int, ...] | None:
    try:
        release = Version(text).release
    except InvalidVersion:
        return None
    return release + (0,) * (3 - len(release)) if len(release) < 3 else release
