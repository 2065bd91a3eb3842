"""Where a requirements file's local path is, when it is not where it is written.

Real requirement files name paths from somewhere other than their own folder:

- from the repository root, where the tool that wrote them ran (``uv export --package
  x -o servers/x/requirements.txt``, ``pip freeze``) and where pip reads them when run
  there: ``-e ./libs/common`` in ``servers/x/requirements.txt``;
- from the developer's machine: pip-compile writes ``-e ../../libs/common`` as
  ``-e file:///home/dev/repo/libs/common``, an absolute path that exists nowhere else.

:func:`located` reads such a path from where it is: the file's folder first, then the
repository root; an absolute path that does not exist, by the longest tail of it the
repository holds as an installable project, noted on the line (``found_at``) for the
build's warnings, so the user can write the portable form.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcpbundle.plan.requirements import ReqLine

PROJECT_FILES = ("pyproject.toml", "setup.py", "setup.cfg")


def located(line: ReqLine, base: Path, root: Path) -> ReqLine:
    """``line`` (from a requirements file in ``base``) with its path moved to where it
    is in the repository at ``root``; unchanged when it exists as written or is nowhere."""
    if line.kind != "path" or line.path is None or line.path.exists():
        return line
    written = line.path
    relative = os.path.relpath(written, base)
    if not (os.path.isabs(relative) or relative.startswith("..")):
        candidate = root / relative  # pip's own reading, run at the root: nothing to say
        return replace(line, path=candidate) if candidate.exists() else line
    found = _tail_in_repo(written, root) if _absolute_as_written(line) else None
    if found is None:
        return line
    portable = os.path.relpath(found, base).replace(os.sep, "/")
    form = f"-e file:{portable}" if line.editable else f"file:{portable}"
    note = (
        f"is an absolute path of another machine; read as "
        f"{found.relative_to(root).as_posix()!r} (write {form!r}, which every machine reads)"
    )
    return replace(line, path=found, found_at=note)


def _absolute_as_written(line: ReqLine) -> bool:
    entry = line.text.strip().removeprefix("-e").removeprefix("--editable").strip()
    entry = entry.split("@", 1)[1].strip() if " @ " in entry else entry
    return entry.startswith(("/", "file:/"))


def _tail_in_repo(written: Path, root: Path) -> Path | None:
    """The longest tail of ``written`` that is an installable project (or a file) of
    the repository; never the repository itself."""
    parts = written.parts[1:]
    for start in range(len(parts)):
        candidate = root.joinpath(*parts[start:])
        if candidate.is_file() or any((candidate / name).is_file() for name in PROJECT_FILES):
            return candidate
    return None
