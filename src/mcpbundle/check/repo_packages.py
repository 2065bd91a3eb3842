"""Where in the repository an import that nothing in the bundle satisfies lives.

A server that reaches shared code through a ``sys.path`` edit (``sys.path.insert(0,
<repo root>)``) or an editable install made by hand loads at home and fails on the host,
which gets the server's folder only. When the missing top-level name is a package
elsewhere in the repository, MCB004's fix says how build vendors it: declare the
package's directory as a shared library and list it in the server's ``shared``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path, PurePosixPath

from mcpbundle.check.model import CheckTarget

MAX_DEPTH = 4  # directory levels below the repository root that are searched
_SKIPPED = frozenset({"node_modules", "venv", "site-packages", "dist", "build", "tests"})


def repo_package_fix(target: CheckTarget, top: str) -> str | None:
    """The fix for an import of ``top`` when it is a package of the repository outside
    the server's folder; None when it is not (or where that is cannot be told)."""
    root = target.repo_root
    entry = target.files.get(target.entrypoint)
    if root is None or entry is None or target.entrypoint in target.generated:
        return None
    server_dir = entry.path.parents[len(PurePosixPath(target.entrypoint).parts) - 1]
    found = _package_dirs(str(root), top)
    outside = [rel for rel in found if not _inside(root / rel, server_dir)]
    if not outside:
        return None
    package = outside[0]
    parent = PurePosixPath(package).parent
    library = str(parent.parent) if parent.name == "src" else package
    return (
        f"`{top}` is the repository's `{package}/`, which the bundle does not ship: "
        f'declare it, `[shared.{top}] path = "{library}"`, and add "{top}" to '
        f"`[servers.{target.server}] shared`, so build vendors it"
    )


@lru_cache(maxsize=256)
def _package_dirs(root: str, top: str) -> tuple[str, ...]:
    """Repository-relative directories named ``top`` that hold an ``__init__.py``,
    shallowest first (nothing hidden, no environments or build outputs)."""
    found: list[str] = []
    level = [""]
    for _depth in range(MAX_DEPTH + 1):
        below: list[str] = []
        for rel in level:
            try:
                with os.scandir(os.path.join(root, rel) if rel else root) as entries:
                    names = sorted(e.name for e in entries if e.is_dir(follow_symlinks=False))
            except OSError:
                continue
            for name in names:
                if name.startswith(".") or name in _SKIPPED or name.endswith(".egg-info"):
                    continue
                child = f"{rel}/{name}" if rel else name
                if name == top and os.path.isfile(os.path.join(root, child, "__init__.py")):
                    found.append(child)
                below.append(child)
        level = below
    return tuple(found)


def _inside(path: Path, directory: Path) -> bool:
    try:
        return path.resolve().is_relative_to(directory.resolve())
    except OSError:
        return False
