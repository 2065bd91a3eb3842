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
from typing import Any

from mcpbundle.config.schema import BOOLEAN, CHOICE, Key, Kind, Reader, join

FORMATS = ("dir", "mcpb")  # [bundle] formats / build --format; "dir" is always written
MCPB_DIR = "mcpb"  # where the .mcpb files go, inside the output
MCPB_RUNTIMES = ("uv", "python")
MCPB_PLATFORMS = ("darwin", "linux", "win32")  # the MCP Bundle spec's platform names
# One architecture of a platform (mcpb-platforms): a compiled server/lib for it alone.
MCPB_ARCHES = ("darwin-arm64", "darwin-x86_64", "linux-x86_64", "linux-aarch64", "win32-amd64")

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


def read_platforms(reader: Reader, key_path: str, value: object) -> tuple[str, ...]:
    """Platform names (or one architecture each), in the spec's order, at least one."""
    names = reader.strings(key_path, value)
    if not names:
        raise reader.fail(key_path, "must not be empty", "e.g. ['darwin', 'linux']")
    for index, name in enumerate(names):
        reader.choice(f"{key_path}[{index}]", name, MCPB_PLATFORMS + MCPB_ARCHES)
    return tuple(p for p in MCPB_PLATFORMS + MCPB_ARCHES if p in names)


# The kinds of these keys for the table of keys (mcpbundle.config.settings), which reads
# them and writes the JSON Schema from them.
VERSION = Kind(
    "version",
    lambda r, path, value, _key: read_version(r, path, value),
    {"type": "string", "pattern": _VERSION.pattern},
)
FORMATS_KIND = Kind(
    "formats",
    lambda r, path, value, _key: read_formats(r, path, value),
    {"type": "array", "items": {"enum": list(FORMATS)}},
)
PLATFORMS = Kind(
    "platforms",
    lambda r, path, value, _key: read_platforms(r, path, value),
    {"type": "array", "minItems": 1, "items": {"enum": list(MCPB_PLATFORMS + MCPB_ARCHES)}},
)
MANIFEST = Kind(
    "manifest-fields",
    lambda r, path, value, _key: read_manifest_fields(r, path, value),
    {"type": "object", "propertyNames": {"enum": list(MANIFEST_FIELDS)}},
)

BUNDLE_KEYS = (
    Key("formats", FORMATS_KIND, 'What a build writes: "dir" (always) and "mcpb" (one MCP '
        "Bundle per server under <output>/mcpb/).", ("dir",)),
    Key("version", VERSION, "A server's .mcpb version when its project names none."),
    Key("mcpb", MANIFEST, "MCP Bundle manifest fields for every .mcpb (manifest.json's "
        "top-level keys).", {}),
)  # fmt: skip

SERVER_KEYS = (
    Key("version", VERSION, "Its .mcpb version, over its project's and [bundle] version."),
    Key("mcpb-runtime", CHOICE, 'How its .mcpb runs: "uv" (the client installs the pins) or '
        '"python" (the pins bundled in server/lib).', "uv", MCPB_RUNTIMES),
    Key("mcpb-platforms", PLATFORMS, "compatibility.platforms of its .mcpb, and the platforms "
        'server/lib is built for (python runtime); one architecture such as "linux-x86_64" '
        "for a compiled server/lib.", MCPB_PLATFORMS),
    Key("mcpb-compiled", BOOLEAN, "python runtime: allow compiled wheels in server/lib.", False),
    Key("mcpb", MANIFEST, "MCP Bundle manifest fields for its .mcpb, over [bundle.mcpb].", {}),
)  # fmt: skip
