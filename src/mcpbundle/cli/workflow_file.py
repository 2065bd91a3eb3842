"""The workflow file ``ci github --write`` owns, and only while nobody edited it.

The written file ends with a comment line holding the sha256 of everything above
it (:func:`stamped`). ``--write`` replaces an existing file only when it is one
mcpbundle wrote and nobody changed since: its last line is such a comment and the
hash still matches (or the file is exactly a template without the line). A
hand-edited workflow is refused with the diff of what would change; ``--force``
overwrites it.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mcpbundle.base.errors import MCPBundleError
from mcpbundle.base.regular_file import read_regular

HASH_PREFIX = "# mcpbundle-workflow-sha256: "
_HASH_LINE = re.compile(r"# mcpbundle-workflow-sha256: ([0-9a-f]{64})\n\Z")
_MAX_BYTES = 1024 * 1024


class EditedByHand(MCPBundleError):
    """The workflow on disk is not one mcpbundle wrote as it is (exit 1); ``diff`` shows
    what ``--force`` would change."""

    exit_code = 1

    def __init__(self, diff: str, **kwargs: str) -> None:
        super().__init__(
            "was edited by hand since mcpbundle wrote it (the diff above shows what "
            "--write would change)",
            **kwargs,
        )
        self.diff = diff


@dataclass(frozen=True)
class WriteResult:
    written: bool  # False: the file already held exactly this text
    diff: str  # what changed (empty for a new or unchanged file)


def stamped(text: str) -> str:
    """``text`` plus the comment line recording its hash."""
    return f"{text}{HASH_PREFIX}{hashlib.sha256(text.encode()).hexdigest()}\n"


def untouched(existing: str, template: str) -> bool:
    """True if ``existing`` is a file mcpbundle wrote and nobody edited since."""
    match = _HASH_LINE.search(existing)
    if match is None:
        return existing == template  # written before the hash line existed
    body = existing[: match.start()]
    return hashlib.sha256(body.encode()).hexdigest() == match.group(1)


def write_workflow(path: Path, text: str, *, force: bool, display: str) -> WriteResult:
    """Write ``stamped(text)`` to ``path`` unless a hand edit is there (see module doc)."""
    new = stamped(text)
    try:
        existing = read_regular(path, _MAX_BYTES).decode("utf-8", "replace")
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        if not force:
            raise MCPBundleError(
                f"cannot read the existing workflow: {exc.strerror or exc}",
                where=display,
                hint="remove it, or pass --force to replace it",
            ) from exc
        existing = None
    if existing == new:
        return WriteResult(written=False, diff="")
    diff = ""
    if existing is not None:
        diff = "".join(
            difflib.unified_diff(
                existing.splitlines(keepends=True), new.splitlines(keepends=True),
                fromfile=f"{display} (on disk)", tofile=f"{display} (mcpbundle)",
            )
        )  # fmt: skip
        if not force and not untouched(existing, text):
            hint = "merge the changes yourself, or pass --force to overwrite it"
            raise EditedByHand(diff, where=display, hint=hint)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(new, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return WriteResult(written=True, diff=diff)
