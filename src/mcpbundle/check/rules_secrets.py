"""Secrets that would ship in the bundle (MCB011).

The same file rules as the build (:func:`mcpbundle.files.is_secret`) and the same
content scanner and allow rules (``# mcpbundle: allow-secret``, ``[bundle]
allow-secrets``, :mod:`mcpbundle.secretscan`), so check and build never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator

from mcpbundle.check.context import CheckContext
from mcpbundle.check.model import CheckTarget, Finding, SourceFile, rule
from mcpbundle.files import is_secret
from mcpbundle.secretscan import allowed, scan_bytes


def _shipped(target: CheckTarget) -> list[tuple[str, SourceFile]]:
    seen: dict[str, tuple[str, SourceFile]] = {}
    for mapping in (target.files, target.requirement_files):
        for path, source in mapping.items():
            seen.setdefault(source.display, (path, source))
    return [seen[k] for k in sorted(seen)]


@rule("MCB011", "error", "a secret file or secret literal would ship")
def check_secrets(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    for path, source in _shipped(target):
        if is_secret(path):
            yield ctx.finding(
                "MCB011",
                file=source.display,
                line=1,
                message=f"{path} looks like a secret file and would ship in the bundle",
                fix="exclude it from the bundle and set the values as environment variables "
                "in the deployment",
            )
            continue
        data = source.path.read_bytes() if source.path.is_file() else b""
        for hit in scan_bytes(data, source.display):
            if allowed(source.display, hit.text, target.allow_secrets):
                continue
            yield ctx.finding(
                "MCB011",
                file=source.display,
                line=hit.line,
                message=f"{hit.kind} in a shipped file: {hit.masked}",
                fix="remove it from the file (and rotate it); read it from an "
                "environment variable instead",
            )
