"""The rule registry: every check code, its default severity and summary, and its function.

A rule is a small generator ``(target, ctx) -> Iterator[Finding]`` registered with
:func:`rule`; :mod:`mcpbundle.check.engine` runs them. Apart from :mod:`model` (what a
rule reads and reports) so the context that rules share never needs the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from mcpbundle.check.context import CheckContext
from mcpbundle.check.model import CheckTarget, Finding, Severity

RuleFunc = Callable[["CheckTarget", "CheckContext"], Iterator[Finding]]


@dataclass(frozen=True, kw_only=True)
class Rule:
    """A registered check: its code, default severity, summary and function."""

    code: str
    severity: Severity  # the default severity (a rule may downgrade a finding)
    summary: str
    func: RuleFunc


REGISTRY: dict[str, Rule] = {}


# Findings produced by the context itself rather than by a registered rule.
BUILTIN_CODES: dict[str, tuple[Severity, str]] = {
    "MCB000": ("error", "a file cannot be read or parsed, or the server cannot be planned"),
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
