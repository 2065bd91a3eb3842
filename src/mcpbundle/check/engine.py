"""Run every selected rule on every target: ``mcpbundle check``'s engine.

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
from dataclasses import replace

from mcpbundle.check import (  # noqa: F401  (importing registers the rules)
    rules_imports,
    rules_licences,
    rules_paths,
    rules_registration,
    rules_requirements,
    rules_runtime,
    rules_secrets,
    rules_server,
)
from mcpbundle.check.context import CheckContext, FileCache, ModuleInfo
from mcpbundle.check.model import CheckTarget, Finding, SourceFile
from mcpbundle.check.registry import REGISTRY, all_codes, default_severity

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
                message=f"{path} does not parse"
                + (f" as Python {target.python}" if target.python else "")
                + f": {err.msg}",
                fix="fix the syntax error (the runtime cannot import the module)",
            )
        )
    return out


def _unparsed(ctx: CheckContext) -> list[ModuleInfo]:
    found = []
    for path in ctx.python_paths():
        info = ctx.module(path)
        if info is not None and info.unparsed is not None:
            found.append(info)
    return found


def _unchecked_warnings(unchecked: dict[str, list[tuple[str, ModuleInfo]]]) -> list[Finding]:
    """One warning per target Python whose grammar was needed but unavailable."""
    out = []
    for python, infos in sorted(unchecked.items()):
        server, first = infos[0]
        assert first.unparsed is not None
        files = sorted({info.display for _, info in infos})
        shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
        out.append(
            Finding(
                code="MCB000",
                severity="warning",
                server=server,
                file=first.display,
                line=1,
                column=1,
                message=f"cannot check {python}-only syntax: {first.unparsed.reason}; install it "
                f"({_plural(len(files), 'file')} not checked: {shown})",
                fix=f"install Python {python} (on PATH or with pyenv) and run check again",
            )
        )
    return out


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _merge_problems(target: CheckTarget, produced: list[Finding]) -> list[Finding]:
    """Rule findings plus the target's plan-time errors, each said once.

    The plan's error wins over a rule's finding of the same code, file and line (it
    is what ``build`` prints), and over any MCB000 of the same file (a file fails to
    parse once); a "no server object" plan error (MCB001) only shows when the MCB001
    rule found nothing (the rule says more)."""

    def same_file(a: Finding, b: Finding) -> bool:
        return a.file == b.file or a.file.endswith("/" + b.file)

    def covers(problem: Finding, finding: Finding) -> bool:
        if problem.code != finding.code or not same_file(finding, problem):
            return False
        return problem.code == "MCB000" or problem.line == finding.line

    problems = [
        p
        for p in target.problems
        if not (p.code == "MCB001" and any(f.code == p.code for f in produced))
    ]
    return [f for f in produced if not any(covers(p, f) for p in problems)] + problems


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
    unchecked: dict[str, list[tuple[str, ModuleInfo]]] = {}
    for target in targets:
        ctx = CheckContext(target, cache, default_severity)
        skip = ignore | target.ignore

        def wanted(code: str, skip: frozenset[str] = skip) -> bool:
            if select is not None and not _matches(code, select):
                return False
            return not _matches(code, skip)

        produced: list[Finding] = []
        if wanted("MCB000"):
            produced.extend(_syntax_errors(target, ctx))
            for info in _unparsed(ctx):
                unchecked.setdefault(target.python or "", []).append((target.server, info))
        for code in sorted(REGISTRY):
            if wanted(code) and code not in target.skip:
                produced.extend(REGISTRY[code].func(target, ctx))
        produced = _merge_problems(target, produced)
        produced = [f for f in produced if wanted(f.code)]
        sources = {s.display: s for s in target.files.values()}
        sources.update({s.display: s for s in target.requirement_files.values()})
        for finding in produced:
            line = _line_of(ctx, sources, finding)
            if not _suppressed(finding, line):
                findings.add(replace(finding, source=line) if line is not None else finding)
    findings.update(_unchecked_warnings(unchecked))
    return sorted(findings, key=Finding.sort_key)


def unknown_codes(patterns: Iterable[str]) -> list[str]:
    """The ``--select``/``--ignore`` entries that match no code (exactly or as a prefix)."""
    codes = all_codes()
    return [p for p in patterns if not any(code.startswith(p.strip().upper()) for code in codes)]


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)
