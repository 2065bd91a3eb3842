"""What ``check`` reads (:class:`CheckTarget`), what it reports (:class:`Finding`),
and the rule registry.

A rule is a small generator ``(target, ctx) -> Iterator[Finding]`` registered
with :func:`rule`. It never imports user code: it reads the ASTs and texts the
shared :class:`~mcpbundle.check.context.CheckContext` parsed once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from mcpbundle.check.context import CheckContext

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Names FastMCP looks for, in order, when no object is configured.
DEFAULT_OBJECT_NAMES = ("mcp", "server", "app")


@dataclass(frozen=True, kw_only=True)
class SourceFile:
    path: Path  # the file on disk to read
    display: str  # what findings show as `file` (a repo-relative path)


@dataclass(frozen=True, kw_only=True)
class CheckTarget:
    server: str
    # path inside the server's bundle (POSIX, e.g. "src/server.py") -> file
    files: Mapping[str, SourceFile]
    entrypoint: str  # bundle path of the entry file
    # configured object or factory ("obj" or "file.py:obj"); None = first of mcp/server/app
    object_name: str | None
    sys_path: tuple[str, ...]  # bundle dirs on sys.path at load time, entry dir first
    requirement_files: Mapping[str, SourceFile]  # requirements files that will ship
    requirement_names: frozenset[str]  # canonical names of distributions the bundle installs
    ignore: frozenset[str] = frozenset()  # codes ignored by config
    # the secret rules' inputs (MCB011): where .secrets.baseline is looked up and symlinks
    # are resolved from (None: neither), and [bundle] allow-secrets
    repo_root: Path | None = None
    allow_secrets: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Finding:
    code: str
    severity: Severity
    server: str
    file: str  # display path
    line: int  # 1-based
    column: int  # 1-based
    message: str
    fix: str

    def sort_key(self) -> tuple[str, str, int, int, str, str]:
        return (self.server, self.file, self.line, self.column, self.code, self.message)


RuleFunc = Callable[["CheckTarget", "CheckContext"], Iterator[Finding]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    code: str
    severity: Severity  # the default severity (a rule may downgrade a finding)
    summary: str
    func: RuleFunc


REGISTRY: dict[str, Rule] = {}

# Findings produced by the context itself rather than by a registered rule.
BUILTIN_CODES: dict[str, tuple[Severity, str]] = {
    "MCB000": ("error", "a Python file does not parse"),
}


def rule(code: str, severity: Severity, summary: str) -> Callable[[RuleFunc], RuleFunc]:
    """Register a rule function under ``code``."""

    def register(func: RuleFunc) -> RuleFunc:
        if code in REGISTRY or code in BUILTIN_CODES:
            raise ValueError(f"duplicate check code {code}")
        REGISTRY[code] = Rule(code=code, severity=severity, summary=summary, func=func)
        return func

    return register


def default_severity(code: str) -> Severity:
    if code in REGISTRY:
        return REGISTRY[code].severity
    return BUILTIN_CODES[code][0]


def all_codes() -> dict[str, str]:
    """Every code and its one-line summary, sorted by code."""
    codes = {code: summary for code, (_, summary) in BUILTIN_CODES.items()}
    codes.update({code: r.summary for code, r in REGISTRY.items()})
    return dict(sorted(codes.items()))
