"""A built server as ``verify`` takes it from the output: the folder, entrypoint and
requirements its manifest entry names, and a copy of only that folder for a load."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError
from mcpbundle.emit.manifest import MANIFEST_NAME


def server_paths(name: str, entry: Mapping[str, Any], output_dir: Path) -> tuple[str, str, Path]:
    """``(folder, entrypoint, requirements file)`` of a manifest entry, each checked to be
    inside the output and present (a BuildError naming the manifest key otherwise)."""
    where = f"{MANIFEST_NAME}: servers.{name}"
    server_dir = entry.get("path")
    entrypoint = entry.get("entrypoint")
    req = entry.get("requirements")
    if not all(isinstance(v, str) and v for v in (server_dir, entrypoint, req)):
        raise BuildError("needs path, entrypoint and requirements", where=where)
    assert isinstance(server_dir, str)
    assert isinstance(entrypoint, str)
    assert isinstance(req, str)
    file_part = entrypoint.rsplit(":", 1)[0] if ":" in entrypoint else entrypoint
    prefix = "" if server_dir in ("", ".") else server_dir.rstrip("/") + "/"
    if not file_part.startswith(prefix) or ".." in Path(file_part).parts:
        raise BuildError(f"entrypoint {entrypoint!r} is not inside {server_dir!r}", where=where)
    if not (output_dir / file_part).is_file():
        raise BuildError(f"entrypoint {file_part} does not exist", where=where, hint="build again")
    requirements = output_dir / req
    if not requirements.is_file():
        raise BuildError(f"requirements file {req} does not exist", where=where)
    return server_dir, entrypoint, requirements


def copy_server(box: Path, output_dir: Path, server_dir: str, entry_rel: str) -> tuple[str, Path]:
    """Copy only this server's folder into the box (its cwd stays empty)."""
    bundle = box / "bundle"
    root = bundle / server_dir
    shutil.copytree(
        output_dir / server_dir,
        root,
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    return str(bundle / entry_rel), root
