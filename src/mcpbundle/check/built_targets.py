"""``check --built``: targets read from an output directory through its manifest."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.check.model import CheckTarget, SourceFile
from mcpbundle.check.target_paths import (
    SDK_FIX,
    ignored_codes,
    inside,
    shim_packages,
    shim_sys_path,
    sys_path_of,
)
from mcpbundle.config.settings import Config
from mcpbundle.emit.manifest import MANIFEST_NAME, read_manifest, root_server_file
from mcpbundle.plan.pinned_text import pinned_versions

_FASTMCP_ADDED = "added fastmcp"  # how the pinner records the fastmcp it adds
_PINNER = "mcpbundle"  # ... as its origin (an SDK fix's cap names the code that needs it)


def _requirements_source(config: Config, name: str) -> str | None:
    """The server's own requirements file (repo-relative), where a fix of its pins goes."""
    server = config.servers.get(name)
    if server is None:
        return None
    for local in (server.requirements, "requirements.txt", "pyproject.toml"):
        if local is not None and (config.root / server.path / local).is_file():
            return posixpath.normpath(PurePosixPath(server.path, local).as_posix())
    return None


def built_targets(config: Config, output: Path, only: Sequence[str]) -> list[CheckTarget]:
    """Targets for an output directory, read through its manifest."""
    manifest = read_manifest(output / MANIFEST_NAME)
    if manifest is None:
        raise BuildError(
            "no built output to check", where=str(output), hint="run `mcpbundle build` first"
        )
    servers = manifest["servers"]
    for name in only:
        if name not in servers:
            raise UsageError(f"server {name!r} is not in the built output", where=str(output))
    folders = [str(entry.get("path")) for entry in servers.values()]
    return [
        _built_target(config, output, name, entry, folders)
        for name, entry in sorted(servers.items())
        if not only or name in only
    ]


def _built_target(
    config: Config, output: Path, name: str, entry: Mapping[str, Any], folders: Sequence[str]
) -> CheckTarget:
    folder = str(entry["path"])
    base = output / folder if folder != "." else output
    entry_file, _, obj = str(entry["entrypoint"]).partition(":")
    files: dict[str, SourceFile] = {}
    for path in sorted(base.rglob("*")):
        rel = path.relative_to(base).as_posix()
        if not path.is_file() or "__pycache__" in rel.split("/"):
            continue
        # a server at the root holds the other servers' folders and the output's own files
        if folder in ("", ".") and not root_server_file(rel, folders):
            continue
        files[rel] = SourceFile(path=path, display=path.relative_to(output).as_posix())
    requirements = inside(str(entry["requirements"]), folder)
    req_path = output / str(entry["requirements"])
    names = (
        set(pinned_versions(req_path.read_text(encoding="utf-8"))) if req_path.is_file() else set()
    )
    entry_rel = inside(entry_file, folder)
    generated = {p for p in files if ".dist-info/" in f"/{p}"}
    shim: str | None = None
    packages: tuple[tuple[str | None, str], ...] = ()
    original = entry.get("shim")
    if isinstance(original, str) and original:
        shim = entry_rel
        generated.add(shim)
        source, _, obj = original.rpartition(":")
        entry_rel = inside(source, folder)
        shim_path = base / shim
        text = (
            shim_path.read_text(encoding="utf-8", errors="replace") if shim_path.is_file() else ""
        )
        sys_path = shim_sys_path(shim, text)
        packages = shim_packages(shim, text)
    else:
        own = config.servers.get(name)
        vendor = own.vendor_dir if own is not None and own.vendor_dir else None
        entry_dir = PurePosixPath(entry_rel).parent.as_posix()
        sys_path = sys_path_of(entry_rel, vendor or entry_dir)
    rewrites = entry.get("rewrites") or []
    sdk_fix = next(
        (str(r.get("origin")) for r in rewrites if isinstance(r, dict) and r.get("to") == SDK_FIX),
        None,
    )
    fastmcp_fix = next(
        (
            str(r["to"]).removeprefix("added ")
            for r in rewrites
            if isinstance(r, dict)
            and r.get("origin") == _PINNER
            and str(r.get("to", "")).startswith(_FASTMCP_ADDED)
        ),
        None,
    )
    return CheckTarget(
        server=name,
        files=files,
        entrypoint=entry_rel,
        object_name=obj or None,
        sys_path=sys_path,
        packages=packages,
        requirement_files={
            requirements: SourceFile(path=req_path, display=str(entry["requirements"]))
        },
        requirement_names=frozenset(canonicalize_name(n) for n in names),
        ignore=ignored_codes(config, name),
        python=str(entry["python"]) if entry.get("python") else config.bundle.python,
        generated=frozenset(generated),
        shim=shim,
        sdk_fix=sdk_fix,
        auto_fix=config.bundle.auto_fix,
        fastmcp_fix=fastmcp_fix,
        fastmcp_at=_requirements_source(config, name),
        allow_secrets=config.bundle.allow_secrets,
        repo_root=config.root,
    )
