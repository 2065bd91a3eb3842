"""Secrets that would ship in the bundle (MCB011).

Exactly the build's rules: the secret-file rules of :func:`mcpbundle.plan.repo_files.is_secret`
(names, and symlinks judged by their target) and the content scanner of
:mod:`mcpbundle.emit.secret_scan` with the same allow rules (pragmas, ``[bundle]
allow-secrets``, ``.secrets.baseline``). A finding in documentation that build
would only warn about is a warning here; a credentialed URL in anything that
ships, requirement files included, is an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from mcpbundle.check.context import CheckContext
from mcpbundle.check.model import CheckTarget, Finding, SourceFile
from mcpbundle.check.registry import rule
from mcpbundle.emit.secret_hint import mark_advice
from mcpbundle.emit.secret_scan import Baseline, load_baseline, scan_sources
from mcpbundle.plan.repo_files import is_secret, is_secret_link


def _shipped(target: CheckTarget) -> list[tuple[str, SourceFile]]:
    seen: dict[str, tuple[str, SourceFile]] = {}
    for mapping in (target.files, target.requirement_files):
        for path, source in mapping.items():
            seen.setdefault(source.display, (path, source))
    return [seen[k] for k in sorted(seen)]


def _on_disk(ctx: CheckContext, path: Path, link_root: Path) -> tuple[bool, bool]:
    """(a link to a secret, a regular file): once per file and run, as a vendored library's
    files are the same files in every server."""
    key = ("MCB011-disk", path, link_root)
    known = ctx.cache.facts.get(key)
    if not isinstance(known, tuple):
        known = ctx.cache.facts[key] = (is_secret_link(path, link_root), path.is_file())
    return known


@rule("MCB011", "error", "a secret file or secret literal would ship")
def check_secrets(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    root = target.repo_root
    scanned: list[tuple[Path | bytes, str]] = []
    for path, source in _shipped(target):
        link_root = root if root is not None else source.path.parent
        generated = source.data is not None  # in memory: never a link
        link, regular = (False, False) if generated else _on_disk(ctx, source.path, link_root)
        if is_secret(path) or link:
            yield ctx.finding(
                "MCB011",
                file=source.display,
                line=1,
                message=f"{path} looks like a secret file and would ship in the bundle",
                fix="exclude it from the bundle and set the values as environment variables "
                "in the deployment",
            )
        elif source.data is not None:
            scanned.append((source.data, source.display))
        elif regular:
            scanned.append((source.path, source.display))
    hits = scan_sources(
        scanned,
        target.allow_secrets,
        baseline=load_baseline(root) if root is not None else Baseline(),
        requirement_files={s.display for s in target.requirement_files.values()},
        rewritten_pyprojects=[s.display for p, s in target.files.items() if p == "pyproject.toml"],
    )
    for hit in hits:
        doc = " (documentation: it ships as written)" if hit.severity == "warning" else ""
        yield ctx.finding(
            "MCB011",
            file=hit.display,
            line=hit.line,
            message=f"{hit.kind} in a shipped file{doc}: {hit.masked}",
            fix="remove it from the file (and rotate it); read it from an environment "
            f"variable instead, or {mark_advice(hit.display)}",
            severity=hit.severity,
        )
