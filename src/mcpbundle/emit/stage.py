"""Write a planned, pinned server into a staging tree, with the manifest and DEPLOY.md.

:mod:`mcpbundle.build` (a directory) and :mod:`mcpbundle.deploy` (a branch) both
stage here; :mod:`mcpbundle.emit.directory` swaps a staged tree in.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpbundle import __version__
from mcpbundle.config.settings import Config
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
from mcpbundle.emit.staged_tree import StagedTree, digest_of
from mcpbundle.git.source_state import Source
from mcpbundle.plan.pinned_text import parse_pins
from mcpbundle.plan.planner import BuildPlan, ServerPlan
from mcpbundle.plan.requirement_lists import requirements_in_text
from mcpbundle.plan.shipped_files import join
from mcpbundle.resolve.pinner import Pinned

log = logging.getLogger("mcpbundle")


@dataclass(frozen=True, kw_only=True)
class ServerResult:
    """One server's part of a build: its plan and its manifest entry."""

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

    def link(self, tree: StagedTree, rel: str, digest: str, mode: int) -> bool:
        """Link ``rel`` from the previous output if it holds these bytes with this mode."""
        if self.output is None or self.digests.get(rel) != digest:
            return False
        return tree.link_previous(f"{self.output}/{rel}", rel, digest, mode)


@dataclass(frozen=True)
class SourceFile:
    """One source file as read (once) by a build: its digest, modes and, if small, bytes."""

    key: tuple[int, ...]  # device, inode, size, mtime, ctime: the file this describes
    digest: str
    mode: int  # of its copies: 0o755 when executable by its owner, else 0o644
    executable: bool  # os.access(X_OK): what the input hash records
    data: bytes | None  # None: large or sparse, copied from the file itself


class Sources:
    """Each source file read and hashed once per build, shared by :func:`input_hash` and
    staging; files up to ``SMALL`` bytes are kept (up to ``budget`` bytes in all), so their
    copies are written without reading them again."""

    SMALL = 1 << 20

    def __init__(self, budget: int = 64 << 20) -> None:
        self._known: dict[str, SourceFile] = {}
        self._budget = budget

    def get(self, path: str | Path) -> SourceFile:
        """The file as read, once: a file kept in memory is not looked at again (every use
        hashes and writes those bytes); a larger one is stat-ed again, and read again if
        it changed, since its copies are made from the file itself."""
        path = os.fspath(path)
        known = self._known.get(path)
        if known is not None and known.data is not None:
            return known
        info = os.stat(path)
        key = (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
        if known is not None and known.key == key:
            return known
        mode = 0o755 if info.st_mode & stat.S_IXUSR else 0o644
        executable = os.access(path, os.X_OK)
        dense = getattr(info, "st_blocks", info.st_size) * 512 >= info.st_size
        data = None
        if stat.S_ISREG(info.st_mode) and dense and info.st_size <= min(self.SMALL, self._budget):
            with open(path, "rb") as handle:
                data = handle.read()
        if data is not None and len(data) == info.st_size:
            digest = digest_of(data)
            self._budget -= len(data)
        else:
            data, digest = None, sha256_file(Path(path))
        known = self._known[path] = SourceFile(key, digest, mode, executable, data)
        return known


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


def stage_copies(
    config: Config,
    plan: ServerPlan,
    tree: StagedTree,
    reuse: Reuse | None = None,
    sources: Sources | None = None,
) -> dict[str, str]:
    """Copy (or link) the files one server ships into ``tree``; their digests by output
    path. Nothing here depends on the pins: a build copies while its resolver runs."""
    reuse = reuse or Reuse()
    sources = sources or Sources()
    digests: dict[str, str] = {}
    root_text = str(config.root)
    for copy in plan.files:
        source = copy.location(root_text)
        read = sources.get(source)
        if reuse.link(tree, copy.dest, read.digest, read.mode):
            digests[copy.dest] = read.digest
        elif read.data is not None:
            digests[copy.dest] = tree.put_bytes(copy.dest, read.data, read.mode, read.digest)
        else:
            digests[copy.dest] = tree.put_copy(copy.dest, Path(source), read.mode, read.digest)
    return digests


def stage_server(
    config: Config,
    plan: ServerPlan,
    staging: Path | StagedTree,
    pinned: Pinned,
    reuse: Reuse | None = None,
    sources: Sources | None = None,
    copied: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Write one server into ``staging``; return its manifest entry.

    ``reuse``: the previous output, whose files with the same content are linked.
    ``sources``: the build's source files as read already (see :class:`Sources`).
    ``copied``: what :func:`stage_copies` wrote of this server into ``staging`` already."""
    root = config.root
    reuse = reuse or Reuse()
    sources = sources or Sources()
    tree = staging if isinstance(staging, StagedTree) else StagedTree(staging)
    digests = dict(copied) if copied is not None else stage_copies(
        config, plan, tree, reuse, sources
    )  # fmt: skip
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
        digest = digest_of(data)
        if not reuse.link(tree, rel, digest, 0o644):
            tree.put_bytes(rel, data, 0o644, digest)
        digests[rel] = digest
    hashes = {rel: digests[rel] for rel in sorted(digests)}
    # pip-tools with no interpreter of the target pins for the running Python (a warning)
    differs = plan.python and pinned.python and pinned.python != plan.python
    other: dict[str, str] = {"pins-python": pinned.python} if differs else {}
    if plan.requires_python:  # verify chooses an interpreter of the target that it allows
        other["requires-python"] = plan.requires_python
    return {
        "path": plan.path,
        "python": plan.python,
        **other,
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


def input_hash(
    config: Config, plan: ServerPlan, pinned: Pinned, sources: Sources | None = None
) -> str:
    """Everything a server's output is made from: files, generated files, pins, its config."""
    sources = sources or Sources()
    digest = hashlib.sha256()

    def feed(*parts: str) -> None:  # each part, then a NUL
        digest.update("".join(f"{part}\0" for part in parts).encode())

    # Only repository-relative facts: the hash lands in the manifest, which must be the
    # same wherever the repository is checked out.
    feed(__version__, repr(config.servers[plan.name]), plan.entrypoint, plan.vendor_dir)
    feed(plan.python)
    feed(*plan.shared, *(f"{r.origin}|{r.original}|{r.replacement}" for r in plan.rewrites))
    feed(str(plan.lock), *plan.preferences, str(plan.original_entrypoint))
    for rel, data in plan.generated:
        feed(rel, hashlib.sha256(data).hexdigest())
    root_text = str(config.root)
    for copy in plan.files:
        read = sources.get(copy.location(root_text))
        feed(copy.dest, read.digest, "x" if read.executable else "-")
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
    sources: Sources | None = None,
    tree: StagedTree | None = None,
    copied: Mapping[str, Mapping[str, str]] | None = None,
) -> tuple[list[ServerResult], dict[str, Mapping[str, Any]]]:
    """Stage the planned servers (except ``unchanged`` ones) and the index files.

    ``hashes``: each server's :func:`input_hash`, when the caller computed it already.
    ``reuse``: the previous output directory, to link unchanged files from.
    ``index``: write the manifest and DEPLOY.md; ``inputs``: record the input hashes
    (a deploy branch does not: its tree depends only on what the servers ship).
    A server that ships what it shipped before keeps its ``changed-by``.
    ``sources``: the source files the caller read already (:class:`Sources`).
    ``tree``: ``staging`` as the caller wrote into it already; ``copied``: per server, the
    files :func:`stage_copies` wrote there."""
    sources = sources or Sources()
    tree = tree or StagedTree(staging)
    copied = copied or {}
    results = []
    for server in plan.servers:
        before = (previous or {}).get("servers", {}).get(server.name)
        if server.name in unchanged and previous is not None:
            results.append(ServerResult(plan=server, manifest_entry=before, changed=False))
            continue
        entry = stage_server(
            config, server, tree, pins[server.name], reuse, sources, copied.get(server.name)
        )
        if inputs:
            known = hashes.get(server.name) if hashes is not None else None
            entry[INPUTS] = known or input_hash(config, server, pins[server.name], sources)
        changed = not (isinstance(before, dict) and same_content(entry, before))
        entry[CHANGED_BY] = source.to_json() if changed else before.get(CHANGED_BY)
        results.append(ServerResult(plan=server, manifest_entry=entry, changed=changed))
    entries = merge_entries(config, previous, results)
    if index:
        for name, data in index_bytes(config, entries).items():
            tree.put_bytes(name, data)
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
    config: Config, tree: StagedTree, entries: Mapping[str, Mapping[str, Any]]
) -> None:
    """The manifest and DEPLOY.md at the output root (after ``stage_all(index=False)``)."""
    for name, data in index_bytes(config, entries).items():
        tree.put_bytes(name, data)


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
