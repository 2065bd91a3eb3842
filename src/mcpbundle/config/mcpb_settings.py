"""The keys of the MCP Bundle (``.mcpb``) output: formats, versions, runtime, overrides.

``[bundle] formats``, ``[bundle] version``, ``[bundle.mcpb]``, and per server
``version``, ``mcpb-runtime``, ``mcpb-platforms``, ``mcpb-compiled`` and
``[servers.x.mcpb]``. A ``mcpb`` table holds manifest fields (the MCP Bundle
manifest's top-level keys, as ``manifest.json`` spells them), each checked against the
shape the manifest spec (0.3/0.4, as the official ``mcpb validate`` reads it) gives it:
:data:`MANIFEST_SHAPE`, which also writes their JSON Schema. A table merges into what
mcpbundle derives key by key, so only the tables a derived value may not complete
(``author``, ``repository``, ``localization``, ``icons``, ``tools``, ``prompts``) must
hold the keys the spec requires of them.
"""

from __future__ import annotations

import re
from typing import Any

from mcpbundle.config.schema import BOOLEAN, CHOICE, Key, Kind, Reader
from mcpbundle.config.shapes import AnyOf, Fields, Flag, ListOf, MapOf, Number, Text

FORMATS = ("dir", "mcpb")  # [bundle] formats / build --format; "dir" is always written
MCPB_DIR = "mcpb"  # where the .mcpb files go, inside the output
MCPB_RUNTIMES = ("uv", "python")
MCPB_PLATFORMS = ("darwin", "linux", "win32")  # the MCP Bundle spec's platform names
# One architecture of a platform (mcpb-platforms): a compiled server/lib for it alone.
MCPB_ARCHES = ("darwin-arm64", "darwin-x86_64", "linux-x86_64", "linux-aarch64", "win32-amd64")

_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.+_-]*$")

# What the official CLI (zod's url(): WHATWG URL parsing) takes as a URL, a little
# stricter: https:// or http:// with a host name (and a port up to 65535), or mailto:.
_PORT = r"(?::(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?"
URL = rf"^(?:https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*{_PORT}(?:[/?#][^\n]*)?|mailto:[^\n]+)$"
EMAIL = (  # zod's email(), the CLI's check, without its case-insensitive flag
    r"^(?!\.)(?!.*\.\.)[A-Za-z0-9_'+.-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9-]*\.)+[A-Za-z]{2,}$"
)
_TEXT = Text()
_ANY_TEXT = Text(blank=True)  # an argument, an env value, a default: may be ""
_URL = Text(URL, "is not a URL", "use an https:// URL (http://, or mailto: for support)")
_PLATFORMS = ListOf(Text(choices=("darwin", "win32", "linux")))
_MCP_CONFIG = (("command", _TEXT), ("args", ListOf(_ANY_TEXT)), ("env", MapOf(_ANY_TEXT)))
_USER_CONFIG = Fields((
    ("type", Text(choices=("string", "number", "boolean", "directory", "file"))),
    ("title", _TEXT), ("description", _TEXT), ("required", Flag()),
    ("default", AnyOf((_ANY_TEXT, Number(), Flag(), ListOf(_ANY_TEXT)))),
    ("multiple", Flag()), ("sensitive", Flag()), ("min", Number()), ("max", Number()),
))  # fmt: skip
# The manifest's top-level fields (MCP Bundle manifest 0.3/0.4), which a mcpb table may set.
MANIFEST_SHAPE = Fields((
    ("name", _TEXT),
    ("display_name", _TEXT),
    ("version", Text(_VERSION.pattern, "is not a version",
                     "use a version such as '1.0.0' (it names the .mcpb file)")),
    ("description", _TEXT),
    ("long_description", _TEXT),
    ("author", Fields((("name", _TEXT),
                       ("email", Text(EMAIL, "is not an email address", "e.g. 'team@example.com'")),
                       ("url", _URL)),
                      required=("name",), hint='author = { name = "..." }')),
    ("repository", Fields((("type", _TEXT), ("url", _URL)), required=("type", "url"),
                          hint='repository = { type = "git", url = "https://..." }')),
    ("homepage", _URL),
    ("documentation", _URL),
    ("support", _URL),
    ("icon", _TEXT),
    ("icons", ListOf(Fields((("src", _TEXT),
                             ("size", Text(r"^[0-9]+x[0-9]+$", "is not a size such as '16x16'")),
                             ("theme", _TEXT)),
                            required=("src", "size"),
                            hint='icons = [{ src = "icon.png", size = "16x16" }]'))),
    ("screenshots", ListOf(_TEXT)),
    ("localization", Fields((
        ("resources", Text(r"\$\{locale\}", "has no ${locale}", "e.g. 'locales/${locale}.json'")),
        ("default_locale", Text(r"^[A-Za-z0-9]{2,8}(?:-[A-Za-z0-9]{1,8})*$",
                                "is not a BCP 47 locale", "e.g. 'en-US'")),
    ), required=("resources", "default_locale"))),
    ("server", Fields((
        ("type", Text(choices=("python", "node", "binary", "uv"))),
        ("entry_point", _TEXT),
        ("mcp_config", Fields((*_MCP_CONFIG, ("platform_overrides", MapOf(Fields(_MCP_CONFIG)))))),
    ))),
    ("tools", ListOf(Fields((("name", _TEXT), ("description", _TEXT)), required=("name",)))),
    ("tools_generated", Flag()),
    ("prompts", ListOf(Fields((("name", _TEXT), ("description", _TEXT),
                               ("arguments", ListOf(_TEXT)), ("text", _TEXT)),
                              required=("name", "text")))),
    ("prompts_generated", Flag()),
    ("keywords", ListOf(_TEXT)),
    ("license", _TEXT),
    ("privacy_policies", ListOf(_URL)),
    ("compatibility", Fields((("claude_desktop", _TEXT), ("platforms", _PLATFORMS),
                              ("runtimes", Fields((("python", _TEXT), ("node", _TEXT))))))),
    ("user_config", MapOf(_USER_CONFIG)),
    ("_meta", MapOf(MapOf())),
    ("manifest_version", Text(choices=("0.3", "0.4"))),
))  # fmt: skip
MANIFEST_FIELDS = tuple(name for name, _shape in MANIFEST_SHAPE.fields)


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
    MANIFEST_SHAPE.read(reader, key_path, value)
    return dict(reader.table(key_path, value))


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
    MANIFEST_SHAPE.json(),  # what read_manifest_fields checks, from the same shapes
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
