"""Installed-distribution metadata for vendored code.

Vendored packages are copied, not installed, so ``importlib.metadata.version()``
and entry-point lookups that the code does at import time would fail. A minimal
``<name>-<version>.dist-info`` directory next to the vendored packages (in a
directory on ``sys.path``) is all :mod:`importlib.metadata` needs to find them.

The files (``METADATA``, ``INSTALLER``, ``top_level.txt``, ``entry_points.txt``
when there are entry points, and ``RECORD``) follow the wheel / installed-project
specifications. ``RECORD`` lists only the ``.dist-info`` files, without hashes: it
is present because the specification requires it, and deliberately does not claim
the vendored source files, so no installer can ever uninstall them. Output is a
pure function of the arguments.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.requirements import InvalidRequirement, Requirement
from packaging.version import InvalidVersion, Version

from mcpbundle.base.errors import ConfigError

UNKNOWN_VERSION = "0+vendored"
INSTALLER = "mcpbundle"
_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_GROUP = re.compile(r"^[\w.-]+$")


def wheel_name(name: str) -> str:
    """The distribution name as a wheel/dist-info directory spells it (``my_lib``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def dist_info_dir(name: str, version: str | None) -> str:
    """``<normalized_name>-<version>.dist-info``."""
    return f"{wheel_name(_check_name(name))}-{_version(name, version)}.dist-info"


def render_dist_info(
    *,
    name: str,
    version: str | None,
    top_level: Sequence[str],
    entry_points: Mapping[str, Mapping[str, str]],
    requires_dist: Sequence[str] = (),
    summary: str | None = None,
    licence: str | None = None,
    licence_files: Sequence[str] = (),
) -> dict[str, bytes]:
    """The dist-info files, keyed by POSIX path relative to the source root.

    ``version`` None means unknown: ``0+vendored``. ``requires_dist`` entries are
    PEP 508 strings written as ``Requires-Dist`` (the bundle's requirements.txt
    installs them; this is informational).
    """
    _check_name(name)
    normalized = _version(name, version)
    directory = dist_info_dir(name, version)
    metadata = [
        f"Metadata-Version: {'2.4' if licence or licence_files else '2.1'}",
        f"Name: {name}",
        f"Version: {normalized}",
    ]
    if summary:
        metadata.append(f"Summary: {' '.join(summary.split())}")
    if licence:
        metadata.append(f"{'License-Expression' if is_spdx(licence) else 'License'}: {licence}")
    metadata += [f"License-File: {rel}" for rel in sorted(licence_files)]
    for text in sorted({_requirement(name, r) for r in requires_dist}):
        metadata.append(f"Requires-Dist: {text}")
    files: dict[str, str] = {
        "METADATA": "\n".join(metadata) + "\n",
        "INSTALLER": INSTALLER + "\n",
        "top_level.txt": "".join(f"{t}\n" for t in sorted(set(top_level))),
    }
    entry_text = render_entry_points(name, entry_points)
    if entry_text:
        files["entry_points.txt"] = entry_text
    listed = [*files, "RECORD", *(f"licenses/{rel}" for rel in licence_files)]
    record = [f"{directory}/{file},," for file in sorted(listed)]
    files["RECORD"] = "\n".join(record) + "\n"
    return {f"{directory}/{file}": text.encode("utf-8") for file, text in sorted(files.items())}


def render_entry_points(name: str, entry_points: Mapping[str, Mapping[str, str]]) -> str:
    """``entry_points.txt`` in INI form, groups and names sorted; "" when there are none."""
    sections: list[str] = []
    for group in sorted(entry_points):
        items = entry_points[group]
        if not items:
            continue
        if not _GROUP.match(group):
            raise ConfigError(
                f"entry point group {group!r} is not a valid group name",
                where=f"{name}: entry-points",
                hint="use letters, digits, '.', '-' and '_'",
            )
        lines = [f"[{group}]"]
        for key in sorted(items):
            value = " ".join(items[key].split())
            if not key.strip() or "=" in key or "[" in key or not value:
                raise ConfigError(
                    f"entry point {key!r} in group {group!r} is malformed",
                    where=f"{name}: entry-points.{group}",
                    hint="use name = 'module:attr'",
                )
            lines.append(f"{key.strip()} = {value}")
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def is_spdx(expression: str) -> bool:
    try:
        return str(canonicalize_license_expression(expression)) == expression
    except InvalidLicenseExpression:
        return False


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ConfigError(
            f"{name!r} is not a valid distribution name",
            where=name,
            hint="use letters, digits, '.', '-' and '_' (PEP 508)",
        )
    return name


def _version(name: str, version: str | None) -> str:
    if version is None or not version.strip():
        return UNKNOWN_VERSION
    try:
        return str(Version(version))
    except InvalidVersion:
        raise ConfigError(
            f"version {version!r} of {name!r} is not a PEP 440 version",
            where=name,
            hint="fix the project's version",
        ) from None


def _requirement(name: str, text: str) -> str:
    try:
        return str(Requirement(text))
    except InvalidRequirement:
        raise ConfigError(
            f"{text!r} is not a PEP 508 requirement",
            where=name,
            hint="fix the dependency",
        ) from None
