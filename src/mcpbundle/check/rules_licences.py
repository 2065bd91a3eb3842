"""Vendored code without a licence (MCB012).

``build`` writes ``THIRD_PARTY_NOTICES.md`` into every server that vendors code (a
shared library, a git-vendored package) and warns when a vendored distribution has
no licence information: its row says ``**unknown**``. The rule reads that same file,
the one the build would generate (source mode) or did write (``--built``), so it
says exactly what the build says. The finding points at the library's
``pyproject.toml`` (or its directory) when it is a path of the repository, else at
the notices row.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from mcpbundle.check.context import CheckContext
from mcpbundle.check.model import CheckTarget, Finding
from mcpbundle.check.registry import rule
from mcpbundle.plan.licences import NOTICES_NAME

_UNKNOWN = "**unknown**"
_CELL = re.compile(r"(?<!\\)\|")
_PROJECT = re.compile(r"^\s*\[\s*project\s*\]")


def _cells(line: str) -> list[str]:
    return [c.strip().replace("\\|", "|") for c in _CELL.split(line.strip())[1:-1]]


@rule("MCB012", "info", "a vendored library with no licence information")
def check_vendored_licences(target: CheckTarget, ctx: CheckContext) -> Iterator[Finding]:
    source = target.files.get(NOTICES_NAME)
    text = ctx.text(source) if source is not None else None
    if source is None or text is None:
        return
    for number, line in enumerate(text.splitlines(), start=1):
        cells = _cells(line) if line.startswith("|") else []
        if len(cells) < 4 or cells[2] != _UNKNOWN:
            continue
        distribution, origin = cells[0], cells[3]
        file, at = _where(target, origin) or (source.display, number)
        yield ctx.finding(
            "MCB012",
            file=file,
            line=at,
            message=f"{target.server} vendors {distribution} ({origin}), which has no licence "
            f"information: the bundle ships it without a licence ({NOTICES_NAME} says unknown)",
            fix=f"add a LICENSE file to {origin} or set [project] license in its pyproject.toml",
        )


def _where(target: CheckTarget, origin: str) -> tuple[str, int] | None:
    """``(file, line)`` of a repository library: its ``[project]`` table, else its directory."""
    root = target.repo_root
    if root is None or "://" in origin or origin.startswith("/"):
        return None
    directory = root / origin
    if not directory.is_dir():
        return None
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return origin, 1
    return f"{origin}/pyproject.toml", _project_line(pyproject)


def _project_line(path: Path) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((i for i, text in enumerate(lines, start=1) if _PROJECT.match(text)), 1)
