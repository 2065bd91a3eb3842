"""Pinned requirement text: parse it and verify it holds only exact PyPI pins.

A bundle's ``requirements.txt`` must install from PyPI alone, reproducibly. So
every requirement line (after joining ``\\`` continuations and dropping comments)
must be exactly ``name==version``, optionally followed by ``; markers`` and
``--hash=algo:digest`` options. Anything else (``-e``, ``-r``, ``--index-url``,
``git+``/URL/path references, ranges, extras) is rejected, and so is any pin of a
*vendored* shared lib, which ships inside the bundle instead.

PEP 508 parsing is left to :mod:`packaging`; no regex parses requirements here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpbundle.base.errors import BuildError

# pip's own rule: ``#`` starts a comment at the start of a line or after whitespace.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION_START = re.compile(r"\s--")
_HASH_VALUE = re.compile(r"(sha256|sha384|sha512):[0-9a-f]+")


_HINT_PIN = "only exact PyPI pins (name==version) may ship; check the server's dependencies"


@dataclass(frozen=True)
class Pin:
    """One verified line of a pinned requirements file."""

    name: str
    """Canonical (normalised) distribution name."""
    version: str
    marker: str | None
    hashes: tuple[str, ...]
    line: int
    """1-based line number where the requirement starts."""


class PinError(ValueError):
    """A line is not an acceptable pin; ``reason`` and ``hint`` say why."""

    def __init__(self, reason: str, hint: str = _HINT_PIN) -> None:
        super().__init__(reason)
        self.reason = reason
        self.hint = hint


def logical_lines(text: str) -> list[tuple[int, str]]:
    """Requirement lines of ``text`` as ``(first_line_number, line)`` pairs.

    Comments are stripped, ``\\`` continuations joined, blank lines skipped.
    """
    result: list[tuple[int, str]] = []
    parts: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _COMMENT.sub("", raw).strip()
        if not parts:
            start = number
        continued = line.endswith("\\")
        if continued:
            line = line[:-1].strip()
        if line:
            parts.append(line)
        if not continued and parts:
            result.append((start, " ".join(parts)))
            parts = []
    if parts:
        result.append((start, " ".join(parts)))
    return result


def parse_pin(line: str, *, number: int = 0) -> Pin:
    """Parse one logical line as an exact pin; raise :class:`PinError` if it is not one."""
    pin = _parse_pin(line)
    return pin if pin.line == number else replace(pin, line=number)


@functools.lru_cache(maxsize=4096)
def _parse_pin(line: str) -> Pin:
    if line.startswith("-"):
        option = line.split(maxsplit=1)[0]
        if option in ("-e", "--editable"):
            raise PinError("editable install", "bundles install from PyPI only; drop the -e")
        raise PinError(
            f"option line {option!r}",
            "index, find-links and include options must not appear in a bundle",
        )
    found = _OPTION_START.search(line)
    cut = len(line) if found is None else found.start()
    req_text, options = line[:cut], line[cut:]
    hashes = _parse_hashes(options.split())
    try:
        req = Requirement(req_text)
    except InvalidRequirement:
        if "://" in req_text or req_text.startswith(("git+", "hg+", "svn+", "bzr+")):
            raise PinError("URL / VCS reference", _HINT_PIN) from None
        raise PinError("not a PEP 508 requirement") from None
    if req.url:
        raise PinError(f"direct reference to {req.url!r}")
    if req.extras:
        raise PinError("extras in a pinned line (the resolver must strip them)")
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator != "==" or specs[0].version.endswith(".*"):
        raise PinError("not pinned to one exact version")
    return Pin(
        name=canonicalize_name(req.name),
        version=specs[0].version,
        marker=str(req.marker) if req.marker else None,
        hashes=hashes,
        line=0,
    )


def _parse_hashes(tokens: list[str]) -> tuple[str, ...]:
    hashes: list[str] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--hash" and index + 1 < len(tokens):
            value = tokens[index + 1]
            index += 2
        elif token.startswith("--hash="):
            value = token.removeprefix("--hash=")
            index += 1
        else:
            raise PinError(f"option {token!r} is not allowed on a pin")
        if not _HASH_VALUE.fullmatch(value):
            raise PinError(f"malformed hash {value!r}")
        hashes.append(value)
    return tuple(hashes)


def parse_pins(text: str) -> tuple[Pin, ...]:
    """All pins of ``text``; raise :class:`PinError` (with ``line`` set) on the first bad one."""
    return tuple(parse_pin(line, number=number) for number, line in logical_lines(text))


def verify_pins(
    text: str,
    *,
    vendored: Iterable[str] = (),
    where: str = "requirements.txt",
) -> tuple[Pin, ...]:
    """Check every line of a pinned file; return the pins or raise :class:`BuildError`.

    ``vendored`` names (any spelling; they are normalised here) must not be pinned.
    The error's ``where`` is ``f"{where}:{line}"``.
    """
    banned = {canonicalize_name(name) for name in vendored}
    pins: list[Pin] = []
    for number, line in logical_lines(text):
        try:
            pin = parse_pin(line, number=number)
        except PinError as exc:
            raise BuildError(
                f"{_shorten(line)!r} is not a pinned PyPI requirement ({exc.reason})",
                where=f"{where}:{number}",
                hint=exc.hint,
            ) from None
        if pin.name in banned:
            raise BuildError(
                f"vendored shared lib {pin.name!r} is also pinned from PyPI ({_shorten(line)!r})",
                where=f"{where}:{number}",
                hint="a vendored lib ships inside the bundle; remove it from the server's "
                "PyPI dependencies or stop vendoring it",
            )
        pins.append(pin)
    return tuple(pins)


def pinned_versions(text: str) -> dict[str, str]:
    """``{canonical name: version}`` of a pinned file (markers and hashes ignored)."""
    return {pin.name: pin.version for pin in parse_pins(text)}


def _shorten(line: str, limit: int = 80) -> str:
    found = _OPTION_START.search(line)
    head = line if found is None else line[: found.start()] + " --..."
    return head if len(head) <= limit else head[: limit - 3] + "..."


# -- resolver failures ------------------------------------------------------------
