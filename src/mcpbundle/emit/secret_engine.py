"""detect-secrets as the scanning engine, in-process.

Its plugins find the candidates (plus the few formats it lacks, from
:mod:`mcpbundle.emit.secret_shapes`); its filters drop templated, sequential, UUID-like
and indirect values; its inline ``pragma: allowlist secret`` (and ``allowlist
nextline secret`` on the line before) allows a line. The loop over lines is ours
rather than ``detect_secrets.core.scan.scan_file`` because a build gate needs
three things that one does not do: a token is a token even on a line that calls
a function (``Github("ghp_…")``, which detect-secrets skips as an "indirect
reference"), bytes already read are not read again, and every finding carries
the line it came from so ``mcpbundle: allow-secret`` can be honoured.

Not used, on purpose: the high-entropy plugins outside ``.env.example`` (every
digest in a lock file or a test vector would fail the build), the public-IP
plugin (an address is no credential), verification (it would send the secret
to its service) and any plugin or filter a ``.secrets.baseline`` names (that
would run code from the repository); a baseline contributes its results only.
"""

from __future__ import annotations

import bisect
import itertools
import re
import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import cast

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.filters import heuristic
from detect_secrets.filters.allowlist import is_line_allowlisted
from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector
from detect_secrets.plugins.basic_auth import BasicAuthDetector
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
from detect_secrets.plugins.ip_public import IPPublicDetector
from detect_secrets.plugins.keyword import KeywordDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.util.code_snippet import CodeSnippet, get_code_snippet

from mcpbundle.emit.secret_scan import ALLOW_MARKER
from mcpbundle.emit.secret_shapes import (
    AnthropicKeyDetector,
    AWSSecretKeyDetector,
    CredentialedURLDetector,
    EnvExampleValueDetector,
    GitHubFineGrainedDetector,
    GoogleApiKeyDetector,
    KubeconfigKeyDetector,
    has_key_material,
    is_placeholder,
    real_looking,
    url_password_placeholder,
)

ENV_EXAMPLE_NAMES = frozenset({".env.example"})

# Every plugin module, imported with this module: mcpbundle.emit.secret_scan imports it
# through mcpbundle.emit.offline_import, which keeps the real requests out only meanwhile.
_PLUGIN_TYPES: Mapping[str, type[BasePlugin]] = get_mapping_from_secret_type_to_class()

# Formats with a checksum or a fixed structure: a finding in documentation still fails.
STRUCTURED = frozenset({"private key", "AWS access key id", "GitHub token"})

_AWS_KEY_ID = re.compile(r"^(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}$")
_AWS_KEY_ID_IN = re.compile(r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}")
_DATABASE_SCHEMES = re.compile(
    r"(?i)(?:postgres(?:ql)?|mysql|mariadb|mssql|sqlserver|oracle|mongodb(?:\+srv)?|redis|"
    r"rediss|amqps?|cockroachdb|clickhouse|snowflake)(?:\+\w+)?"
)
_URL_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://[^\s:/?#@]+:([^\s:/?#@]+)@")
# Before a plugin analyses a line, a gate finds the lines it may match: patterns run over
# the whole file at once (in the regex engine, not a Python loop per line). A gate is a
# superset of the plugin's own patterns that starts with a literal, which the engine skips
# ahead to; ``True`` marks one that runs over the ASCII-lowercased text. A plugin not
# listed is gated by its own patterns (they start with a literal already).
_GATES: dict[str, tuple[tuple[str, bool], ...]] = {
    "KeywordDetector": (("key|pass|pwd|secret|contrase", True),),
    "CloudantDetector": (("key|pw|pass|token|cloudant", True),),
    "IbmCloudIamDetector": (("key|pw|pass|token", True),),
    "IbmCosHmacDetector": (("key", True),),
    "SoftlayerDetector": (("key|pw|pass|token|softlayer", True),),
    "ArtifactoryDetector": ((r"AKC[a-zA-Z0-9]{10}|AP[\dABCDEF][a-zA-Z0-9]{8}", False),),
    "MailchimpDetector": ((r"-us[0-9]", False),),
    "TelegramBotTokenDetector": ((r":[0-9A-Za-z_-]{35}", False),),
    "DiscordBotTokenDetector": ((r"\.[a-zA-Z\d_-]{6}\.[a-zA-Z\d_-]{27}", False),),
    "CredentialedURLDetector": (("://", False),),
    "AWSKeyDetector": ((r"(?:A3T[A-Z0-9]|ABIA|ACCA|AKIA|ASIA)[0-9A-Z]{16}", False), ("aws", True)),
    "AWSSecretKeyDetector": (("aws", True),),
    "SlackDetector": ((r"xox|hooks\.slack\.com", True),),
}
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_DELIMITERS = " \t=:\"'"
_KINDS = {
    "Private Key": "private key",
    "AWS Secret Access Key": "AWS secret access key",
    "GitHub Token": "GitHub token",
    "JSON Web Token": "JSON web token",
    "PyPI Token": "PyPI token",
    "OpenAI Token": "OpenAI API key",
    "Anthropic API Key": "Anthropic API key",
    "Google API Key": "Google API key",
    "Stripe Access Key": "Stripe secret key",
    "Env Example Value": "high-entropy value in .env.example",
}
# Binary files: only the formats that cannot occur by chance.
_BINARY = re.compile(
    rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|"
    rb"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])|"
    rb"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})"
)


@dataclass(frozen=True, kw_only=True)
class Finding:
    line: int
    kind: str
    value: str  # the secret itself: never printed, only masked or hashed
    text: str  # the line
    # what detect-secrets itself records for the same match (its baseline hashes these)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Plugins:
    tokens: tuple[BasePlugin, ...]  # by format (prefix, structure)
    aws_secret: AWSSecretKeyDetector
    urls: RegexBasedDetector
    keywords: KeywordDetector
    env: RegexBasedDetector

    @property
    def ranked(self) -> tuple[BasePlugin, ...]:
        """Most specific first: on one line, a value is the first plugin's to claim."""
        return (*self.tokens, self.aws_secret, self.urls, self.keywords, self.env)


@cache
def _plugins() -> _Plugins:
    excluded = (HighEntropyStringsPlugin, IPPublicDetector, KeywordDetector, BasicAuthDetector)
    ours = (
        AnthropicKeyDetector, GoogleApiKeyDetector, GitHubFineGrainedDetector,
        KubeconfigKeyDetector,
    )  # fmt: skip
    builtin = sorted(
        (c for c in _PLUGIN_TYPES.values() if not issubclass(c, excluded)), key=lambda c: c.__name__
    )
    return _Plugins(
        tokens=(*(c() for c in builtin), *(c() for c in ours)),
        aws_secret=AWSSecretKeyDetector(),
        urls=CredentialedURLDetector(),
        keywords=KeywordDetector(),
        env=EnvExampleValueDetector(),
    )


def scan_text(text: str, display: str) -> list[Finding]:
    """Every finding in ``text`` (the content of ``display``, repo-relative), line by line.

    Each plugin's gate first runs over the whole text; only the lines it touches are then
    analysed line by line, as detect-secrets does, by the plugins whose gate touched them."""
    plugins = _plugins()
    lines = text.splitlines()
    joined = "\n".join(lines)
    starts = list(itertools.accumulate((len(line) + 1 for line in lines[:-1]), initial=0))
    lowered = joined.lower() if joined.isascii() else joined.translate(_ASCII_LOWER)
    rank = {id(p): i for i, p in enumerate(plugins.ranked)}
    wanted: dict[int, list[BasePlugin]] = {}
    for plugin in (*plugins.tokens, plugins.aws_secret, plugins.urls, plugins.keywords):
        for index in _touched(plugin, joined, lowered, starts):
            wanted.setdefault(index, []).append(plugin)
    if display.rsplit("/", 1)[-1] in ENV_EXAMPLE_NAMES:
        for index in range(len(lines)):
            wanted.setdefault(index, []).append(plugins.env)
    near_key_ids = {
        i + d for i in _touched_by([_AWS_KEY_ID_IN], joined, starts) for d in range(-5, 6)
    }
    for index in sorted(i for i in near_key_ids if 0 <= i < len(lines)):
        chosen = wanted.setdefault(index, [])
        if plugins.aws_secret not in chosen:
            chosen.append(plugins.aws_secret)  # its "near a key id" rule
    found: list[Finding] = []
    for index in sorted(wanted):
        chosen = sorted(wanted[index], key=lambda p: rank[id(p)])
        found.extend(_scan_line(display, lines, index + 1, chosen))
    return found


def gates() -> list[tuple[str, int, bool]]:
    """Every pattern that picks the lines :func:`scan_text` analyses, as ``(source, flags,
    on the ASCII-lowercased text)``: a text none of them matches has no finding (but a
    ``.env.example``, whose every line is analysed). :mod:`mcpbundle.emit.scan_gates` keeps
    them so a later process can say so without importing detect-secrets."""
    plugins = _plugins()
    found = {(_AWS_KEY_ID_IN.pattern, _AWS_KEY_ID_IN.flags, False)}  # its "near a key id" lines
    for plugin in (*plugins.tokens, plugins.aws_secret, plugins.urls, plugins.keywords):
        found.update((p.pattern, p.flags, lowered) for p, lowered in _gate(type(plugin)))
    return sorted(found)


def _scan_line(
    display: str, lines: list[str], number: int, chosen: Sequence[BasePlugin]
) -> list[Finding]:
    line = lines[number - 1]
    if len(line) < 8 or ALLOW_MARKER in line:
        return []
    context = get_code_snippet(lines, number)
    pragma = "pragma" in line.lower() or "pragma" in context.previous_line
    if pragma and is_line_allowlisted(filename=display, line=line, context=context):
        return []
    taken: list[str] = []
    found: list[Finding] = []
    for plugin in chosen:
        for value, aliases in _candidates(plugin, display, line, number, context):
            if any(value in t or t in value for t in taken):
                continue  # one value, one finding: the most specific plugin's
            if not _kept(plugin, value, line, lines, number):
                continue
            taken.append(value)
            kind = _kind(plugin, value, line)
            found.append(Finding(line=number, kind=kind, value=value, text=line, aliases=aliases))
    return found


def _touched(plugin: BasePlugin, text: str, lowered: str, starts: Sequence[int]) -> set[int]:
    """Indexes of the lines ``plugin`` may match (its gate's matches)."""
    touched: set[int] = set()
    for pattern, on_lowered in _gate(type(plugin)):
        touched |= _touched_by([pattern], lowered if on_lowered else text, starts)
    return touched


@cache
def _gate(plugin: type[BasePlugin]) -> tuple[tuple[re.Pattern[str], bool], ...]:
    listed = _GATES.get(plugin.__name__)
    if listed is not None:
        return tuple((re.compile(pattern), lowered) for pattern, lowered in listed)
    denylist = cast(Iterable[re.Pattern[str]], getattr(plugin, "denylist", ()))
    return tuple((re.compile(r.pattern, r.flags | re.MULTILINE), False) for r in denylist)


def _touched_by(
    patterns: Iterable[re.Pattern[str]], joined: str, starts: Sequence[int]
) -> set[int]:
    """Indexes of the lines any match of ``patterns`` in ``joined`` starts in or spans."""
    touched: set[int] = set()
    for pattern in patterns:
        for match in pattern.finditer(joined):
            first = bisect.bisect_right(starts, match.start()) - 1
            last = bisect.bisect_right(starts, max(match.end() - 1, match.start())) - 1
            touched.update(range(first, last + 1))
    return touched


def _candidates(
    plugin: BasePlugin, display: str, line: str, number: int, context: CodeSnippet
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(value, what detect-secrets records for it) for each match of ``plugin``."""
    if not isinstance(plugin, RegexBasedDetector):
        for secret in plugin.analyze_line(
            filename=display, line=line, line_number=number, context=context
        ):
            if secret.secret_value:
                yield secret.secret_value, ()
        return
    if isinstance(plugin, EnvExampleValueDetector):
        yield from ((value, ()) for value in plugin.analyze_string(line))
        return
    matched = False
    # a plugin with its own analyze_string (JWT: the parts must decode) has the last word
    own = type(plugin).analyze_string is not RegexBasedDetector.analyze_string
    allowed = set(plugin.analyze_string(line)) if own else None
    for regex in plugin.denylist:
        for match in regex.finditer(line):
            # detect-secrets takes ``findall``'s groups, which for some formats is only the
            # prefix (``ghp``): the value is the first group after the match's start, else
            # the whole match.
            inner = [
                i
                for i in range(1, regex.groups + 1)
                if match.group(i) and match.start(i) > match.start()
            ]
            value = (match.group(inner[0]) if inner else match.group(0)).strip(_DELIMITERS)
            aliases = tuple(g for g in match.groups() if g) if regex.groups else ()
            if allowed is not None and not allowed & {value, match.group(0), *aliases}:
                continue
            matched = True
            yield value, aliases
    if not matched and isinstance(plugin, AWSSecretKeyDetector):
        yield from ((value, ()) for value in plugin.near_key_id(line, context.lines))


def scan_binary(data: bytes) -> list[Finding]:
    """Fixed formats only, in a file that is not text."""
    found = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        for match in _BINARY.finditer(raw):
            value = match.group(0).decode("ascii")
            if value.startswith("-----"):
                kind = "private key"
            elif is_placeholder(value):
                continue
            else:
                kind = "AWS access key id" if value[:1] == "A" else "GitHub token"
            found.append(Finding(line=number, kind=kind, value=value, text=""))
    return found


def _kept(plugin: BasePlugin, value: str, line: str, lines: Sequence[str], number: int) -> bool:
    """detect-secrets' filters for the value, plus the placeholder rules."""
    if isinstance(plugin, PrivateKeyDetector):
        return has_key_material(lines, number - 1)
    if isinstance(plugin, EnvExampleValueDetector):
        return True  # its own rules already apply the placeholder filter
    if (
        heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_not_alphanumeric_string(value)
    ):
        return False
    if isinstance(plugin, BasicAuthDetector):
        return not url_password_placeholder(value) and not _local_default(value, line)
    if heuristic.is_sequential_string(value) or heuristic.is_potential_uuid(value):
        return False
    if isinstance(plugin, KeywordDetector):
        if heuristic.is_indirect_reference(line):
            return False
        if heuristic.is_likely_id_string(value, line, plugin):
            return False
        return real_looking(value)
    return not is_placeholder(value, kind=str(plugin.secret_type))


_URL_LOGIN = re.compile(r"://([^\s:/?#@]+):([^\s:/?#@]+)@([^\s:/?#@\"'`]+)")
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "host.docker.internal"})


def _local_default(value: str, line: str) -> bool:
    """``postgres:postgres@postgres`` / ``guest:guest@localhost``: an image's default login
    (the password is the user name) on this machine or a compose service (a host name
    without a dot), which nothing outside a developer's containers answers to."""
    for user, password, host in _URL_LOGIN.findall(line):
        if password == value and password.lower() == user.lower():
            host = host.lower()
            if host in _LOCAL_HOSTS or ("." not in host and not host.startswith("[")):
                return True
    return False


def _kind(plugin: BasePlugin, value: str, line: str) -> str:
    secret_type = str(plugin.secret_type)
    if secret_type == "AWS Access Key":
        return "AWS access key id" if _AWS_KEY_ID.match(value) else "AWS secret access key"
    if secret_type == "Slack Token":
        return "Slack webhook URL" if value.lower().startswith("https://") else "Slack token"
    if isinstance(plugin, BasicAuthDetector):
        schemes = [m.group(1) for m in _URL_USERINFO.finditer(line) if m.group(2) == value]
        if schemes and _DATABASE_SCHEMES.fullmatch(schemes[0]):
            return "database URL with a password"
        return "URL with credentials"
    if isinstance(plugin, KeywordDetector):
        before = line[: line.find(value)].lower() if value in line else line.lower()
        password = re.search(r"pass|pwd|contrase", before)
        return "hard-coded password" if password else "hard-coded secret"
    return _KINDS.get(secret_type, secret_type)
