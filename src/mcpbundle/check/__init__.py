"""``mcpbundle check``: static checks that a server will load in the hosted runtime.

Nothing of the user's code is imported: each Python file is parsed once
(:mod:`ast`) and every rule reads the shared parse. Public API::

    findings = run_checks(targets, select=None, ignore=frozenset())
    print(format_findings(findings, "text"))
    if has_errors(findings):
        raise CheckFailed(...)

``select``/``ignore`` entries match a code exactly or as a prefix (``MCB00``).
A finding is also dropped by ``# mcpbundle: ignore[MCB008]`` (comma-separated
codes; bare ``# mcpbundle: ignore`` drops all) on its line, or by
``CheckTarget.ignore``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from mcpbundle.check import (  # noqa: F401  (importing registers the rules)
    rules_imports,
    rules_requirements,
    rules_runtime,
    rules_secrets,
    rules_server,
)
from mcpbundle.check.context import CheckContext, FileCache
from mcpbundle.check.model import (
    REGISTRY,
    CheckTarget,
    Finding,
    Severity,
    SourceFile,
    all_codes,
)
from mcpbundle.check.report import FORMATS, Format, format_findings

__all__ = [
    "FORMATS",
    "CheckTarget",
    "Finding",
    "Format",
    "Severity",
    "SourceFile",
    "all_codes",
    "format_findings",
    "has_errors",
    "run_checks",
]

_SUPPRESS = re.compile(r"#\s*mcpbundle:\s*ignore(?:\[([A-Za-z0-9_,\s]*)\])?")


def _matches(code: str, patterns: Iterable[str]) -> bool:
    return any(code.startswith(p.strip().upper()) for p in patterns if p.strip())


def _suppressed(finding: Finding, line_text: str | None) -> bool:
    if not line_text or "mcpbundle" not in line_text:
        return False
    for match in _SUPPRESS.finditer(line_text):
        codes = match.group(1)
        if codes is None:
            return True
        if finding.code in {c.strip().upper() for c in codes.split(",")}:
            return True
    return False


def _syntax_errors(target: CheckTarget, ctx: CheckContext) -> list[Finding]:
    out = []
    for path in ctx.python_paths():
        info = ctx.module(path)
        if info is None or info.error is None:
            continue
        err = info.error
        out.append(
            ctx.finding(
                "MCB000",
                file=info.display,
                line=err.lineno or 1,
                column=err.offset or 1,
                message=f"{path} does not parse: {err.msg}",
                fix="fix the syntax error (the runtime cannot import the module)",
            )
        )
    return out


def _line_of(ctx: CheckContext, sources: dict[str, SourceFile], finding: Finding) -> str | None:
    source = sources.get(finding.file)
    text = ctx.text(source) if source is not None else None
    if text is None:
        return None
    lines = text.splitlines()
    return lines[finding.line - 1] if 0 < finding.line <= len(lines) else None


def run_checks(
    targets: Sequence[CheckTarget],
    *,
    select: frozenset[str] | None = None,
    ignore: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Run every selected rule on every target; findings sorted deterministically."""
    cache = FileCache()
    findings: set[Finding] = set()
    for target in targets:
        ctx = CheckContext(target, cache)
        skip = ignore | target.ignore

        def wanted(code: str, skip: frozenset[str] = skip) -> bool:
            if select is not None and not _matches(code, select):
                return False
            return not _matches(code, skip)

        produced: list[Finding] = []
        if wanted("MCB000"):
            produced.extend(_syntax_errors(target, ctx))
        for code in sorted(REGISTRY):
            if wanted(code):
                produced.extend(REGISTRY[code].func(target, ctx))
        sources = {s.display: s for s in target.files.values()}
        sources.update({s.display: s for s in target.requirement_files.values()})
        findings.update(f for f in produced if not _suppressed(f, _line_of(ctx, sources, f)))
    return sorted(findings, key=Finding.sort_key)


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
