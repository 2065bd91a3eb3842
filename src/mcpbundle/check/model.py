"""What ``check`` reads (:class:`CheckTarget`) and what it reports (:class:`Finding`).

Rules (registered in :mod:`mcpbundle.check.registry`) never import user code: they
read the ASTs and texts the shared :class:`~mcpbundle.check.context.CheckContext`
parsed once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Names FastMCP looks for, in order, when no object is configured.
DEFAULT_OBJECT_NAMES = ("mcp", "server", "app")


@dataclass(frozen=True, kw_only=True)
class SourceFile:
    """One file a bundle would ship, as check reads it (its bytes, never written)."""

    path: Path  # the file on disk to read (with ``data``: a name only, never created)
    display: str  # what findings show as `file` (a repo-relative path)
    # the content, for a file the build would generate: check never writes it to disk
    data: bytes | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, kw_only=True)
class CheckTarget:
    """One server as the rules see it: the files its bundle ships, its entry and requirements."""

    server: str
    # path inside the server's bundle (POSIX, e.g. "src/server.py") -> file
    files: Mapping[str, SourceFile]
    entrypoint: str  # bundle path of the entry file
    # configured object or factory ("obj" or "file.py:obj"); None = first of mcp/server/app
    object_name: str | None
    sys_path: tuple[str, ...]  # bundle dirs on sys.path at load time, entry dir first
    # packages the entry shim registers (a subpackage server's chain): (bundle dir whose
    # modules are its submodules, or None for a chain package without one; dotted name)
    packages: tuple[tuple[str | None, str], ...] = ()
    requirement_files: Mapping[str, SourceFile]  # requirements files that will ship
    requirement_names: frozenset[str]  # canonical names of distributions the bundle installs
    ignore: frozenset[str] = frozenset()  # codes ignored by config
    skip: frozenset[str] = frozenset()  # rules that cannot run on it (they need a plan it lacks)
    python: str | None = None  # the target Python ("3.12"); None: the running one
    generated: frozenset[str] = frozenset()  # bundle paths mcpbundle writes (shim, dist-info)
    shim: str | None = None  # bundle path of the entry shim, when the bundle has one
    sdk_fix: str | None = None  # "file:line" for which the build adds `mcp<2`
    auto_fix: bool = True  # [bundle] auto-fix: False makes that fix a build error
    # what the build adds because the pins lack fastmcp ("fastmcp", "fastmcp>=4"; None: nothing),
    # the requirement file where the user's fix goes, and the requirements check cannot see into
    fastmcp_fix: str | None = None
    fastmcp_at: str | None = None
    unseen: tuple[str, ...] = ()
    # git requirements the offline plan did not fetch: "file:line: URL (policy, not fetched)"
    unfetched: tuple[str, ...] = ()
    allow_secrets: tuple[str, ...] = ()  # [bundle] allow-secrets: paths that may hold secrets
    lock: str | None = None  # the lock file whose pins seed the resolver (repo-relative)
    lock_pins: Mapping[str, str] = field(default_factory=dict)  # canonical name -> its pin
    # findings made while building the target (a plan-time error); filtered like the rest
    problems: tuple[Finding, ...] = ()
    # requirement_files are the server's own, unplanned (a plan-time error): what the build
    # does with a local path there, by resolved absolute directory ("vendors shared lib 'x'")
    raw_requirements: bool = False
    local_dirs: Mapping[str, str] = field(default_factory=dict)
    # where .secrets.baseline is looked up and symlinks are resolved from (None: neither)
    repo_root: Path | None = None


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One problem a rule found, located by file, line and column, with its fix."""

    code: str
    severity: Severity
    server: str
    file: str  # display path
    line: int  # 1-based
    column: int  # 1-based
    message: str
    fix: str
    # For the text format's code frame (not part of the JSON/github output):
    span: int = field(default=0, compare=False)  # bytes to underline from `column`; 0: to the end
    source: str | None = field(default=None, compare=False)  # the text of `line`

    def sort_key(self) -> tuple[str, str, int, int, str, str]:
        return (self.server, self.file, self.line, self.column, self.code, self.message)
