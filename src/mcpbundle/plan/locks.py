"""Lock files decide versions: read the pins a repository already committed to.

Supported: ``uv.lock``, ``poetry.lock``, ``pylock.toml`` / ``pylock.<name>.toml``
(PEP 751) and a fully pinned requirements file. Only packages that come from a
package index are pins; workspace members, editable/path/directory, git and URL
sources are skipped. A name locked at more than one version (forked resolutions
by environment marker) is ambiguous and skipped too. :func:`preferences_for` turns
pins into ``name==version`` lines the resolver takes as its previous output, so it
keeps these versions where they satisfy the server's requirements.
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement
from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError
from mcpbundle.plan.parsed_requirement import parsed
from mcpbundle.plan.pinned_text import logical_lines

# Nearest-first search order inside one directory.
LOCK_NAMES = ("uv.lock", "pylock.toml", "poetry.lock", "requirements.lock", "requirements.txt")
_REQUIREMENT_LOCKS = frozenset({"requirements.lock", "requirements.txt"})
_SKIP_UV_SOURCES = frozenset(
    {"editable", "virtual", "path", "directory", "workspace", "git", "url"}
)
_SKIP_POETRY_SOURCES = frozenset({"git", "directory", "file", "url"})
_SKIP_PYLOCK_KEYS = ("vcs", "directory", "archive")
# pip options a pinned file may carry that do not affect what is pinned.
_HARMLESS_OPTIONS = (
    "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "--no-index",
    "--trusted-host", "--prefer-binary", "--only-binary", "--no-binary", "--require-hashes",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class LockPins:
    """Versions a lock file fixes: ``{canonical name: version}``."""

    source: str  # the lock file, as given
    kind: str  # "uv.lock", "poetry.lock", "pylock.toml", "requirements"
    pins: Mapping[str, str] = field(default_factory=dict)


def is_lock_name(name: str) -> bool:
    return name in LOCK_NAMES or (name.startswith("pylock.") and name.endswith(".toml"))


def read_lock_pins(path: Path) -> LockPins | None:
    """The pins of ``path``; None for a requirements file that is not fully pinned."""
    name = path.name
    if name == "uv.lock":
        return LockPins(source=str(path), kind="uv.lock", pins=_uv(_toml(path)))
    if name == "poetry.lock":
        return LockPins(source=str(path), kind="poetry.lock", pins=_poetry(_toml(path)))
    if name.startswith("pylock.") and name.endswith(".toml"):
        return LockPins(source=str(path), kind="pylock.toml", pins=_pylock(_toml(path)))
    pins = _pinned_requirements(path)
    return None if pins is None else LockPins(source=str(path), kind="requirements", pins=pins)


def find_lock(server_dir: Path, repo_root: Path) -> Path | None:
    """The nearest lock in ``server_dir`` or its parents up to ``repo_root`` (inclusive).

    Requirements files count only when fully pinned; the search goes on past one
    that is not. A ``pylock.<name>.toml`` counts after ``pylock.toml``.
    """
    root = repo_root.resolve()
    directory = server_dir.resolve()
    if not directory.is_relative_to(root):
        return None
    while True:
        for candidate in _candidates(directory):
            if candidate.name not in _REQUIREMENT_LOCKS:
                return candidate
            try:
                if _pinned_requirements(candidate) is not None:
                    return candidate
            except ConfigError:
                continue
        if directory in (root, directory.parent):
            return None
        directory = directory.parent


def _candidates(directory: Path) -> list[Path]:
    """Lock files in ``directory``, in ``LOCK_NAMES`` order with ``pylock.*.toml`` after
    ``pylock.toml``."""
    found: list[Path] = []
    for name in LOCK_NAMES:
        if (directory / name).is_file():
            found.append(directory / name)
        if name == "pylock.toml":
            found.extend(sorted(p for p in directory.glob("pylock.*.toml") if p.is_file()))
    return found


def preferences_for(lock: LockPins, names: Iterable[str]) -> list[str]:
    """``name==version`` lines (sorted) for the ``names`` the lock pins."""
    wanted = {canonicalize_name(n) for n in names}
    return [f"{n}=={lock.pins[n]}" for n in sorted(wanted) if n in lock.pins]


def workspace_root_dependencies(server_dir: Path, repo_root: Path) -> tuple[list[str], str | None]:
    """``[project].dependencies`` of the uv workspace root whose members include the server.

    Returns the dependencies and the root ``pyproject.toml`` (repo-relative POSIX
    path), or ``([], None)`` when the server is in no uv workspace.
    """
    ws_root = workspace_root_of(server_dir, repo_root)
    if ws_root is None:
        return [], None
    pyproject = ws_root / "pyproject.toml"
    project = _toml(pyproject).get("project", {})
    deps = project.get("dependencies", []) if isinstance(project, dict) else []
    display = pyproject.relative_to(repo_root.resolve()).as_posix()
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise ConfigError(
            "[project].dependencies must be a list of strings",
            where=display,
            hint="fix the workspace root's pyproject.toml",
        )
    return list(deps), display


def workspace_root_of(directory: Path, repo_root: Path) -> Path | None:
    """The directory whose ``pyproject.toml`` declares a uv workspace ``directory`` is in."""
    root = repo_root.resolve()
    start = directory.resolve()
    if not start.is_relative_to(root):
        return None
    for candidate in [start, *start.parents]:
        if not candidate.is_relative_to(root):
            break
        pyproject = candidate / "pyproject.toml"
        if pyproject.is_file():
            workspace = _workspace_table(pyproject)
            if workspace is not None and _is_member(start, candidate, workspace):
                return candidate
    return None


def workspace_members(ws_root: Path) -> list[Path]:
    """Member directories (with a ``pyproject.toml``) of the uv workspace at ``ws_root``."""
    ws_root = ws_root.resolve()
    workspace = _workspace_table(ws_root / "pyproject.toml")
    if workspace is None:
        return []
    found = []
    for pattern in workspace.get("members", []):
        if not isinstance(pattern, str) or ".." in PurePosixPath(pattern).parts:
            continue
        for path in sorted(ws_root.glob(pattern.strip("/"))):
            member = path.resolve()
            if (member / "pyproject.toml").is_file() and _is_member(member, ws_root, workspace):
                found.append(member)
    return list(dict.fromkeys(found))


def _workspace_table(pyproject: Path) -> Mapping[str, Any] | None:
    tool = _toml(pyproject).get("tool", {})
    uv = tool.get("uv", {}) if isinstance(tool, dict) else {}
    workspace = uv.get("workspace") if isinstance(uv, dict) else None
    return workspace if isinstance(workspace, dict) else None


def _is_member(server: Path, ws_root: Path, workspace: Mapping[str, Any]) -> bool:
    """The server directory, or a directory above it, matches ``members`` and no ``exclude``."""
    members = [m for m in workspace.get("members", []) if isinstance(m, str)]
    exclude = [m for m in workspace.get("exclude", []) if isinstance(m, str)]
    if server == ws_root:
        return True  # the root project itself
    rel = server.relative_to(ws_root)
    for depth in range(len(rel.parts), 0, -1):
        candidate = PurePosixPath(*rel.parts[:depth])
        if any(_glob(candidate, p) for p in members):
            return not any(_glob(candidate, p) for p in exclude)
    return False


def _glob(path: PurePosixPath, pattern: str) -> bool:
    """Directory glob as uv uses it: segment-wise ``fnmatch``, ``**`` spans segments."""
    pat = [p for p in PurePosixPath(pattern.strip("/")).parts if p != "."]
    return _match(list(path.parts), pat)


def _match(parts: list[str], pat: list[str]) -> bool:
    if not pat:
        return not parts
    if pat[0] == "**":
        return any(_match(parts[i:], pat[1:]) for i in range(len(parts) + 1))
    return bool(parts) and fnmatch.fnmatchcase(parts[0], pat[0]) and _match(parts[1:], pat[1:])


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"not valid TOML: {exc}", where=str(path), hint="regenerate the lock file"
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read: {exc.strerror}", where=str(path), hint="check the path"
        ) from None


def _collect(entries: Iterable[tuple[str, str]]) -> dict[str, str]:
    versions: dict[str, set[str]] = {}
    for name, version in entries:
        versions.setdefault(canonicalize_name(name), set()).add(version)
    return {n: next(iter(v)) for n, v in sorted(versions.items()) if len(v) == 1}


def _tables(data: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list):
        return []
    return [item for item in items if isinstance(item, dict)]


def _named(item: Mapping[str, Any]) -> tuple[str, str] | None:
    name, version = item.get("name"), item.get("version")
    if isinstance(name, str) and isinstance(version, str) and name and version:
        return name, version
    return None


def _uv(data: Mapping[str, Any]) -> dict[str, str]:
    entries: list[tuple[str, str]] = []
    for item in _tables(data, "package"):
        source = item.get("source", {})
        if isinstance(source, dict) and _SKIP_UV_SOURCES & source.keys():
            continue
        named = _named(item)
        if named:
            entries.append(named)
    return _collect(entries)


def _poetry(data: Mapping[str, Any]) -> dict[str, str]:
    entries: list[tuple[str, str]] = []
    for item in _tables(data, "package"):
        source = item.get("source", {})
        if isinstance(source, dict) and source.get("type") in _SKIP_POETRY_SOURCES:
            continue
        if item.get("develop") is True:
            continue
        named = _named(item)
        if named:
            entries.append(named)
    return _collect(entries)


def _pylock(data: Mapping[str, Any]) -> dict[str, str]:
    entries: list[tuple[str, str]] = []
    for item in _tables(data, "packages"):
        if any(key in item for key in _SKIP_PYLOCK_KEYS):
            continue
        named = _named(item)
        if named:
            entries.append(named)
    return _collect(entries)


def _pinned_requirements(path: Path) -> dict[str, str] | None:
    """``{name: version}`` when every requirement line is ``name==version``, else None."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read requirements file: {exc}", where=str(path), hint="check the file"
        ) from None
    entries: list[tuple[str, str]] = []
    for _number, line in logical_lines(text):
        if line.startswith("-"):
            if line.split()[0].split("=")[0] in _HARMLESS_OPTIONS:
                continue
            return None  # -e, -r, -c, ...: not a self-contained pin list
        requirement = line.split(" --", 1)[0].strip()
        try:
            req = parsed(requirement)
        except InvalidRequirement:
            return None
        specs = list(req.specifier)
        if req.url or len(specs) != 1 or specs[0].operator not in ("==", "==="):
            return None
        if specs[0].version.endswith(".*"):
            return None
        entries.append((req.name, specs[0].version))
    if not entries:
        return None
    return _collect(entries)
