"""Read a Pipenv ``Pipfile``: its ``[packages]``, as requirement entries.

A server (or library) managed with Pipenv has no ``requirements.txt``; its
dependencies are TOML: ``httpx = "*"``, ``requests = ">=2.31"``, ``rich = {version =
"~=13.0", extras = ["jupyter"]}``, ``shared = {path = "../shared", editable = true}``,
``tool = {git = "https://...", ref = "v1"}``. Each becomes the :class:`ReqLine` the same
entry in a requirements file would; ``[dev-packages]`` are not the runtime's.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.read import read_toml
from mcpbundle.plan.requirements import (
    ReqLine,
    check_local_path,
    git_line,
    parse_requirement_text,
    path_line,
    relative_display,
)

PIPFILE = "Pipfile"


def read_pipfile(path: Path, *, root: Path) -> list[ReqLine]:
    """The entries of ``[packages]`` in ``path``, in file order."""
    display = relative_display(path, root)
    data = read_toml(path, display=display)
    packages = data.get("packages", {})
    if not isinstance(packages, dict):
        raise ConfigError(
            f"must be a table, got {type(packages).__name__}",
            where=f"{display}: packages",
            hint='write [packages] with entries such as httpx = "*"',
        )
    lines = []
    for name, spec in packages.items():
        where = f"{display}: packages.{name}"
        lines.append(check_local_path(_line(str(name), spec, where, path.parent), root=root))
    return lines


def _line(name: str, spec: Any, where: str, base: Path) -> ReqLine:
    if isinstance(spec, str):
        return parse_requirement_text(name + _specifier(spec), origin=where, base=base)
    if not isinstance(spec, dict):
        raise ConfigError(
            f"must be a version string or a table, got {type(spec).__name__}",
            where=where,
            hint=f'write {name} = "*" or {name} = {{version = ">=1.0"}}',
        )
    extras = spec.get("extras")
    named = name + (f"[{','.join(str(e) for e in extras)}]" if isinstance(extras, list) else "")
    if "path" in spec or "file" in spec:
        target = str(spec.get("path") or spec.get("file"))
        line = path_line(
            f"{name} = {{path = {target!r}}}", where, base / target,
            bool(spec.get("editable")), False, None,
        )  # fmt: skip
        return _with_extras(line, named, base, where)
    if "git" in spec:
        ref = spec.get("ref")
        url = "git+" + str(spec["git"]) + (f"@{ref}" if ref else "")
        text = f"{name} = {{git = {spec['git']!r}}}"
        editable = bool(spec.get("editable"))
        return git_line(text, url, where, editable, False, name=canonicalize_name(name))
    markers = spec.get("markers")
    marker = f"; {markers}" if isinstance(markers, str) and markers.strip() else ""
    return parse_requirement_text(
        named + _specifier(str(spec.get("version", "*"))) + marker, origin=where, base=base
    )


def _with_extras(line: ReqLine, named: str, base: Path, where: str) -> ReqLine:
    """The path line with the extras ``named`` asks for (``shared[x] = {path = ...}``)."""
    if "[" not in named:
        return line
    extras = parse_requirement_text(named, origin=where, base=base).extras
    return replace(line, extras=extras)


def _specifier(version: str) -> str:
    """Pipenv's ``"*"`` is any version; ``"1.2"`` alone means ``==1.2``."""
    version = version.strip()
    if version in ("", "*"):
        return ""
    if version[0].isdigit():
        return f"=={version}"
    return version
