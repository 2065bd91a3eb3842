"""Write a planned, pinned server into a staging tree, with the manifest and DEPLOY.md.

:mod:`mcpbundle.build` (a directory) and :mod:`mcpbundle.deploy` (a branch) both
stage here; :mod:`mcpbundle.emit.directory` swaps a staged tree in.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpbundle import __version__
from mcpbundle.config.settings import Config
from mcpbundle.emit import directory as emit
from mcpbundle.emit.manifest import (
    CHANGED_BY,
    DEPLOY_NAME,
    INPUTS,
    MANIFEST_NAME,
    env_example_names,
    render_deploy_md,
    render_manifest,
    same_content,
    sha256_file,
)
from mcpbundle.git.source_state import Source
from mcpbundle.plan.pinned_text import parse_pins
from mcpbundle.plan.planner import BuildPlan, ServerPlan
from mcpbundle.plan.shipped_files import join
from mcpbundle.resolve.pinner import Pinned, requirements_in_text

log = logging.getLogger("mcpbundle")


@dataclass(frozen=True, kw_only=True)
class ServerResult:
    plan: ServerPlan
    manifest_entry: Mapping[str, Any] = field(default_factory=dict)
    changed: bool = True  # what it ships differs from the previous build's


@dataclass(frozen=True, kw_only=True)
class Reuse:
    """The previous output and its manifest's file digests: unchanged files are linked."""

    output: Path | None = None
    digests: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, output: Path, previous: Mapping[str, Any] | None) -> Reuse:
        digests: dict[str, str] = {}
        for entry in (previous or {}).get("servers", {}).values():
            files = entry.get("files") if isinstance(entry, dict) else None
            if isinstance(files, dict):
                digests.update({k: v for k, v in files.items() if isinstance(v, str)})
        return cls(output=output, digests=digests)

    def link(
        self, staging: Path, rel: str, *, source: Path | None = None, data: bytes | None = None
    ) -> bool:
        """Link ``rel`` from the previous output if it holds these bytes (``source``'s or
        ``data``) with the mode a fresh copy would get."""
        expected = self.digests.get(rel)
        if self.output is None or expected is None:
            return False
        if source is not None:
            digest, mode = sha256_file(source), emit.mode_for(source)
        else:
            digest, mode = f"sha256:{hashlib.sha256(data or b'').hexdigest()}", 0o644
        if digest != expected:
            return False
        return emit.link_previous(self.output / rel, staging / rel, digest, mode)


def written_paths(root: Path, plan: ServerPlan) -> list[str]:
    """Every output path :func:`stage_server` writes for ``plan``: the copied files,
    ``requirements.in`` and ``requirements.txt``, the generated files (shims, dist-info,
    licences and notices, rewritten ``fastmcp.json``) and a rewritten ``pyproject.toml``.
    ``build --dry-run`` lists them."""
    written = {copy.dest for copy in plan.files} | {rel for rel, _ in plan.generated}
    written |= {join(plan.path, "requirements.in"), plan.requirements_txt}
    if _rewrites_pyproject(root, plan):
        written.add(plan.pyproject or "")
    return sorted(written)


def _rewrites_pyproject(root: Path, plan: ServerPlan) -> bool:
    return plan.pyproject is not None and (root / plan.pyproject).is_file()


def stage_server(
    config: Config,
    plan: ServerPlan,
    staging: Path,
    pinned: Pinned,
    reuse: Reuse | None = None,
) -> dict[str, Any]:
    """Write one server into ``staging``; return its manifest entry.

    ``reuse``: the previous output, whose files with the same content are linked."""
    root = config.root
    reuse = reuse or Reuse()
    for copy in plan.files:
        source = copy.path(root)
        if not reuse.link(staging, copy.dest, source=source):
            emit.copy_file(source, staging / copy.dest)
    writes = [
        (join(plan.path, "requirements.in"), requirements_in_text(pinned.requirements_in).encode()),
        (plan.requirements_txt, pinned.requirements_txt.encode()),
        *plan.generated,
    ]
    if plan.pyproject is not None and _rewrites_pyproject(root, plan):
        # A host that sees [build-system] runs `pip install .`: ship the pins, no sources.
        from mcpbundle.emit.pyproject_rewrite import rewrite_pyproject  # tomlkit: only when needed

        pins = [
            f"{pin.name}=={pin.version}" + (f"; {pin.marker}" if pin.marker else "")
            for pin in parse_pins(pinned.requirements_txt)
        ]
        text = (root / plan.pyproject).read_text(encoding="utf-8")
        rewritten = rewrite_pyproject(text, pins=pins, where=plan.pyproject)
        writes.append((plan.pyproject, rewritten.encode()))
    for rel, data in writes:
        if not reuse.link(staging, rel, data=data):
            emit.write_bytes(staging / rel, data)
    written = written_paths(root, plan)
    hashes = {rel: sha256_file(staging / rel) for rel in written}
    return {
        "path": plan.path,
        "python": plan.python,
        "entrypoint": plan.entrypoint,
        "requirements": plan.requirements_txt,
        "shared": list(plan.shared),
        "rewrites": [
            {"from": r.original, "to": r.replacement, "origin": r.origin}
            for r in (*plan.rewrites, *pinned.rewrites)
        ],
        "files": hashes,
        "lock": plan.lock,
        "shim": plan.original_entrypoint,
    }


def input_hash(config: Config, plan: ServerPlan, pinned: Pinned) -> str:
    """Everything a server's output is made from: files, generated files, pins, its config."""
    digest = hashlib.sha256()

    def feed(*parts: str) -> None:
        for part in parts:
            digest.update(part.encode())
            digest.update(b"\0")

    # Only repository-relative facts: the hash lands in the manifest, which must be the
    # same wherever the repository is checked out.
    feed(__version__, repr(config.servers[plan.name]), plan.entrypoint, plan.vendor_dir)
    feed(plan.python)
    feed(*plan.shared, *(f"{r.origin}|{r.original}|{r.replacement}" for r in plan.rewrites))
    feed(str(plan.lock), *plan.preferences, str(plan.original_entrypoint))
    for rel, data in plan.generated:
        feed(rel, hashlib.sha256(data).hexdigest())
    for copy in plan.files:
        source = copy.path(config.root)
        mode = "x" if os.access(source, os.X_OK) else "-"
        feed(copy.dest, sha256_file(source), mode)
    feed(requirements_in_text(pinned.requirements_in), pinned.requirements_txt, repr(pinned))
    return f"sha256:{digest.hexdigest()}"


def stage_all(
    config: Config,
    plan: BuildPlan,
    staging: Path,
    *,
    source: Source,
    pins: Mapping[str, Pinned],
    previous: Mapping[str, Any] | None,
    unchanged: Sequence[str] = (),
    hashes: Mapping[str, str] | None = None,
    reuse: Reuse | None = None,
    index: bool = True,
    inputs: bool = True,
) -> tuple[list[ServerResult], dict[str, Mapping[str, Any]]]:
    """Stage the planned servers (except ``unchanged`` ones) and the index files.

    ``hashes``: each server's :func:`input_hash`, when the caller computed it already.
    ``reuse``: the previous output directory, to link unchanged files from.
    ``index``: write the manifest and DEPLOY.md; ``inputs``: record the input hashes
    (a deploy branch does not: its tree depends only on what the servers ship).
    A server that ships what it shipped before keeps its ``changed-by``."""
    results = []
    for server in plan.servers:
        before = (previous or {}).get("servers", {}).get(server.name)
        if server.name in unchanged and previous is not None:
            results.append(ServerResult(plan=server, manifest_entry=before, changed=False))
            continue
        entry = stage_server(config, server, staging, pins[server.name], reuse)
        if inputs:
            known = hashes.get(server.name) if hashes is not None else None
            entry[INPUTS] = known or input_hash(config, server, pins[server.name])
        changed = not (isinstance(before, dict) and same_content(entry, before))
        entry[CHANGED_BY] = source.to_json() if changed else before.get(CHANGED_BY)
        results.append(ServerResult(plan=server, manifest_entry=entry, changed=changed))
    entries = merge_entries(config, previous, results)
    if index:
        write_index_files(config, staging, entries)
    return results, entries


def merge_entries(
    config: Config, previous: Mapping[str, Any] | None, results: list[ServerResult]
) -> dict[str, Mapping[str, Any]]:
    """Rebuilt servers' entries over the previous manifest's (servers still configured)."""
    entries: dict[str, Mapping[str, Any]] = {}
    if previous is not None:
        for name, entry in previous["servers"].items():
            if name in config.servers and isinstance(entry, dict):
                entries[name] = entry
    for result in results:
        entries[result.plan.name] = result.manifest_entry
    return entries


def write_index_files(
    config: Config, staging: Path, entries: Mapping[str, Mapping[str, Any]]
) -> None:
    """The manifest and DEPLOY.md at the output root."""
    for name, data in index_bytes(config, entries).items():
        emit.write_bytes(staging / name, data)


def index_bytes(config: Config, entries: Mapping[str, Mapping[str, Any]]) -> dict[str, bytes]:
    env = {
        name: env_example_names(config.root / config.servers[name].path / ".env.example")
        for name in entries
        if name in config.servers
    }
    return {
        MANIFEST_NAME: render_manifest(entries),
        DEPLOY_NAME: render_deploy_md(entries, env),
    }
