"""``build --branch NAME --split``: one branch per server, its folder at the branch root.

Branch ``NAME/<server>`` holds exactly what the server ships, moved up from
``<server path>/`` to the root (so its entrypoint is ``src/server.py:mcp`` and its
``requirements.txt`` at the root for the example's ``server-ops``), plus a
``DEPLOY.md`` with that server's settings and a ``mcpbundle-manifest.json`` holding
its entry alone, in the branch's paths. The functions here translate an entry
between the two layouts and lay out one server's branch tree.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError
from mcpbundle.emit.manifest import (
    DEPLOY_NAME,
    MANIFEST_NAME,
    env_example_names,
    render_deploy_md,
    render_manifest,
)

_PATH_KEYS = ("entrypoint", "requirements", "shim")


def _prefix(path: str) -> str:
    return "" if path in ("", ".") else path.rstrip("/") + "/"


def to_branch(entry: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``entry`` (output paths) in the paths of server ``name``'s own branch."""
    prefix = _prefix(str(entry.get("path", ".")))

    def strip(rel: str) -> str:
        if prefix and not rel.startswith(prefix):
            raise BuildError(
                f"server '{name}' ships '{rel}', outside its folder '{prefix.rstrip('/')}', "
                "so it cannot have a branch of its own",
                where="--split",
                hint="build it without --split",
            )
        return rel[len(prefix) :]

    moved = dict(entry)
    moved["path"] = "."
    for key in _PATH_KEYS:
        if isinstance(moved.get(key), str):
            moved[key] = strip(moved[key])
    files = entry.get("files")
    if isinstance(files, dict):
        moved["files"] = {strip(rel): digest for rel, digest in sorted(files.items())}
        clash = sorted({DEPLOY_NAME, MANIFEST_NAME} & set(moved["files"]))
        if clash:
            raise BuildError(
                f"server '{name}' ships its own {clash[0]} at its root, where its split "
                "branch has mcpbundle's",
                where="--split",
                hint="rename that file or exclude it",
            )
    return moved


def from_branch(entry: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The inverse of :func:`to_branch`: an entry read from a split branch, in output paths
    for a server at ``path``."""
    prefix = _prefix(path)
    moved = dict(entry)
    moved["path"] = path
    for key in _PATH_KEYS:
        if isinstance(moved.get(key), str):
            moved[key] = prefix + moved[key]
    files = entry.get("files")
    if isinstance(files, dict):
        moved["files"] = {prefix + rel: digest for rel, digest in sorted(files.items())}
    return moved


def branch_rel(path: str, rel: str) -> str | None:
    """Output path ``rel`` of a server at ``path``, in its branch (None: not in its folder)."""
    prefix = _prefix(path)
    return rel[len(prefix) :] if rel.startswith(prefix) else None


def lay_out(
    staged: Path, dest: Path, name: str, entry: Mapping[str, Any], env_example: Path
) -> None:
    """Write server ``name``'s branch tree into ``dest`` from the staged output ``staged``:
    its files (hard links), its DEPLOY.md and its one-entry manifest."""
    moved = to_branch(entry, name)  # also checks that every file is inside its folder
    path = str(entry.get("path", "."))
    for rel in sorted(entry.get("files") or {}):
        target = dest / str(branch_rel(path, rel))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(staged / rel, target)
        except OSError:
            shutil.copy2(staged / rel, target)
    (dest / MANIFEST_NAME).write_bytes(render_manifest({name: moved}))
    env = {name: env_example_names(env_example)}
    (dest / DEPLOY_NAME).write_bytes(render_deploy_md({name: moved}, env, single=True))
