"""Import-name clashes: two things a server's bundle would import under one name.

A vendored library must not collide with another vendored library, the standard
library, the server's own code, or a package one of its requirements installs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.settings import Config
from mcpbundle.plan.import_names import import_names
from mcpbundle.plan.lib_discovery import (
    STDLIB_NAMES,
    LibInfo,
    import_path,
    regular_package,
)
from mcpbundle.plan.parsed_requirement import parsed


def _provided(root: Path, lib: LibInfo) -> list[str]:
    """The import names ``lib`` claims: its top-level packages and modules, except that a
    namespace package (no ``__init__.py``, or a pkgutil-style one) is claimed only portion
    by portion, since other libraries may ship other portions of it."""
    names: list[str] = []
    base = Path(lib.source_root) if Path(lib.source_root).is_absolute() else root / lib.source_root
    for package in lib.packages:
        top = package.split(".")[0]
        namespace = "." in package and not regular_package(base / top)
        names.append(package if namespace else top)
    return list(dict.fromkeys(names))


def reject_clashes(
    config: Config,
    vendored: Sequence[LibInfo],
    vendor_dir: str,
    key: str,
    requirements: Sequence[str],
) -> None:
    providers: dict[str, str] = {}
    for lib in vendored:
        for name in _provided(config.root, lib):
            if name in providers:
                raise ConfigError(
                    f"shared libs {providers[name]!r} and {lib.name!r} both provide "
                    f"the import name {name!r}",
                    where=key,
                    hint="rename one package or vendor only one of them",
                )
            if name in STDLIB_NAMES:
                raise ConfigError(
                    f"shared lib {lib.name!r} provides {name!r}, which shadows the standard "
                    "library module of that name",
                    where=key,
                    hint="rename the package",
                )
            providers[name] = lib.name
    for requirement in requirements:
        name = canonicalize_name(parsed(requirement).name)
        for top in import_names(name):
            lib_name = providers.get(top)
            owner = next((v for v in vendored if v.name == lib_name), None)
            if owner is not None and owner.distribution != name:
                raise ConfigError(
                    f"shared lib {lib_name!r} provides the import name {top!r}, which the "
                    f"server's requirement {name!r} also installs",
                    where=key,
                    hint="rename the shared package or drop the requirement",
                )
    vendor_root = config.root / vendor_dir
    for name, lib_name in providers.items():
        lib = next(v for v in vendored if v.name == lib_name)
        lib_source = import_path(config.root / lib.source_root, name).resolve()
        own_path = import_path(vendor_root, name)  # the server's own package or module
        if own_path.exists() and lib_source != own_path.resolve():
            raise ConfigError(
                f"shared lib {lib_name!r} provides the import name {name!r}, which the "
                f"server's own code in {vendor_dir!r} also defines",
                where=key,
                hint="rename one of them, or set vendor-dir to another directory",
            )
