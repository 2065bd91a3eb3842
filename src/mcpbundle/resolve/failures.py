"""A resolver's failure in one line: the offending requirements and its own reason.

pip-compile's ``ERROR:`` lines and last exception, uv's ``error:`` tree and its
causes; never the last stderr line of a wrapper that did not start the resolver.
"""

from __future__ import annotations

import re

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
