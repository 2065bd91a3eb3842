"""Pure helpers on resolver output: verify pinned files, explain failed runs.

A bundle's ``requirements.txt`` must install from PyPI alone, reproducibly. So
every requirement line (after joining ``\\`` continuations and dropping comments)
must be exactly ``name==version``, optionally followed by ``; markers`` and
``--hash=algo:digest`` options. Anything else (``-e``, ``-r``, ``--index-url``,
``git+``/URL/path references, ranges, extras) is rejected, and so is any pin of a
*vendored* shared lib, which ships inside the bundle instead.

PEP 508 parsing is left to :mod:`packaging`; no regex parses requirements here.

``pip_failure_reason`` / ``uv_failure_reason`` turn a failed resolver run's
stderr into the offending requirements and a one-line reason (no traceback).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from mcpbundle.errors import BuildError

# pip's own rule: ``#`` starts a comment at the start of a line or after whitespace.
_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION_START = re.compile(r"\s--")
_HASH_VALUE = re.compile(r"(sha256|sha384|sha512):[0-9a-f]+")

# stderr of failed resolver runs
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|NotFound|Impossible)\w*: (.+)$")
_TRACEBACK_END = re.compile(r"^[A-Za-z_][\w.]*: (.+)$")
_PIP_OFFENDERS = (
    re.compile(r"No matching distribution found for (\S+)"),
    re.compile(r"satisfies the requirement (\S+)"),
    re.compile(r"Invalid requirement: '([^']+)'"),
)
_PIP_CONFLICT = re.compile(r"Cannot install (.+?) because")
_UV_OFFENDER = re.compile(r"(?<!conclude that )you require ([^\s,]+)")
_UV_DECORATION = "\u00d7\u2570\u2500\u25b6\u2502 "  # uv's fancy error tree

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


def pip_failure_reason(text: str) -> tuple[list[str], str]:
    """``(offending requirements, one-line reason)`` from pip-compile's stderr.

    Tracebacks are dropped; the last exception message and ``ERROR:`` lines are kept.
    """
    errors: list[str] = []
    final: str | None = None
    plain: list[str] = []
    in_traceback = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
            continue
        if in_traceback and raw[:1].isspace():
            continue
        match = (_TRACEBACK_END if in_traceback else _EXCEPTION_LINE).match(line)
        if in_traceback or match:
            in_traceback = False
            if match:
                final = match.group(1).strip()
            continue
        if line.startswith(("The above exception", "During handling of the above")):
            continue
        if line.startswith(("ERROR: ", "Error: ")):
            errors.append(line.split(": ", 1)[1].strip())
        elif not raw[:1].isspace():
            plain.append(line)
    candidates = [*errors]
    if final and not final.startswith("ResolutionImpossible") and final not in errors:
        candidates.insert(0, final)
    # Without an ERROR: line or an exception the text is not pip-compile's own (a wrapper
    # such as a pyenv shim refused to start it): its first line says why.
    reason = candidates[0] if candidates else _did_not_run("pip-compile", plain)
    versions = re.search(r"\(from versions: ([^)]*)\)", text)
    if versions and "from versions" not in reason:
        reason = f"{reason} (available: {versions.group(1) or 'none'})"
    offenders: list[str] = []
    for message in [final or "", *errors]:
        for pattern in _PIP_OFFENDERS:
            offenders += pattern.findall(message)
        conflict = _PIP_CONFLICT.search(message)
        if conflict:
            offenders += [p.strip() for p in re.split(r",| and ", conflict.group(1)) if p.strip()]
    return offenders, reason.rstrip(".")


def uv_failure_reason(text: str) -> tuple[list[str], str]:
    """``(offending requirements, one-line reason)`` from ``uv pip compile``'s stderr."""
    error = ""
    causes: list[list[str]] = []
    offenders: list[str] = []
    for raw in text.splitlines():
        bare = raw.strip()
        line = bare.lstrip(_UV_DECORATION).strip()
        if not line:
            continue
        if line.lower().startswith("error:") and not error:
            error = line.split(":", 1)[1].strip()
        elif bare.startswith("\u00d7") and not error:  # fancy: "x message"
            error = line.rstrip(":")
        elif line.startswith("cause:"):
            causes.append([line.split(":", 1)[1].strip()])
        elif bare.startswith("\u2570"):  # fancy: "╰─▶ cause"
            causes.append([line])
        elif causes and set(line) <= {"^", " "}:
            # uv echoes the bad input line above a row of carets: that is the culprit
            if len(causes[-1]) > 1:
                offenders.append(causes[-1].pop())
        elif causes and raw[:1].isspace():
            causes[-1].append(line)
    cause = " ".join(causes[-1]) if causes else ""
    if error and cause and not error.startswith("No solution found"):
        reason = f"{error}: {cause}"
    else:
        reason = (
            cause
            or error
            or _did_not_run(
                "uv pip compile", [raw.strip() for raw in text.splitlines() if raw.strip()]
            )
        )
    offenders += [o.rstrip(".") for o in _UV_OFFENDER.findall(cause)]
    return offenders, reason.rstrip(".")


def _did_not_run(tool: str, lines: list[str]) -> str:
    return f"{tool} did not run: {lines[0]}" if lines else f"{tool} failed"
