"""Which servers' previous output can stay: built from the same inputs and intact.

A server is unchanged when the previous manifest records the same inputs hash and its
folder holds exactly the files that entry lists, each with its recorded digest (a
hand edit, a deleted or an added file makes it stale).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mcpbundle.emit.manifest import root_server_file
from mcpbundle.emit.staged_tree import verified_digest
from mcpbundle.plan.planner import BuildPlan


def unchanged_servers(
    plan: BuildPlan,
    hashes: Mapping[str, str],
    previous: Mapping[str, Any] | None,
    output: Path,
) -> list[str]:
    """Servers whose inputs hash as recorded in the previous manifest, with output present."""
    if previous is None:
        return []
    paths = {
        n: e["path"]
        for n, e in previous["servers"].items()
        if isinstance(e, dict) and isinstance(e.get("path"), str)
    }
    same = []
    for server in plan.servers:
        entry = previous["servers"].get(server.name)
        if not isinstance(entry, dict):
            continue
        if entry.get("inputs") != hashes[server.name]:
            continue
        root = entry.get("path") in ("", ".")  # only a root server's folder holds the others
        others = [p for n, p in paths.items() if n != server.name] if root else []
        if _intact(output, entry, others):
            same.append(server.name)
    return same


def _intact(output: Path, entry: Mapping[str, Any], others: Sequence[str] = ()) -> bool:
    """The server's output holds exactly the files its manifest entry lists, unmodified.

    ``others``: the other servers' folders, which a server at the root contains."""
    files = entry.get("files")
    path = entry.get("path")
    if not isinstance(files, dict) or not isinstance(path, str):
        return False
    present = _files_under(str(output), path)
    if path in ("", "."):
        present = {p for p in present if root_server_file(p, others)}
    if present != set(files):
        return False
    base = str(output)  # joined as text: a Path per file of every unchanged server
    return all(verified_digest(f"{base}/{rel}") == digest for rel, digest in files.items())


def _files_under(output: str, path: str) -> set[str]:
    """Output-relative POSIX paths of everything but directories below ``output/path`` (a
    link to a directory counts as an entry: it is nothing mcpbundle writes)."""
    base = output if path in ("", ".") else f"{output}/{path}"
    found: set[str] = set()
    for directory, dirs, names in os.walk(base):
        rel = directory[len(output) + 1 :]
        prefix = f"{rel}/" if rel else ""
        found.update(f"{prefix}{name}" for name in names)
        found.update(f"{prefix}{d}" for d in dirs if os.path.islink(f"{directory}/{d}"))
    return found
