"""Secrets that would ship in the bundle (MCB011)."""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterator

from mcpbundle.check.context import CheckContext
from mcpbundle.check.model import CheckTarget, Finding, SourceFile, rule

SECRET_FILE_PATTERNS = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pypirc",
    "credentials*.json",
)
NOT_SECRET_FILES = frozenset({".env.example"})

SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an API key (sk-...)", re.compile(r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_\w{22,})")),
    ("an AWS access key id", re.compile(r"\bAKIA[0-9A-Z]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
)


def is_secret_file(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    if base in NOT_SECRET_FILES:
        return False
    return any(fnmatch.fnmatchcase(base, pattern) for pattern in SECRET_FILE_PATTERNS)


def mask(value: str) -> str:
    """``AKIA****************`` style: enough to find it, not enough to use it."""
    if value.startswith("-----"):
        return value
    keep = 4 if len(value) > 12 else 2
    return value[:keep] + "*" * min(len(value) - keep, 16) + f" ({len(value)} chars)"


def _plausible(kind: str, value: str) -> bool:
    """Placeholders like ``sk-your-api-key-here`` are not secrets: want letters and digits."""
    if kind.startswith("an API key"):
        body = value[3:]
        return any(c.isdigit() for c in body) and any(c.isalpha() for c in body)
    return True


def _shipped(target: CheckTarget) -> list[tuple[str, SourceFile]]:
    seen: dict[str, tuple[str, SourceFile]] = {}
    for mapping in (target.files, target.requirement_files):
        for path, source in mapping.items():
            seen.setdefault(source.display, (path, source))
    return [seen[k] for k in sorted(seen)]


@rule("MCB011", "error", "a secret file or secret literal would ship")
def check_secrets(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    for path, source in _shipped(target):
        if is_secret_file(path):
            yield ctx.finding(
                "MCB011",
                file=source.display,
                line=1,
                message=f"{path} looks like a secret file and would ship in the bundle",
                fix="exclude it from the bundle and set the values as environment variables "
                "in the deployment",
            )
            continue
        text = ctx.text(source)
        if text is None:
            continue
        for lineno, line in enumerate(text.splitlines(), start=1):
            for kind, pattern in SECRET_PATTERNS:
                for match in pattern.finditer(line):
                    if not _plausible(kind, match.group(0)):
                        continue
                    yield ctx.finding(
                        "MCB011",
                        file=source.display,
                        line=lineno,
                        column=match.start() + 1,
                        message=f"{kind} in a shipped file: {mask(match.group(0))}",
                        fix="remove it from the file (and rotate it); read it from an "
                        "environment variable instead",
                    )
