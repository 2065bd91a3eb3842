"""Read shipped requirement files line by line, with exact line numbers.

``requirements.txt`` syntax (comments, ``\\`` continuations, pip options) and a
``pyproject.toml``'s ``[project].dependencies``. PEP 508 is parsed with
:mod:`packaging.requirements`.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement

EDITABLE_OPTIONS = frozenset({"-e", "--editable"})
INDEX_OPTIONS = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "-f",
        "--find-links",
        "--no-index",
        "--trusted-host",
    }
)
_COMMENT = re.compile(r"(^|\s+)#.*$")
_TRAILING_OPTION = re.compile(r"\s+--?[A-Za-z]")


@dataclass(frozen=True, kw_only=True)
class ReqEntry:
    """One logical requirement line."""

    line: int  # 1-based number of the first physical line
    text: str  # the entry without comment
    requirement: Requirement | None = None  # a PyPI requirement
    problem: str | None = None  # why it is not PyPI-installable


def _classify_location(text: str) -> str | None:
    """Why ``text`` (a requirement or an ``-e`` argument) is not a PyPI name."""
    lowered = text.lower()
    target = lowered.split("@", 1)[1].strip() if " @ " in lowered else lowered
    if target.startswith(("git+", "git://", "hg+", "svn+", "bzr+")):
        return "a VCS URL"
    if target.startswith("file:"):
        return "a file: URL"
    if "://" in target:
        return "a direct URL"
    if (
        target.startswith((".", "/", "~", "\\"))
        or "/" in target
        or "\\" in target
        or target.endswith((".whl", ".tar.gz", ".zip", ".tar.bz2"))
        or (len(target) > 1 and target[1] == ":")
    ):
        return "a local path"
    return None


def location(text: str) -> str | None:
    """The local path a requirement line names (``-e ../lib``, ``name @ file:///x``, ``./x``)."""
    text = text.strip()
    if text.startswith(("-e ", "--editable")):
        text = re.split(r"[\s=]", text, maxsplit=1)[-1].strip()
    if " @ " in text:
        text = text.split(" @ ", 1)[1].strip()
    if text.lower().startswith("file:"):
        text = re.sub(r"^file:(//)?", "", text, flags=re.IGNORECASE)
    if "://" in text or text.startswith("-"):
        return None
    return text.split(";", 1)[0].strip() or None


def _option(entry: str) -> str:
    if entry.startswith("--"):
        return re.split(r"[\s=]", entry, maxsplit=1)[0]
    return entry[:2]


def parse_requirements_txt(text: str) -> Iterator[ReqEntry]:
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        start = index
        physical = lines[index]
        while physical.endswith("\\") and index + 1 < len(lines):
            index += 1
            physical = physical[:-1] + lines[index]
        index += 1
        entry = _COMMENT.sub("", physical).strip()
        if entry.endswith("\\"):
            entry = entry[:-1].strip()
        if not entry:
            continue
        yield _entry(entry, start + 1)


def _entry(entry: str, line: int) -> ReqEntry:
    if entry.startswith("-"):
        option = _option(entry)
        if option in EDITABLE_OPTIONS:
            return ReqEntry(line=line, text=entry, problem="an editable install (-e)")
        if option in INDEX_OPTIONS:
            return ReqEntry(line=line, text=entry, problem=f"a package-index option ({option})")
        return ReqEntry(line=line, text=entry)
    spec = _TRAILING_OPTION.split(entry, maxsplit=1)[0].strip()
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        where = _classify_location(spec)
        problem = where or f"not a valid requirement ({exc})"
        return ReqEntry(line=line, text=entry, problem=problem)
    if req.url:
        return ReqEntry(line=line, text=entry, problem=_classify_location(req.url) or "a URL")
    return ReqEntry(line=line, text=entry, requirement=req)


def parse_pyproject(text: str) -> Iterator[ReqEntry]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    project = data.get("project")
    deps = project.get("dependencies", []) if isinstance(project, dict) else []
    lines = text.splitlines()
    for dep in deps if isinstance(deps, list) else []:
        if not isinstance(dep, str):
            continue
        line = next((i + 1 for i, t in enumerate(lines) if dep in t), 1)
        yield _entry(dep.strip(), line)


def parse_requirement_file(name: str, text: str) -> Iterator[ReqEntry]:
    """Entries of a requirement file; ``name`` picks the syntax."""
    if name.endswith(".toml"):
        return parse_pyproject(text)
    return parse_requirements_txt(text)
