"""``fastmcp.json`` files inside a server ship rewritten to the bundle, or not at all.

A ``fastmcp.json`` (or ``*.fastmcp.json``) names the server's source file and the
environment to create: ``environment.dependencies`` / ``requirements`` /
``project`` / ``editable`` point at the monorepo (``-e ../shared``, git URLs) and
would make a host that honours the file install what the bundle replaced. The
shipped copy points at the bundle's own files: ``source`` at the entrypoint (the
shim when the build made one), ``environment`` at the pinned ``requirements.txt``
and the target Python, nothing else. A file that cannot be read, or whose paths
leave the bundle, is not shipped, with a warning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

_ENV_DROPPED = ("dependencies", "project", "editable")


@dataclass(frozen=True, kw_only=True)
class EntryFacts:
    """What the rewrite needs to know about the server (all output-relative POSIX paths)."""

    server_path: str
    original_entry: str  # the configured entrypoint file
    entry_file: str  # what the host loads (a shim, or the original)
    object: str
    requirements_txt: str
    python: str


def is_fastmcp_json(dest: str) -> bool:
    name = PurePosixPath(dest).name
    return name == "fastmcp.json" or name.endswith(".fastmcp.json")


def rewrite(
    source: Path, dest: str, facts: EntryFacts, shipped: Sequence[str]
) -> tuple[bytes | None, str | None]:
    """``(new content, None)`` or ``(None, warning)`` for the file copied to ``dest``."""
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return None, _skipped(dest, f"it is not readable JSON ({exc.__class__.__name__})")
    if not isinstance(document, dict):
        return None, _skipped(dest, "it is not a JSON object")
    here = PurePosixPath(dest).parent.as_posix()
    entry, obj = source_of(document)
    entry_rel = facts.original_entry if entry is None else normal_path(here, entry)
    if entry_rel is None or (entry_rel not in shipped and entry_rel != facts.original_entry):
        return None, _skipped(dest, f"its source {entry!r} is not a file of the bundle")
    if entry_rel == facts.original_entry:
        entry_rel, obj = facts.entry_file, facts.object
    document.pop("entrypoint", None)
    source_table = {"type": "filesystem", "path": _relative(entry_rel, here)}
    if obj:
        source_table["entrypoint"] = obj
    document["source"] = source_table
    environment = document.get("environment")
    kept = (
        {k: v for k, v in environment.items() if k not in _ENV_DROPPED}
        if isinstance(environment, dict)
        else {}
    )
    kept.update(
        type="uv",
        python=facts.python,
        requirements=_relative(facts.requirements_txt, here),
    )
    document["environment"] = kept
    deployment = document.get("deployment")
    if isinstance(deployment, dict) and isinstance(deployment.get("cwd"), str):
        cwd = normal_path(here, deployment["cwd"])
        if cwd is None or not _inside(cwd, facts.server_path):
            return None, _skipped(dest, f"its deployment.cwd {deployment['cwd']!r} leaves it")
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode(), None


def source_of(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """The file and object a ``fastmcp.json`` names (v1 ``source``, or legacy ``entrypoint``)."""
    source = document.get("source")
    if isinstance(source, dict) and isinstance(source.get("path"), str):
        obj = source.get("entrypoint")
        return source["path"], obj if isinstance(obj, str) and obj else None
    legacy = document.get("entrypoint")
    if isinstance(legacy, str) and legacy:
        head, sep, tail = legacy.rpartition(":")
        if sep and head.endswith(".py") and tail.isidentifier():
            return head, tail
        return legacy, None
    return None, None


def normal_path(here: str, path: str) -> str | None:
    """``here/path`` normalised, or None when it is absolute or climbs out of ``here``'s
    tree (the output, or the repository)."""
    if os.path.isabs(path) or "\\" in path:
        return None
    joined = os.path.normpath(PurePosixPath(here, path).as_posix())
    return None if joined.startswith("..") else PurePosixPath(joined).as_posix()


def _relative(path: str, here: str) -> str:
    return PurePosixPath(os.path.relpath(path, here if here else ".")).as_posix()


def _inside(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")


def _skipped(dest: str, why: str) -> str:
    return f"{dest}: not shipped: {why} (a fastmcp.json must not point outside the bundle)"
