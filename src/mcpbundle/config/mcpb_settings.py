"""The keys of the MCP Bundle (``.mcpb``) output: formats, versions, runtime, overrides.

``[bundle] formats``, ``[bundle] version``, ``[bundle.mcpb]``, and per server
``version``, ``mcpb-runtime``, ``mcpb-platforms``, ``mcpb-compiled`` and
``[servers.x.mcpb]``. A ``mcpb`` table holds manifest fields (the MCP Bundle
manifest's top-level keys, as ``manifest.json`` spells them); only the key names are
checked here, the values go into the manifest as written (``mcpb validate`` is the
judge of those).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mcpbundle.config.schema import Reader, join
from mcpbundle.config.settings import FORMATS, MCPB_ARCHES, MCPB_PLATFORMS, MCPB_RUNTIMES

# The manifest's top-level fields (MCP Bundle manifest 0.3/0.4), which a mcpb table may set.
MANIFEST_FIELDS = (
    "name", "display_name", "version", "description", "long_description", "author",
    "repository", "homepage", "documentation", "support", "icon", "icons", "screenshots",
    "localization", "server", "tools", "tools_generated", "prompts", "prompts_generated",
    "keywords", "license", "privacy_policies", "compatibility", "user_config", "_meta",
    "manifest_version",
)  # fmt: skip
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$")


def read_formats(reader: Reader, key_path: str, value: object) -> tuple[str, ...]:
    """``["dir", "mcpb"]``: known names, no repeats; "dir" is always part of the result."""
    names = reader.strings(key_path, value)
    for index, name in enumerate(names):
        reader.choice(f"{key_path}[{index}]", name, FORMATS)
    return tuple(f for f in FORMATS if f == "dir" or f in names)


def read_version(reader: Reader, key_path: str, value: object) -> str:
    text = reader.string(key_path, value).strip()
    if not _VERSION.match(text):
        raise reader.fail(
            key_path,
            f"{text!r} is not a version",
            "use a version such as '1.0.0' (it names the .mcpb file)",
        )
    return text


def read_manifest_fields(reader: Reader, key_path: str, value: object) -> dict[str, Any]:
    table = reader.table(key_path, value)
    reader.reject_unknown(key_path, table, MANIFEST_FIELDS)
    if "version" in table:
        read_version(reader, join(key_path, "version"), table["version"])
    for key in ("name", "description", "display_name", "license", "icon"):
        if key in table:
            reader.string(join(key_path, key), table[key])
    if "author" in table:
        author_key = join(key_path, "author")
        author = reader.table(author_key, table["author"])
        if "name" not in author:
            raise reader.fail(join(author_key, "name"), "is required", 'author = {name = "..."}')
        reader.string(join(author_key, "name"), author["name"])
    return dict(table)


def read_server_mcpb(reader: Reader, key_path: str, table: Mapping[str, Any]) -> dict[str, Any]:
    """The ``mcpb-*``, ``version`` and ``mcpb`` keys of a ``[servers.x]`` table, as
    :class:`mcpbundle.config.settings.Server` fields."""
    values: dict[str, Any] = {}
    if "version" in table:
        values["version"] = read_version(reader, join(key_path, "version"), table["version"])
    if "mcpb-runtime" in table:
        values["mcpb_runtime"] = reader.choice(
            join(key_path, "mcpb-runtime"), table["mcpb-runtime"], MCPB_RUNTIMES
        )
    if "mcpb-platforms" in table:
        platforms_key = join(key_path, "mcpb-platforms")
        names = reader.strings(platforms_key, table["mcpb-platforms"])
        if not names:
            raise reader.fail(platforms_key, "must not be empty", "e.g. ['darwin', 'linux']")
        for index, name in enumerate(names):
            reader.choice(f"{platforms_key}[{index}]", name, MCPB_PLATFORMS + MCPB_ARCHES)
        values["mcpb_platforms"] = tuple(p for p in MCPB_PLATFORMS + MCPB_ARCHES if p in names)
    if "mcpb-compiled" in table:
        values["mcpb_compiled"] = reader.boolean(
            join(key_path, "mcpb-compiled"), table["mcpb-compiled"]
        )
    if "mcpb" in table:
        values["mcpb"] = read_manifest_fields(reader, join(key_path, "mcpb"), table["mcpb"])
    return values


SERVER_KEYS = ("version", "mcpb-runtime", "mcpb-platforms", "mcpb-compiled", "mcpb")
BUNDLE_KEYS = ("formats", "version", "mcpb")


def read_bundle_mcpb(reader: Reader, table: Mapping[str, Any]) -> dict[str, Any]:
    """The ``formats``, ``version`` and ``mcpb`` keys of ``[bundle]``."""
    values: dict[str, Any] = {}
    if "formats" in table:
        values["formats"] = read_formats(reader, "bundle.formats", table["formats"])
    if "version" in table:
        values["version"] = read_version(reader, "bundle.version", table["version"])
    if "mcpb" in table:
        values["mcpb"] = read_manifest_fields(reader, "bundle.mcpb", table["mcpb"])
    return values
