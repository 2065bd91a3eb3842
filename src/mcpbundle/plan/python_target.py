"""Which Python each server is built for, and whether its code allows it.

The target is ``[bundle] python`` when set, else the ``environment.python`` of the
server's ``fastmcp.json`` (what ``fastmcp run fastmcp.json`` runs it on), else the
nearest ``.python-version`` from the server's directory up to the repository root (the
server's, else the repository's, as pyenv and uv read it), else the Python running
mcpbundle, with
one warning that the pins are for it. A target outside the ``requires-python``
of the server's project (or of a library vendored into it) is an error naming both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from mcpbundle.base.errors import ConfigError
from mcpbundle.base.interpreters import RUNNING_PYTHON
from mcpbundle.base.listing import first_few
from mcpbundle.config.read import read_toml

VERSION_FILE = ".python-version"
_VERSION = re.compile(r"^(?:cpython-|python)?(3)\.(\d{1,2})(?:[.\-/].*)?$")


@dataclass(frozen=True, kw_only=True)
class Target:
    """The Python a server is built for, and where that version came from."""

    version: str  # "3.12"
    origin: str  # where it came from, for messages and the manifest
    configured: bool  # False: nothing chose it, the running Python was taken


def server_target(
    root: Path,
    server_dir: str,
    configured: str | None,
    display: str,
    declared: tuple[str, str] | None = None,
) -> Target:
    """The target Python of the server in ``root / server_dir``; ``declared``: ``(3.Y,
    where)`` its fastmcp.json's ``environment.python`` names, which beats a
    ``.python-version`` as ``fastmcp run fastmcp.json`` does."""
    if configured is not None:
        return Target(version=configured, origin=f"[bundle] python in {display}", configured=True)
    if declared is not None:
        return Target(version=declared[0], origin=declared[1], configured=True)
    found = version_file(root / server_dir, root)
    if found is not None:
        version, path = found
        return Target(version=version, origin=path, configured=True)
    return Target(version=RUNNING_PYTHON, origin="the running Python", configured=False)


def version_file(directory: Path, root: Path) -> tuple[str, str] | None:
    """``(X.Y, repo-relative file)`` of the nearest ``.python-version`` naming a CPython 3."""
    root = root.resolve()
    current = directory.resolve()
    while current.is_relative_to(root):
        candidate = current / VERSION_FILE
        if candidate.is_file():
            version = parse_version_file(candidate)
            if version is not None:
                return version, candidate.relative_to(root).as_posix()
        if current == root:
            break
        current = current.parent
    return None


def parse_version_file(path: Path) -> str | None:
    """``3.12`` from a ``.python-version`` (``3.12``, ``3.12.1``, ``cpython-3.12.1-...``)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        match = _VERSION.match(entry)
        return f"{match.group(1)}.{match.group(2)}" if match else None
    return None


def running_python_warning(servers: Iterable[str]) -> str:
    names = first_few(list(servers))
    return (
        f"no [bundle] python and no {VERSION_FILE} for {names}: pins are for the running "
        f'Python {RUNNING_PYTHON}; set [bundle] python = "3.X" to the version the host runs'
    )


def check_requires_python(
    target: Target,
    pyprojects: Iterable[Path],
    root: Path,
    declared: Iterable[tuple[str, str]] = (),
) -> str | None:
    """Every ``requires-python`` of ``pyprojects`` and of ``declared`` (``(where, text)``:
    an entrypoint's ``# /// script`` block) joined (``">=3.12.1, <3.14"``; None when none
    has one); ConfigError when ``target`` is outside one of them.

    The line fits when any of its releases does; which release does is verify's to choose
    (3.12 fits ">=3.12.1", and verify must not load it under 3.12.0)."""
    found: list[tuple[str, str]] = []
    for path in pyprojects:
        if not path.is_file():
            continue
        display = path.resolve().relative_to(root.resolve()).as_posix()
        project = read_toml(path, display=display).get("project")
        spec_text = project.get("requires-python") if isinstance(project, dict) else None
        if isinstance(spec_text, str) and spec_text.strip():
            found.append((f"{display}: project.requires-python", spec_text))
    found += declared
    bounds: list[str] = []
    for where, spec_text in found:
        try:
            spec = SpecifierSet(spec_text)
        except InvalidSpecifier:
            continue  # the project's own tools report this; it decides nothing here
        # Any release of the X.Y line may be what the host runs: 3.12 fits ">=3.12.1".
        if not any(spec.contains(f"{target.version}.{patch}") for patch in (0, 99)):
            raise ConfigError(
                f"the target Python {target.version} (from {target.origin}) is outside "
                f"requires-python {spec_text!r}",
                where=where,
                hint="set [bundle] python to a version it allows, or change requires-python",
            )
        bounds.append(spec_text.strip())
    return ", ".join(dict.fromkeys(bounds)) or None
