"""The dependencies a server's entrypoint declares inline (PEP 723).

A single-file server is often developed with ``uv run server.py``, which installs what
the file's ``# /// script`` block names and nothing else::

    # /// script
    # requires-python = ">=3.11"
    # dependencies = ["fastmcp>=2.12", "httpx"]
    # ///

Such a server may declare its dependencies nowhere else, so they join its requirements
(a requirement read twice is harmless). The block is found and read as the PEP's
reference implementation does: one ``script`` block, TOML in comment lines.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError
from mcpbundle.plan.requirements import ReqLine, parse_requirement_text

_BLOCK = re.compile(r"(?m)^# /// (?P<type>[a-zA-Z0-9-]+)$\s(?P<content>(^#(| .*)$\s)+)^# ///$")
_MARKER = b"# /// script"


def script_requirements(root: Path, rel: str) -> list[ReqLine]:
    """The ``dependencies`` of the ``script`` block of the Python file ``rel``
    (repository-relative); none without a block or when the file cannot be read."""
    metadata = _file_block(root, rel)
    if metadata is None:
        return []
    dependencies = metadata.get("dependencies", [])
    if not isinstance(dependencies, list):
        raise BuildError(
            "the '# /// script' block's dependencies is not a list",
            where=rel,
            hint='write dependencies = ["name>=1.0", ...]',
        )
    lines = []
    for index, entry in enumerate(dependencies):
        origin = f"{rel}: script dependencies[{index}]"
        if not isinstance(entry, str) or not entry.strip():
            raise BuildError(
                f"script dependencies[{index}] is not a requirement: {entry!r}",
                where=rel,
                hint='write each dependency as a PEP 508 string, e.g. "httpx>=0.27"',
            )
        lines.append(parse_requirement_text(entry, origin=origin, base=(root / rel).parent))
    return lines


def script_python(root: Path, rel: str) -> str | None:
    """The ``requires-python`` of the ``script`` block of ``rel``, if it names one."""
    block = _file_block(root, rel)
    text = block.get("requires-python") if block is not None else None
    return text if isinstance(text, str) and text.strip() else None


def _file_block(root: Path, rel: str) -> dict[str, Any] | None:
    try:
        data = (root / rel).read_bytes()
    except OSError:
        return None
    return script_block(data, rel)


def script_block(data: bytes, rel: str) -> dict[str, Any] | None:
    """The parsed ``script`` block of a Python file's bytes; None without one."""
    if _MARKER not in data:
        return None  # the cheap test: nearly every file has no block
    text = data.decode("utf-8", "replace")
    blocks = [m for m in _BLOCK.finditer(text) if m.group("type") == "script"]
    if not blocks:
        return None
    if len(blocks) > 1:
        raise BuildError(
            "has more than one '# /// script' block",
            where=rel,
            hint="keep one inline metadata block (PEP 723)",
        )
    content = "".join(
        line[2:] if line.startswith("# ") else line[1:]
        for line in blocks[0].group("content").splitlines(keepends=True)
    )
    try:
        metadata = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        raise BuildError(
            f"its '# /// script' block is not valid TOML: {exc}",
            where=rel,
            hint="fix the inline metadata (PEP 723)",
        ) from None
    return metadata
