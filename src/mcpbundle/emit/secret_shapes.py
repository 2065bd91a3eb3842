"""What detect-secrets lacks, in its own plugin and filter shapes.

detect-secrets (:mod:`mcpbundle.emit.secret_engine`) is the engine; this module adds
the token formats it has no plugin for (Anthropic, Google, GitHub fine-grained, a
kubeconfig's base64-encoded client key,
AWS secret access keys outside its one quoted form, URLs with a password that
contains ``!`` or ``$``, real-looking values in ``.env.example``) and the
placeholder rules every finding passes through: ``your-…``, ``<token>``,
``${VAR}``, ``xxx…``, ``changeme``, ``example``, all-same or sequential
characters, values shorter than the format's real length.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Generator, Sequence

from detect_secrets.filters.heuristic import is_sequential_string
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector

# Patterns start with their literal prefix: the regex engine then skips ahead to it, which
# is what makes running them over a whole file fast.
_E = r"(?![A-Za-z0-9_-])"  # not followed by a token character
_AWS_ID = re.compile(r"(?<![A-Z0-9])(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")
_AWS_SECRET = r"(?<![A-Za-z0-9/+])([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"


class AnthropicKeyDetector(RegexBasedDetector):
    """Anthropic API keys: ``sk-ant-api03-`` + 95 characters (108 in all)."""

    secret_type = "Anthropic API Key"
    denylist = (re.compile(rf"sk-ant-(?:api|admin)\d\d-[A-Za-z0-9_-]{{80,}}{_E}"),)


class GoogleApiKeyDetector(RegexBasedDetector):
    secret_type = "Google API Key"
    denylist = (re.compile(rf"AIza[0-9A-Za-z_-]{{35}}{_E}"),)


class GitHubFineGrainedDetector(RegexBasedDetector):
    """``github_pat_`` + 22 + ``_`` + 59 characters (the classic ``ghp_`` is detect-secrets')."""

    secret_type = "GitHub Token"
    denylist = (re.compile(rf"github_pat_[A-Za-z0-9]{{22}}_[A-Za-z0-9]{{59}}{_E}"),)


class AWSSecretKeyDetector(RegexBasedDetector):
    """A 40-character AWS secret access key: assigned to an ``aws…secret`` name (quoted or
    not, as in ``.aws/credentials`` or a shell export), or within five lines of a key id."""

    secret_type = "AWS Secret Access Key"
    denylist = (
        re.compile(
            r"aws[\w.-]{0,20}?secret[\w.-]{0,20}?['\"]?\s*[:=]\s*['\"]?" + _AWS_SECRET,
            re.IGNORECASE,
        ),
    )
    _bare = re.compile(_AWS_SECRET)

    def near_key_id(self, line: str, context: Sequence[str]) -> list[str]:
        """40-character values on ``line`` when a key id is in ``context`` (the lines around)."""
        if not any(_AWS_ID.search(text) for text in context):
            return []
        return [value for value in self._bare.findall(line) if _mixed_case_and_digit(value)]


class KubeconfigKeyDetector(RegexBasedDetector):
    """A kubeconfig's ``client-key-data``: a PEM private key, base64-encoded (``LS0tLS1CRUdJTi``
    is ``-----BEGIN``), which the private-key plugin cannot see through the encoding."""

    secret_type = "Private Key"
    denylist = (
        re.compile(r"client-key-data['\"]?\s*:\s*['\"]?(LS0tLS1CRUdJTi[A-Za-z0-9+/=]{20,})"),
    )


class CredentialedURLDetector(BasicAuthDetector):
    """detect-secrets' basic-auth plugin, also for passwords with ``!$&'()*+,;=`` in them
    (legal in a URL's userinfo), in any scheme (``git+https``, ``postgresql+psycopg``). The
    secret is the password, as for the original."""

    denylist = [  # noqa: RUF012 - a list, as in the class it extends
        re.compile(
            r"[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@\[\]'\"`<>]+:([^\s:/?#@\[\]'\"`]+)@[^\s/@]"
        ),
    ]


def _mixed_case_and_digit(value: str) -> bool:
    return (
        any(c.isdigit() for c in value)
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
    )


# -------------------------------------------------------------------- placeholders

PLACEHOLDER_WORDS = (
    "your", "example", "changeme", "change-me", "change_me", "placeholder", "replace",
    "dummy", "redacted", "sample", "insert", "todo", "xxxx", "...", "…", "***",
)  # fmt: skip
# The user-info word for the password itself: ``user:password@``, ``user:pass@``.
PASSWORD_WORDS = frozenset({"password", "pass", "passwd", "pwd", "secret", "token", "none", "null"})
# Published example values (AWS documentation, jwt.io).
KNOWN_EXAMPLES = ("EXAMPLE", "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
_PREFIX = re.compile(
    r"^(?:(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA|AIza)|(?:[A-Za-z]{2,6}\d{0,2}[_-]){1,3})"
)
_TEMPLATED = re.compile(r"\{[^}]*\}|%\(\w*\)[sd]|%[sd]\b|\$\{?[A-Za-z_]|<[^>]*>|\{\{")
_SEGMENTS = re.compile(r"[A-Za-z0-9]+")
# the shortest real value of each kind whose plugin accepts any length
MIN_LENGTH = {"Slack Token": 40, "JSON Web Token": 40, "Private Key": 1}


def is_placeholder(value: str, *, kind: str = "") -> bool:
    """A documented stand-in rather than a credential (see the module docstring)."""
    if len(value) < MIN_LENGTH.get(kind, 1):
        return True
    lowered = value.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS) or lowered.startswith("xxx"):
        return True
    if any(example in value for example in KNOWN_EXAMPLES):
        return True
    if value.startswith(("<", "{", "$", "%(")) or _TEMPLATED.search(value):
        return True
    body = _PREFIX.sub("", value, count=1) or value
    segments = [s for s in _SEGMENTS.findall(body) if len(s) >= 3] or _SEGMENTS.findall(body)
    if not segments:
        return True  # nothing but punctuation: ******** or ----
    return all(len(set(s.lower())) == 1 or is_sequential_string(s) for s in segments)


def real_looking(value: str) -> bool:
    """For values found by name only (``PASSWORD = "…"``): not a placeholder, not a word,
    an identifier, a path or a template, at least 8 characters."""
    if len(value) < 8 or any(c.isspace() for c in value) or is_placeholder(value):
        return False
    if value.startswith(("/", "./", "../", "~/")) or "://" in value:
        return False
    parts = re.split(r"[-_.:]", value)
    return not all(p.isalpha() or p.isdigit() or not p for p in parts)


def url_password_placeholder(password: str) -> bool:
    """``user:pass@`` / ``user:password@`` / ``user:${DB_PASSWORD}@``: a template."""
    return password.lower() in PASSWORD_WORDS or is_placeholder(password)


# ------------------------------------------------------------------- .env.example

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_HEX = re.compile(r"[0-9a-fA-F]{32,}")
_ENTROPY_SEGMENT = re.compile(r"[A-Za-z0-9+/=]+")


class EnvExampleValueDetector(RegexBasedDetector):
    """``KEY=value`` lines of an ``.env.example`` whose value is a real-looking secret: the
    file documents variables, so any high-entropy value is a leak (detect-secrets' entropy
    plugins only see quoted strings)."""

    secret_type = "Env Example Value"
    denylist = (_ENV_LINE,)

    def analyze_string(self, string: str) -> Generator[str, None, None]:
        value = env_value(string)
        if value is not None and "://" not in value and _high_entropy(value):
            yield value


def env_value(line: str) -> str | None:
    match = _ENV_LINE.match(line)
    if match is None:
        return None
    value = match.group(2)
    if value[:1] in ("'", '"'):
        return value[1:].split(value[0], 1)[0]
    return value.split(" #", 1)[0].strip()


def _high_entropy(value: str, min_length: int = 16) -> bool:
    if len(value) < min_length or any(c.isspace() for c in value) or is_placeholder(value):
        return False
    if _HEX.fullmatch(value) and any(c.isdigit() for c in value) and not value.isdigit():
        return True
    for segment in _ENTROPY_SEGMENT.findall(re.sub(r"[-_.]", " ", value)):
        if len(segment) < min_length or _words(segment):
            continue
        if entropy(segment) >= 3.3:
            return True
    return False


def _words(segment: str) -> bool:
    """Words or numbers, alone or between slashes (``MCPWikipediaServer/1``, a path):
    what names and versions are made of, not what random keys are."""
    return all(part.isalpha() or part.isdigit() for part in segment.split("/") if part)


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values()) if n else 0.0


# --------------------------------------------------------------------- private keys

_KEY_BODY = re.compile(r"[A-Za-z0-9+/=]{8,}")
_ARMOR_HEADER = re.compile(r"^\s*(?:Proc-Type|DEK-Info|Version|Comment|Hash):")


def has_key_material(lines: Sequence[str], index: int) -> bool:
    """The ``BEGIN … PRIVATE KEY`` on ``lines[index]`` is followed by key material: base64
    on the same line after the header (``\\n``-escaped in a string) or on the next
    non-blank line, or an armor header (an encrypted key); not ``...`` or ``<your key>``."""
    line = lines[index]
    if "PuTTY-User-Key-File" in line:
        return True
    rest = re.split(r"PRIVATE KEY(?: BLOCK)?-*", line, maxsplit=1)[-1]
    chunks = rest.replace("\\n", "\n").split("\n")[1:2]
    following = [text for text in lines[index + 1 : index + 4] if text.strip()]
    if following and _ARMOR_HEADER.match(following[0]):
        return True
    for text in [*chunks, *following[:1]]:
        body = text.strip().strip("\"'`,;+").removesuffix("\\n").strip("\"'`")
        if _KEY_BODY.fullmatch(body) and not is_placeholder(body):
            return True
    return False
