"""Adapting real servers to the host: entry shims, dist-info, lock preferences, SDK fixes.

Pure planning helpers (they read the repository and return data) used by
:mod:`mcpbundle.plan.planner`; :mod:`mcpbundle.build` writes what they produce.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.settings import Config, Server
from mcpbundle.plan.dist_info import dist_info_dir, render_dist_info
from mcpbundle.plan.lib_discovery import LibInfo
from mcpbundle.plan.licences import NOTICES_NAME, Notice, render_notices
from mcpbundle.plan.locks import find_lock, preferences_for, read_lock_pins
from mcpbundle.plan.parsed_requirement import parsed
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.requirements import read_requirements_file
from mcpbundle.plan.shim import needs_shim
from mcpbundle.plan.shim_render import CHAIN_DIR, render_shim
from mcpbundle.plan.shipped_files import join as _join


@dataclass(frozen=True, kw_only=True)
class EntryLayout:
    """How the host enters a server's bundle: the file it imports, and the shim if one is needed."""

    entry_file: str  # output-relative file the host imports
    object: str
    vendor_dir: str  # output-relative directory for vendored packages and dist-info
    shim: tuple[str, bytes] | None  # (output-relative path, content)
    original: str | None  # the configured entrypoint when a shim replaced it
    warnings: tuple[str, ...]
    chain: tuple[tuple[str, str], ...] = ()  # (repo path, output path) of package-chain inits
    # a subpackage server: the repo directory above its top package, the dotted names of
    # the chain's packages and of its own (what it imports of the chain ships too)
    chain_root: str | None = None
    chain_packages: tuple[str, ...] = ()
    inside_package: str | None = None


def entry_layout(
    config: Config, server: Server, entry_rel: str, obj: str, *, python: str | None = None
) -> EntryLayout:
    """Where the host enters the server, shimming package-style servers and factories."""
    root = config.root
    server_dir = root / server.path
    entry = root / entry_rel
    default_vendor = _join(server.path, server.vendor_dir or _parent(server.entrypoint))
    mode = "auto" if server.shim not in ("always", "never") else server.shim
    decision = needs_shim(
        entry,
        server_dir,
        object_name=obj,
        mode=mode,  # type: ignore[arg-type]
        python=python,
    )
    if not decision.needed:
        warnings: tuple[str, ...] = ()
        if server.shim == "never" and decision.reasons:
            reasons = "; ".join(decision.reasons)
            warnings = (f"servers.{server.name}: shim = 'never' but {reasons}",)
        return EntryLayout(
            entry_file=entry_rel,
            object=obj,
            vendor_dir=default_vendor,
            shim=None,
            original=None,
            warnings=warnings,
        )
    shim_rel = _join(server.path, server.shim_name)
    if (root / shim_rel).exists():
        raise ConfigError(
            f"the server already has a file named {server.shim_name!r}",
            where=config.where(f"servers.{server.name}.shim-name"),
            hint="set shim-name to another file name",
        )
    source_rel = decision.source_root_rel(server_dir)
    vendor = _join(server.path, source_rel)
    if server.vendor_dir is not None and _join(server.path, server.vendor_dir) != vendor:
        raise ConfigError(
            f"vendor-dir must be the package's source root {source_rel!r} for a shimmed server",
            where=config.where(f"servers.{server.name}.vendor-dir"),
            hint=f"remove vendor-dir or set it to {source_rel!r}",
        )
    chain = [(name, init.resolve().relative_to(root).as_posix()) for name, init in decision.outside]
    vendored_inits = [
        (name, _join(CHAIN_DIR, *name.split("."), "__init__.py")) for name, _ in chain
    ]
    text = render_shim(
        source_root_rel=source_rel,
        module=decision.module,
        object_name=obj,
        factory=decision.factory,
        extra_path_rels=decision.extra_path_rels(server_dir, entry),
        outside=vendored_inits,
        inside_package=decision.inside_package,
        thread_import=bool(decision.loops),
    )
    return EntryLayout(
        entry_file=shim_rel,
        object="mcp",
        vendor_dir=vendor,
        shim=(shim_rel, text.encode()),
        original=f"{entry_rel}:{obj}",
        warnings=(),
        chain=tuple(
            (repo_path, _join(server.path, rel))
            for (_, repo_path), (_, rel) in zip(chain, vendored_inits, strict=True)
        ),
        chain_root=_chain_root(decision.package_root, root) if chain else None,
        chain_packages=tuple(name for name, _ in chain),
        inside_package=decision.inside_package,
    )


def _chain_root(path: Path | None, root: Path) -> str | None:
    if path is None:
        return None
    rel = path.resolve().relative_to(root.resolve()).as_posix()
    return rel if rel != "." else ""


@dataclass(frozen=True, kw_only=True)
class Metadata:
    """What a server's bundle carries about the code vendored into it."""

    generated: list[tuple[str, bytes]]  # dist-info files and THIRD_PARTY_NOTICES.md
    licence_files: list[tuple[str, str]]  # (source: repo-relative or absolute, output path)
    unlicensed: list[str]  # vendored libraries without licence information, "dist (path)"


def dist_infos(
    config: Config, server: Server, vendored: Sequence[LibInfo], vendor_dir: str
) -> Metadata:
    """``.dist-info`` metadata (licence files in ``licenses/``, PEP 639) for every vendored
    distribution and the server's own project, and the server's notices file."""
    files: list[tuple[str, bytes]] = []
    licences: list[tuple[str, str]] = []
    notices: list[Notice] = []
    unlicensed: list[str] = []
    for lib in vendored:
        shipped_names = [rel for rel, _ in lib.licence.files]
        rendered = render_dist_info(
            name=lib.distribution,
            version=lib.version,
            top_level=lib.top_level,
            entry_points=lib.entry_points,
            licence=lib.licence.expression,
            licence_files=shipped_names,
        )
        files.extend((_join(vendor_dir, rel), data) for rel, data in rendered.items())
        info_dir = _join(vendor_dir, dist_info_dir(lib.distribution, lib.version), "licenses")
        for rel, path in lib.licence.files:
            source = str(path) if Path(lib.source_root).is_absolute() else _repo_rel(config, path)
            licences.append((source, _join(info_dir, rel)))
        notices.append(
            Notice(
                distribution=lib.distribution,
                version=lib.version,
                licence=lib.licence,
                origin=lib.origin or lib.path,
                shipped=tuple(
                    _server_rel(server.path, _join(info_dir, rel)) for rel in shipped_names
                ),
            )
        )
        if not lib.licence.known:
            unlicensed.append(f"{lib.distribution} ({lib.origin or lib.path})")
    if notices:
        files.append((_join(server.path, NOTICES_NAME), render_notices(server.name, notices)))
    pyproject = config.root / server.path / "pyproject.toml"
    if pyproject.is_file():
        info = read_pyproject(pyproject, root=config.root)
        if info.name:
            top = sorted(
                p.name
                for p in (config.root / vendor_dir).iterdir()
                if p.is_dir() and (p / "__init__.py").is_file()
            )
            rendered = render_dist_info(
                name=info.name, version=info.version, top_level=top, entry_points=info.entry_points
            )
            files.extend((_join(vendor_dir, rel), data) for rel, data in rendered.items())
    return Metadata(generated=files, licence_files=licences, unlicensed=unlicensed)


def _repo_rel(config: Config, path: Path) -> str:
    return path.resolve().relative_to(config.root).as_posix()


def _server_rel(server_path: str, rel: str) -> str:
    return rel if server_path in ("", ".") else rel[len(server_path) + 1 :]


@dataclass(frozen=True, kw_only=True)
class LockUse:
    """The lock a server's pins are seeded from, and the pins it holds."""

    path: str | None  # repo-relative lock file
    preferences: tuple[str, ...]  # name==version seeds for the resolver
    pins: dict[str, str]
    constraints: tuple[str, ...] = ()  # repo-relative constraint files whose pins seed it too


def lock_preferences(config: Config, server: Server, exclude: Iterable[str]) -> LockUse:
    """The nearest lock's pins, then the configured constraint files' pins over them."""
    skip: set[str] = {canonicalize_name(n) for n in exclude}
    use = _lock_use(config, server, skip)
    files = [*config.bundle.constraints, *(_join(server.path, c) for c in server.constraints)]
    if not files:
        return use
    pins = {line.partition("==")[0]: line.partition("==")[2] for line in use.preferences}
    for rel in files:
        normalised = PurePosixPath(os.path.normpath(rel)).as_posix()
        for name, version in constraint_pins(config.root / normalised, normalised).items():
            if name not in skip:
                pins[name] = version
    return LockUse(
        path=use.path,
        preferences=tuple(f"{n}=={v}" for n, v in sorted(pins.items())),
        pins=use.pins,
        constraints=tuple(PurePosixPath(os.path.normpath(f)).as_posix() for f in files),
    )


def constraint_pins(path: Path, display: str) -> dict[str, str]:
    """``name==version`` entries of a constraints file (other lines decide nothing here)."""
    found: dict[str, str] = {}
    for line in read_requirements_file(path, root=path.parent.resolve(), display=display):
        if line.kind != "pypi" or line.requirement is None or line.name is None:
            continue
        specs = list(parsed(line.requirement).specifier)
        if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
            found[line.name] = specs[0].version
    return found


def _lock_use(config: Config, server: Server, skip: set[str]) -> LockUse:
    found = find_lock(config.root / server.path, config.root)
    if found is None:
        return LockUse(path=None, preferences=(), pins={})
    lock = read_lock_pins(found)
    if lock is None:
        return LockUse(path=None, preferences=(), pins={})
    names = [n for n in lock.pins if n not in skip]
    rel = found.resolve().relative_to(config.root).as_posix()
    if rel == _join(server.path, "requirements.txt"):
        # The server's own pinned requirements.txt is already its input.
        return LockUse(path=rel, preferences=(), pins=dict(lock.pins))
    return LockUse(path=rel, preferences=tuple(preferences_for(lock, names)), pins=dict(lock.pins))


def requirement_names(requirements: Iterable[str]) -> set[str]:
    return {canonicalize_name(parsed(r).name) for r in requirements}


def _parent(path: str) -> str:
    return PurePosixPath(path).parent.as_posix()
