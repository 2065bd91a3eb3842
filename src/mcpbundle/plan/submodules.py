"""The files of a repository's git submodules.

``git ls-files`` lists a submodule as one entry, its gitlink, and none of its files,
so shared code kept in a submodule (``libs/common``, added with ``git submodule add``)
would be vendored empty. Each checked-out submodule's own ``ls-files`` (tracked and
untracked-but-not-ignored, as for the repository itself) is listed under its path,
and so are the submodules it holds. A submodule that is not checked out (a clone
without ``--recurse-submodules``, a CI checkout without ``submodules: true``) has no
files to list: it is reported, never shipped empty.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

GITLINK = "160000"
MAX_NESTING = 8  # submodules within submodules followed this deep


@dataclass
class Submodules:
    """What the submodules below a repository hold, as paths relative to it."""

    files: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # gitlinks with nothing checked out


def list_submodules(root: Path, found: Submodules | None = None, prefix: str = "") -> Submodules:
    """Every file of every checked-out submodule below ``root``; cheap when the
    repository has no ``.gitmodules``."""
    found = Submodules() if found is None else found
    if not (root / ".gitmodules").is_file() or prefix.count("/") >= MAX_NESTING:
        return found
    from mcpbundle.git.source import git_call, split_z

    staged = git_call(root, "ls-files", "-z", "--stage")
    if not staged.ok:
        return found
    for entry in split_z(staged.stdout):
        info, _, rel = entry.partition("\t")
        if not info.startswith(GITLINK + " "):
            continue
        sub = root / rel
        shown = f"{prefix}{rel}"
        if not os.path.lexists(sub / ".git"):
            found.missing.append(shown)
            continue
        listed = git_call(sub, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
        if not listed.ok:
            found.missing.append(shown)
            continue
        found.files.extend(f"{shown}/{path}" for path in split_z(listed.stdout))
        list_submodules(sub, found, f"{shown}/")
    return found


def unchecked_submodule(root: Path, directory: Path) -> bool:
    """``directory`` is an empty folder that ``.gitmodules`` (at ``root``) names as a
    submodule: a clone that did not check its submodules out."""
    try:
        if any(os.scandir(directory)):
            return False
        text = (root / ".gitmodules").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    rel = os.path.relpath(directory, root).replace(os.sep, "/")
    return any(
        key.strip() == "path" and value.strip().strip('"') == rel
        for key, _, value in (line.partition("=") for line in text.splitlines())
    )
