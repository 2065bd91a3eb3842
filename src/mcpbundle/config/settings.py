"""What a valid ``mcpbundle.toml`` says, as frozen dataclasses (and each key's default).

:mod:`mcpbundle.config.validate` makes them from the file; every other stage reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.ci_settings import CiSettings
from mcpbundle.config.schema import Reader
from mcpbundle.config.verify_settings import (
    DEFAULT_MEMORY,
    DEFAULT_TIMEOUT,
)

MAX_NAME = 64  # characters in a server or shared-library name
DEFAULT_MAX_FILE_SIZE = 50 * 10**6  # [bundle] max-file-size: 50 MB

RESOLVERS = ("pip-tools", "uv")
GIT_POLICIES = ("vendor", "pin", "pypi")
LOCK_MODES = ("shared", "per-server")
SHIM_MODES = ("auto", "always", "never")
FORMATS = ("dir", "mcpb")  # [bundle] formats / build --format; "dir" is always written
MCPB_RUNTIMES = ("uv", "python")
MCPB_PLATFORMS = ("darwin", "linux", "win32")  # the MCP Bundle spec's platform names
# One architecture of a platform (mcpb-platforms): a compiled server/lib for it alone.
MCPB_ARCHES = ("darwin-arm64", "darwin-x86_64", "linux-x86_64", "linux-aarch64", "win32-amd64")


@dataclass(frozen=True, kw_only=True)
class DeploySettings:
    author_name: str = "mcpbundle"
    author_email: str = "mcpbundle@localhost"
    push_to: str | None = None  # URL_OR_REMOTE:BRANCH, may hold {server}


@dataclass(frozen=True, kw_only=True)
class BundleSettings:
    output: str = "dist"
    exclude: tuple[str, ...] = ()
    python: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    hashes: bool = False
    resolver: str = "pip-tools"
    git: str = "vendor"
    git_overrides: Mapping[str, str] = field(default_factory=dict)
    branch: str = "deploy"
    deploy: DeploySettings = field(default_factory=DeploySettings)
    lock: str = "shared"
    constraints: tuple[str, ...] = ()  # pin files, relative to the config: resolver preferences
    add_fastmcp: bool = True
    auto_fix: bool = True
    allow_secrets: tuple[str, ...] = ()
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes; a larger file to ship fails the build
    formats: tuple[str, ...] = ("dir",)  # outputs a build writes (see FORMATS)
    version: str | None = None  # a server's version when its project names none (.mcpb)
    mcpb: Mapping[str, Any] = field(default_factory=dict)  # manifest fields for every .mcpb


@dataclass(frozen=True, kw_only=True)
class SharedLib:
    name: str
    path: str  # POSIX, relative to the config directory
    packages: tuple[str, ...] | None = None  # None: discovered
    requires: tuple[str, ...] | None = None  # None: inferred from its dependencies


@dataclass(frozen=True, kw_only=True)
class Server:
    name: str
    path: str  # POSIX, relative to the config directory
    entrypoint: str  # file, relative to ``path``
    object: str | None = None  # None: FastMCP's rule (mcp, server, app)
    requirements: str | None = None  # relative to ``path`` (may leave it); None: default rule
    constraints: tuple[str, ...] = ()  # pin files, relative to ``path``: resolver preferences
    shared: tuple[str, ...] = ()
    vendor_dir: str | None = None  # relative to ``path``; None: the entrypoint's directory
    exclude: tuple[str, ...] = ()
    shim: str = "auto"
    shim_name: str = "mcpbundle_entry.py"
    ignore: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    expect_tools: tuple[str, ...] = ()
    verify_timeout: float = DEFAULT_TIMEOUT  # seconds for all of verify's loads of it
    verify_memory: int = DEFAULT_MEMORY  # address-space limit of each load, bytes
    push_to: str | None = None  # URL_OR_REMOTE:BRANCH for its own branch (build --split)
    version: str | None = None  # overrides its project's version and [bundle] version
    mcpb_runtime: str = "uv"  # "uv": the client installs the pins; "python": bundled in server/lib
    mcpb_platforms: tuple[str, ...] = MCPB_PLATFORMS  # compatibility.platforms; lib wheels
    mcpb_compiled: bool = False  # python runtime: allow compiled wheels (one per platform)
    mcpb: Mapping[str, Any] = field(default_factory=dict)  # manifest fields, over [bundle.mcpb]


@dataclass(frozen=True, kw_only=True)
class Config:
    path: Path  # the config file, absolute
    root: Path  # its directory: every relative path is read from here
    bundle: BundleSettings
    shared: Mapping[str, SharedLib]
    servers: Mapping[str, Server]
    check_ignore: tuple[str, ...] = ()
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
