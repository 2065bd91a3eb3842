"""Content scanning of everything that will ship: secrets by shape, not by file name.

:mod:`mcpbundle.files` keeps secret *files* (``.env``, keys, credentials) out of
the bundle by name. This module reads the content of every file that will be
copied and looks for well-known token shapes (private key blocks, AWS, GitHub,
PyPI, OpenAI, Anthropic, Slack, Google and Stripe keys) and, in ``.env.example``,
``KEY=value`` lines whose value is a real-looking secret rather than a
placeholder. A hit fails the build before anything is written, unless the line
carries ``mcpbundle: allow-secret`` (in a comment) or the file matches one of
``[bundle] allow-secrets`` (gitignore-style patterns, repo-relative).

Reported values are masked: enough to find the line, not enough to use the key.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pathspec

from mcpbundle.errors import BuildError

if TYPE_CHECKING:
    from mcpbundle.config import Config
    from mcpbundle.plan import BuildPlan

ALLOW_MARKER = "mcpbundle: allow-secret"
ENV_EXAMPLE_NAMES = frozenset({".env.example"})

_B = r"(?<![A-Za-z0-9_-])"  # not preceded by a token character
_E = r"(?![A-Za-z0-9_-])"  # not followed by one

# (kind, pattern), most specific first: a span matched by one kind is not reported again.
TOKEN_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("AWS access key id", re.compile(rf"{_B}(?:AKIA|ASIA)[0-9A-Z]{{16}}{_E}")),
    ("GitHub token", re.compile(rf"{_B}gh[pousr]_[A-Za-z0-9]{{30,}}{_E}")),
    ("GitHub token", re.compile(rf"{_B}github_pat_[A-Za-z0-9_]{{30,}}{_E}")),
    ("PyPI token", re.compile(rf"{_B}pypi-AgEI[A-Za-z0-9_-]{{40,}}{_E}")),
    ("Anthropic API key", re.compile(rf"{_B}sk-ant-[A-Za-z0-9_-]{{20,}}{_E}")),
    ("OpenAI API key", re.compile(rf"{_B}sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{{20,}}{_E}")),
    ("Slack token", re.compile(rf"{_B}xox[abprse]-[A-Za-z0-9-]{{10,}}{_E}")),
    ("Google API key", re.compile(rf"{_B}AIza[0-9A-Za-z_-]{{35}}{_E}")),
    ("Stripe secret key", re.compile(rf"{_B}(?:sk|rk)_live_[0-9A-Za-z]{{20,}}{_E}")),
)

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_PLACEHOLDER_WORDS = (
    "your", "example", "changeme", "change-me", "change_me", "placeholder", "replace",
    "dummy", "xxxx", "todo", "insert", "secret-here", "here", "redacted", "...",
)  # fmt: skip
_SEGMENT = re.compile(r"[A-Za-z0-9+/=]+")
_HEX = re.compile(r"[0-9a-fA-F]{32,}")


@dataclass(frozen=True, kw_only=True)
class SecretHit:
    display: str  # repo-relative path
    line: int
    kind: str
    masked: str
    text: str = field(default="", repr=False, compare=False)  # the line (for the allow marker)


def mask(value: str) -> str:
    """``AKIA…(20 chars)``: the kind's prefix, never the key."""
    if value.startswith("-----"):
        return value
    keep = 4 if len(value) > 12 else 1
    return f"{value[:keep]}…({len(value)} chars)"


def scan_bytes(data: bytes, display: str) -> list[SecretHit]:
    """Every secret-looking value in ``data`` (the content of ``display``), line by line."""
    text = data.decode("utf-8", errors="replace")
    env_file = display.rsplit("/", 1)[-1] in ENV_EXAMPLE_NAMES
    hits: list[SecretHit] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = _token_hits(line)
        if env_file and not found:
            value = _env_secret(line)
            if value is not None:
                found = [("high-entropy value in .env.example", value)]
        hits.extend(
            SecretHit(display=display, line=number, kind=kind, masked=mask(value), text=line)
            for kind, value in found
        )
    return hits


def _token_hits(line: str) -> list[tuple[str, str]]:
    taken: list[tuple[int, int]] = []
    found: list[tuple[str, str]] = []
    for kind, pattern in TOKEN_PATTERNS:
        for match in pattern.finditer(line):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            value = match.group(0)
            if kind.endswith("API key") and kind != "Google API key" and not _mixed(value):
                continue  # sk-your-api-key-here: a placeholder, not a key
            taken.append((start, end))
            found.append((kind, value))
    return found


def _mixed(value: str) -> bool:
    body = value.split("-", 1)[-1]
    return any(c.isdigit() for c in body) and any(c.isalpha() for c in body)


def _env_secret(line: str) -> str | None:
    """The value of a ``KEY=value`` line when it looks like a real secret, else None."""
    match = _ENV_LINE.match(line)
    if match is None:
        return None
    value = match.group(2)
    if value[:1] in ("'", '"'):
        value = value[1:].split(value[0], 1)[0]
    else:
        value = value.split(" #", 1)[0].strip()
    if "://" in value:  # a URL: only a password in it can be a secret
        userinfo = value.split("://", 1)[1].split("/", 1)[0].rpartition("@")[0]
        password = userinfo.partition(":")[2]
        return value if password and _secret_like(password, min_length=8) else None
    return value if _secret_like(value, min_length=16) else None


def _secret_like(value: str, *, min_length: int) -> bool:
    lowered = value.lower()
    if len(value) < min_length or any(c.isspace() for c in value):
        return False
    if any(word in lowered for word in _PLACEHOLDER_WORDS):
        return False
    if value.startswith(("<", "${", "$(")) or set(value) <= {"x", "X", "*", "-", "_", "0"}:
        return False
    if _HEX.fullmatch(value) and any(c.isdigit() for c in value) and not value.isdigit():
        return True
    for segment in _SEGMENT.findall(value.replace("-", " ").replace("_", " ").replace(".", " ")):
        if len(segment) < min_length or segment.isdigit() or segment.isalpha():
            continue
        if entropy(segment) >= 3.3:
            return True
    return False


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


def allowed(repo_path: str, line_text: str, allow_globs: Sequence[str]) -> bool:
    """True when the line is marked ``mcpbundle: allow-secret`` or the path is allow-listed."""
    if ALLOW_MARKER in line_text:
        return True
    if not allow_globs:
        return False
    return bool(pathspec.GitIgnoreSpec.from_lines(list(allow_globs)).match_file(repo_path))


def scan_files(root: Path, paths: Iterable[str], allow_globs: Sequence[str]) -> list[SecretHit]:
    """Hits in the repo-relative ``paths`` under ``root`` that no allow rule covers."""
    spec = pathspec.GitIgnoreSpec.from_lines(list(allow_globs)) if allow_globs else None
    hits: list[SecretHit] = []
    for rel in sorted(set(paths)):
        if spec is not None and spec.match_file(rel):
            continue
        try:
            data = (root / rel).read_bytes()
        except OSError as exc:
            raise BuildError(f"cannot read: {exc.strerror}", where=rel) from exc
        hits.extend(h for h in scan_bytes(data, rel) if ALLOW_MARKER not in h.text)
    return hits


def shipped_sources(plan: BuildPlan) -> list[str]:
    """Repo-relative source of every file the plan copies (servers and vendored code)."""
    return sorted({copy.source for server in plan.servers for copy in server.files})


def check_plan(config: Config, plan: BuildPlan) -> None:
    """Fail the build (BuildError) when a file that would ship contains a secret."""
    hits = scan_files(config.root, shipped_sources(plan), config.bundle.allow_secrets)
    if hits:
        raise secret_error(hits)


def secret_error(hits: Sequence[SecretHit]) -> BuildError:
    first = hits[0]
    article = "an" if first.kind[:1].lower() in "aeio" else "a"
    message = f"looks like {article} {first.kind} ({first.masked})"
    if len(hits) > 1:
        others = ", ".join(f"{h.display}:{h.line}" for h in hits[1:6])
        more = f" and {len(hits) - 6} more" if len(hits) > 6 else ""
        message += f" (also {others}{more})"
    return BuildError(
        message,
        where=f"{first.display}:{first.line}",
        hint="remove it, or mark the line '# mcpbundle: allow-secret' / add the path to "
        "[bundle] allow-secrets",
    )
