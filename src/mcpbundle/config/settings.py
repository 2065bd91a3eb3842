"""What a valid ``mcpbundle.toml`` says: the table of keys, and the frozen dataclasses.

Every key of every table is declared once, here, as a :class:`~mcpbundle.config.schema.Key`
(its type, default and purpose). :mod:`mcpbundle.config.validate` reads a file with these
tables, the dataclasses below take their defaults from them, and
:mod:`mcpbundle.config.json_schema` turns them into ``schema/mcpbundle.schema.json``.
Every other stage reads the dataclasses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.ci_settings import CI, CiSettings
from mcpbundle.config.mcpb_settings import BUNDLE_KEYS as MCPB_BUNDLE_KEYS
from mcpbundle.config.mcpb_settings import SERVER_KEYS as MCPB_SERVER_KEYS
from mcpbundle.config.paths import parse_size
from mcpbundle.config.schema import (
    BOOLEAN,
    CHOICE,
    CHOICE_MAP,
    STRING,
    STRING_MAP,
    STRINGS,
    TABLE,
    Key,
    Kind,
    Reader,
    Table,
)
from mcpbundle.config.verify_settings import (
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
    MIN_MEMORY,
    read_memory,
    read_timeout,
)

MAX_NAME = 64  # characters in a server or shared-library name
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
DEFAULT_MAX_FILE_SIZE = 50 * 10**6  # [bundle] max-file-size: 50 MB

RESOLVERS = ("pip-tools", "uv")
GIT_POLICIES = ("vendor", "pin", "pypi")
LOCK_MODES = ("shared", "per-server")
SHIM_MODES = ("auto", "always", "never")

PYTHON_PATTERN = r"^3\.\d{1,2}$"
_PYTHON = re.compile(PYTHON_PATTERN)
_RELATIVE = r"^(?![/~])[^\u0000]*$"  # paths: relative, no NUL (validate: check_relative)


def _read_python(reader: Reader, key_path: str, value: object, _key: Key) -> str:
    python = reader.string(key_path, value)
    if not _PYTHON.match(python):
        raise reader.fail(key_path, f"must look like '3.12', got {python!r}")
    return python


def _sized(minimum: int, unit_pattern: str) -> dict[str, Any]:
    number = r"^\s*\d+(\.\d+)?\s*"
    return {
        "anyOf": [
            {"type": "integer", "minimum": minimum},
            {"type": "string", "pattern": number + unit_pattern + r"\s*$"},
        ]
    }


PYTHON = Kind("python", _read_python, {"type": "string", "pattern": PYTHON_PATTERN})
SIZE = Kind(
    "size",
    lambda r, path, value, _key: parse_size(r, path, value),
    _sized(1, r"([KkMmGgTt][Ii]?[Bb]|[Bb])?"),
)
SECONDS = Kind(
    "seconds",
    lambda r, path, value, _key: read_timeout(r, path, value),
    {"type": "number", "exclusiveMinimum": 0},
)
MEMORY = Kind(
    "memory",
    lambda r, path, value, _key: read_memory(r, path, value),
    _sized(MIN_MEMORY, r"[KkMmGgTt]?([Ii]?[Bb])?"),
)

DEPLOY = Table(
    (
        Key("author-name", STRING, "Author and committer name of the deploy commits.",
            "mcpbundle"),
        Key("author-email", STRING, "Author and committer email of the deploy commits.",
            "mcpbundle@localhost"),
        Key("push-to", STRING, "Where `build --branch --push` also pushes: URL_OR_REMOTE:BRANCH; "
            "a {server} placeholder gives each server its own repository (implies --split)."),
    ),
    "Identity of the deploy commits and where they are pushed.",
)  # fmt: skip

BUNDLE = Table(
    (
        Key("output", STRING, "Where `build` writes, relative to this file: inside the "
            "repository, not inside a server or shared library, not a symlink.", "dist",
            pattern=_RELATIVE),
        Key("max-file-size", SIZE, "A larger file that would ship fails the build: bytes, or "
            '"500KB", "50MB", "2GB", "512MiB".', DEFAULT_MAX_FILE_SIZE),
        Key("exclude", STRINGS, "gitignore-style patterns added to the built-in excludes.", ()),
        Key("python", PYTHON, "Target Python, e.g. \"3.12\" (default: the nearest "
            ".python-version, else the running Python, with a warning)."),
        Key("constraints", STRINGS, "Pin files (name==version lines, relative to this file) "
            "whose pins the resolver keeps where they fit.", ()),
        Key("resolver", CHOICE, "What pins requirements.txt: pip-tools or uv (`uv pip "
            "compile`).", "pip-tools", RESOLVERS),
        Key("hashes", BOOLEAN, "Write hashes (--generate-hashes).", False),
        Key("index-url", STRING, "The resolver's index (never written to any output)."),
        Key("extra-index-urls", STRINGS, "More indexes for the resolver.", ()),
        Key("find-links", STRINGS, "Local wheel directories or pages for the resolver.", ()),
        Key("no-index", BOOLEAN, "Resolve without an index (with find-links: offline).", False),
        Key("lock", CHOICE, "shared: one resolution for all servers; per-server: one each.",
            "shared", LOCK_MODES),
        Key("git", CHOICE, "Git requirements: vendor (clone and vendor), pin (name==version "
            "at REF) or pypi (the PyPI release of the same name).", "vendor", GIT_POLICIES),
        Key("git-overrides", CHOICE_MAP, "The git policy per repository URL.", {},
            GIT_POLICIES),
        Key("add-fastmcp", BOOLEAN, "Add fastmcp when a server's pins lack it.", True),
        Key("auto-fix", BOOLEAN, "false: a missing fastmcp or mcp<2 are build errors.", True),
        Key("allow-secrets", STRINGS, "Files (gitignore patterns) whose secret-looking content "
            "may ship.", ()),
        Key("branch", STRING, "The deploy branch of `build --branch`.", "deploy",
            pattern=r"^(?![-/])(?!.*\.\.)[^ ~^:?*\[\\\u0000-\u001f\u007f]+$"),
        Key("deploy", TABLE, DEPLOY.doc, table=DEPLOY),
        *MCPB_BUNDLE_KEYS,
    ),
    "The whole bundle: output, pinning, git requirements, the deploy branch, MCP Bundles.",
)  # fmt: skip

CHECK = Table(
    (Key("ignore", STRINGS, 'check codes to skip everywhere, e.g. ["MCB008"].', ()),),
    "What `mcpbundle check` reports.",
)

SHARED = Table(
    (
        Key("path", STRING, "The library's directory, relative to this file.", required=True,
            hint="set it to the library's directory", pattern=_RELATIVE),
        Key("packages", STRINGS, "Its import packages (default: discovered: src/ layout, flat "
            "layout, or the directory itself being a package)."),
        Key("requires", STRINGS, "Other shared libraries it needs (default: inferred from its "
            "dependencies; given names are added)."),
    ),
    "A shared library; servers refer to it by its table name.",
)  # fmt: skip

SERVER = Table(
    (
        Key("path", STRING, "The server's directory (its folder in the output), relative to "
            "this file.", required=True, pattern=_RELATIVE,
            hint="set it to the server's directory, relative to mcpbundle.toml"),
        Key("entrypoint", STRING, "file.py or file.py:object, relative to path (object "
            "default: the first module-level mcp / server / app).", required=True,
            pattern=r"^\s*(?![/~])[^:\u0000]*\.py(:[^:\s]+)?\s*$",
            hint="set it to the server's file, e.g. entrypoint = 'server.py'"),
        Key("requirements", STRING, "Its requirements (default: requirements.txt if present, "
            "else pyproject.toml); may name a file anywhere in the repository.",
            pattern=_RELATIVE),
        Key("extras", STRINGS, "Extras of its own project to install with it "
            "([project.optional-dependencies] of the pyproject.toml its requirements come "
            "from, or of its own), as `pip install .[extra]` does.", ()),
        Key("constraints", STRINGS, "Pin files (relative to path) over [bundle] constraints.",
            ()),
        Key("shared", STRINGS, "Shared libraries to vendor besides those its requirements "
            "name.", ()),
        Key("vendor-dir", STRING, "Where vendored code goes, relative to path (default: the "
            "entrypoint's directory).", pattern=_RELATIVE),
        Key("exclude", STRINGS, "gitignore-style patterns, relative to path.", ()),
        Key("shim", CHOICE, "Write an entry shim for package-style servers and factories: "
            "auto, always or never.", "auto", SHIM_MODES),
        Key("shim-name", STRING, "The entry shim's file name.", "mcpbundle_entry.py",
            pattern=r"^[^./\s]+\.py$"),
        Key("ignore", STRINGS, "check codes to skip for this server.", ()),
        Key("env", STRING_MAP, "Placeholder environment for `verify`'s loads only; never "
            "copied into the bundle.", {}),
        Key("expect-tools", STRINGS, "`verify` fails when one of these tools is missing.", ()),
        Key("verify-timeout", SECONDS, "Seconds for all of `verify`'s loads of this server.",
            DEFAULT_TIMEOUT),
        Key("verify-memory", MEMORY, "Address-space limit of each load: bytes, or a size such "
            'as "512MiB" or "2GiB".', DEFAULT_MEMORY),
        Key("push-to", STRING, "This server's own push target, URL_OR_REMOTE:BRANCH (implies "
            "--split)."),
        *MCPB_SERVER_KEYS,
    ),
    "A server: one deployment.",
)  # fmt: skip

ROOT = Table(
    (
        Key("bundle", TABLE, BUNDLE.doc, table=BUNDLE),
        Key("shared", TABLE, "Shared libraries, by name: " + SHARED.doc, each=SHARED),
        Key("servers", TABLE, "Servers, by name: " + SERVER.doc, required=True, each=SERVER),
        Key("check", TABLE, CHECK.doc, table=CHECK),
        Key("ci", TABLE, CI.doc, table=CI),
    ),
    "mcpbundle.toml: the servers of a monorepo and the shared code they vendor.",
)


@dataclass(frozen=True, kw_only=True)
class DeploySettings:
    """``[bundle.deploy]``: the author of deploy commits and where they are pushed."""

    author_name: str = DEPLOY.default("author-name")
    author_email: str = DEPLOY.default("author-email")
    push_to: str | None = None  # URL_OR_REMOTE:BRANCH, may hold {server}


@dataclass(frozen=True, kw_only=True)
class BundleSettings:
    """The ``[bundle]`` table: output, resolution and safety settings shared by every server."""

    output: str = BUNDLE.default("output")
    exclude: tuple[str, ...] = BUNDLE.default("exclude")
    python: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = BUNDLE.default("extra-index-urls")
    find_links: tuple[str, ...] = BUNDLE.default("find-links")
    no_index: bool = BUNDLE.default("no-index")
    hashes: bool = BUNDLE.default("hashes")
    resolver: str = BUNDLE.default("resolver")
    git: str = BUNDLE.default("git")
    git_overrides: Mapping[str, str] = field(default_factory=dict)
    branch: str = BUNDLE.default("branch")
    deploy: DeploySettings = field(default_factory=DeploySettings)
    lock: str = BUNDLE.default("lock")
    constraints: tuple[str, ...] = BUNDLE.default("constraints")  # pin files: preferences
    add_fastmcp: bool = BUNDLE.default("add-fastmcp")
    auto_fix: bool = BUNDLE.default("auto-fix")
    allow_secrets: tuple[str, ...] = BUNDLE.default("allow-secrets")
    max_file_size: int = BUNDLE.default("max-file-size")  # bytes; larger files fail the build
    formats: tuple[str, ...] = BUNDLE.default("formats")  # outputs a build writes
    version: str | None = None  # a server's version when its project names none (.mcpb)
    mcpb: Mapping[str, Any] = field(default_factory=dict)  # manifest fields for every .mcpb


@dataclass(frozen=True, kw_only=True)
class SharedLib:
    """One ``[shared.NAME]`` library: its directory, packages and requirements."""

    name: str
    path: str  # POSIX, relative to the config directory
    packages: tuple[str, ...] | None = None  # None: discovered
    requires: tuple[str, ...] | None = None  # None: inferred from its dependencies


@dataclass(frozen=True, kw_only=True)
class Server:
    """One ``[servers.NAME]`` table: where the server is, how the host enters it, what ships."""

    name: str
    path: str  # POSIX, relative to the config directory
    entrypoint: str  # file, relative to ``path``
    object: str | None = None  # None: FastMCP's rule (mcp, server, app)
    requirements: str | None = None  # relative to ``path`` (may leave it); None: default rule
    extras: tuple[str, ...] = SERVER.default("extras")  # of its own project
    constraints: tuple[str, ...] = SERVER.default("constraints")  # relative to ``path``
    shared: tuple[str, ...] = SERVER.default("shared")
    vendor_dir: str | None = None  # relative to ``path``; None: the entrypoint's directory
    exclude: tuple[str, ...] = SERVER.default("exclude")
    shim: str = SERVER.default("shim")
    shim_name: str = SERVER.default("shim-name")
    ignore: tuple[str, ...] = SERVER.default("ignore")
    env: Mapping[str, str] = field(default_factory=dict)
    expect_tools: tuple[str, ...] = SERVER.default("expect-tools")
    verify_timeout: float = SERVER.default("verify-timeout")  # seconds, all loads of it
    verify_memory: int = SERVER.default("verify-memory")  # address-space limit per load
    push_to: str | None = None  # URL_OR_REMOTE:BRANCH for its own branch (build --split)
    version: str | None = None  # overrides its project's version and [bundle] version
    mcpb_runtime: str = SERVER.default("mcpb-runtime")  # "uv" or "python" (pins in server/lib)
    mcpb_platforms: tuple[str, ...] = SERVER.default("mcpb-platforms")  # and server/lib wheels
    mcpb_compiled: bool = SERVER.default("mcpb-compiled")  # python runtime: compiled wheels
    mcpb: Mapping[str, Any] = field(default_factory=dict)  # manifest fields, over [bundle.mcpb]
    # (message, where, hint) of a missing entrypoint or requirements file, when the config
    # was read with defer_missing: planning the server raises it, failing only this server
    missing: tuple[str, str | None, str | None] | None = None


@dataclass(frozen=True, kw_only=True)
class Config:
    """A validated ``mcpbundle.toml``: every table, with paths resolved against ``root``."""

    path: Path  # the config file, absolute
    root: Path  # its directory: every relative path is read from here
    bundle: BundleSettings
    shared: Mapping[str, SharedLib]
    servers: Mapping[str, Server]
    check_ignore: tuple[str, ...] = CHECK.default("ignore")
    ci: CiSettings = field(default_factory=CiSettings)
    key_prefix: str = ""  # "tool.mcpbundle." when the config is a pyproject.toml table

    @property
    def display(self) -> str:
        return self.path.name

    def key(self, key_path: str) -> str:
        """``key_path`` as the file spells it (``tool.mcpbundle.servers.ops`` in a pyproject)."""
        return self.key_prefix + key_path

    def where(self, key_path: str) -> str:
        """``mcpbundle.toml: servers.ops`` / ``pyproject.toml: tool.mcpbundle.servers.ops``."""
        return f"{self.display}: {self.key(key_path)}"


class _TableReader(Reader):
    """A :class:`Reader` for a config nested in another file (``tool.mcpbundle.``)."""

    def __init__(self, display: str, prefix: str):
        super().__init__(display)
        self.prefix = prefix

    def fail(self, key_path: str, message: str, hint: str | None = None) -> ConfigError:
        return super().fail(self.prefix + key_path if key_path else self.prefix[:-1], message, hint)
