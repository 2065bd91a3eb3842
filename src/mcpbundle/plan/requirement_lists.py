"""Requirement lists as the bundle writes them: one line per requirement, sorted, with
spellings of one requirement compared equal, and the ``-c`` constraints that apply."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from mcpbundle.plan.requirements import ReqLine


def canonical_requirement(text: str) -> tuple[str, str, str]:
    """``(canonical name, comparable form, text)``; spellings of one requirement compare equal."""
    req = Requirement(text)
    name = canonicalize_name(req.name)
    extras = f"[{','.join(sorted(canonicalize_name(e) for e in req.extras))}]" if req.extras else ""
    specifier = ",".join(sorted(str(s) for s in req.specifier))
    marker = f"; {req.marker}" if req.marker else ""
    rest = f"{extras}{specifier}{marker}"
    # The shipped text keeps a name as written: not every canonical name re-parses ("0_").
    return name, rest, f"{req.name}{rest}"


def sort_requirements(lines: Iterable[str]) -> tuple[str, ...]:
    """De-duplicated and sorted by canonical name, whatever the input order or spelling."""
    chosen: dict[tuple[str, str], str] = {}
    for line in lines:
        name, rest, text = canonical_requirement(line)
        key = (name, rest)
        chosen[key] = min(text, chosen.get(key, text))
    return tuple(chosen[key] for key in sorted(chosen))


def merge_requirements(groups: Iterable[Iterable[ReqLine]]) -> tuple[str, ...]:
    """One sorted, de-duplicated list of PEP 508 lines (order of inputs does not matter)."""
    return sort_requirements(
        line.requirement
        for group in groups
        for line in group
        if line.kind == "pypi" and line.requirement is not None and not line.constraint
    )


def constraints_for(lines: Iterable[ReqLine], required: Mapping[str, object]) -> tuple[str, ...]:
    """``-c`` lines for packages that are required directly (others would add packages)."""
    return sort_requirements(
        line.requirement
        for line in lines
        if line.constraint and line.kind == "pypi" and line.requirement and line.name in required
    )
