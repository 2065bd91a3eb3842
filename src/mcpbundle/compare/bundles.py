"""The two sides of ``mcpbundle diff``: the bundle at a ref, and what ``build`` would ship.

The ref (``--against``; default: the configured deploy branch, or ``origin``'s copy of it)
is any commit holding a bundle tree: a whole deploy (``mcpbundle-manifest.json`` at its
root naming every server in output paths), or the split branches ``<branch>/<server>``
(each one server's folder at its root), or one of those. Its servers' folders are
written out of git into a scratch directory with a manifest in output paths, so
:mod:`mcpbundle.verify` loads them like any build. What ``build`` would ship now is
planned, pinned (with the ref's pins as the previous ones, like a deploy: the diff
shows what the change does, not what a newer release on PyPI would) and staged into
another scratch directory; the user's output directory is not touched.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.build import BuildOptions, pin_servers, plan_build
from mcpbundle.compare.git_trees import branches_below, extract, find_ref, short
from mcpbundle.config.settings import Config
from mcpbundle.emit.manifest import MANIFEST_NAME, MANIFEST_VERSION, parse_manifest
from mcpbundle.emit.split_layout import branch_rel, from_branch
from mcpbundle.emit.stage import stage_all
from mcpbundle.git.source import is_commit, read_file_at
from mcpbundle.git.source_state import Source
from mcpbundle.resolve.pinner import make_pinner


@dataclass(frozen=True, kw_only=True)
class OldBundle:
    """The servers a ref holds: their commits and manifest entries (output paths)."""

    label: str  # how reports name it: "deploy (1a2b3c4)", "origin/deploy/<server>"
    found: bool  # False: the default deploy branch does not exist yet
    split: bool = False
    commits: Mapping[str, str] = field(default_factory=dict)  # server -> commit
    entries: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "ref": self.label,
            "found": self.found,
            "split": self.split,
            "commits": dict(sorted(self.commits.items())),
        }


def resolve_against(repo: Path, config: Config, against: str | None) -> OldBundle:
    """The bundle ``--against`` names (None: the deploy branch, whole or split)."""
    base = against if against is not None else config.bundle.branch
    sha = is_commit(repo, against) if against is not None else None
    found = find_ref(repo, base) if against is None else ((against, sha) if sha else None)
    if found is not None:
        return _at_commit(repo, config, found[0], found[1])
    split = branches_below(repo, base)
    if split:
        commits, entries = {}, {}
        for name, (shown, commit) in sorted(split.items()):
            entry = _entries(repo, commit, shown).get(name)
            if isinstance(entry, dict):
                path = config.servers[name].path if name in config.servers else name
                commits[name], entries[name] = commit, from_branch(entry, path)
        return OldBundle(
            label=f"{base}/<server>", found=True, split=True, commits=commits, entries=entries
        )
    if against is not None:
        raise UsageError(
            f"'{against}' names no commit and no {against}/<server> branches",
            where="--against",
            hint="pass a branch, tag or commit holding a bundle (e.g. the deploy branch)",
        )
    return OldBundle(label=base, found=False)


def _entries(repo: Path, commit: str, shown: str) -> dict[str, Any]:
    data = read_file_at(repo, commit, MANIFEST_NAME)
    if data is None:
        raise UsageError(
            f"'{shown}' holds no {MANIFEST_NAME}, so it is not a bundle",
            where="--against",
            hint="pass the deploy branch or a commit mcpbundle built",
        )
    servers: dict[str, Any] = parse_manifest(data, f"{shown}:{MANIFEST_NAME}")["servers"]
    return {k: v for k, v in servers.items() if isinstance(v, dict)}


def _at_commit(repo: Path, config: Config, shown: str, commit: str) -> OldBundle:
    entries = _entries(repo, commit, shown)
    label = f"{shown} ({short(repo, commit)})"
    single = len(entries) == 1 and all(e.get("path") == "." for e in entries.values())
    (only,) = entries if single else ("",)
    if single and only in config.servers and config.servers[only].path != ".":
        entry = from_branch(entries[only], config.servers[only].path)  # a split branch
        return OldBundle(
            label=label, found=True, split=True, commits={only: commit}, entries={only: entry}
        )
    return OldBundle(
        label=label, found=True, commits=dict.fromkeys(entries, commit), entries=entries
    )


def write_old(repo: Path, old: OldBundle, names: list[str], dest: Path) -> Path:
    """The folders of ``names`` as ``old`` holds them, and their manifest, under ``dest``."""
    for name in names:
        entry, commit = old.entries[name], old.commits[name]
        path = str(entry.get("path", "."))
        folder = dest if path in ("", ".") else dest / path
        extract(repo, commit, folder, under="" if old.split else path)
    document = {"version": MANIFEST_VERSION, "servers": {n: old.entries[n] for n in names}}
    (dest / MANIFEST_NAME).write_text(json.dumps(document, sort_keys=True), encoding="utf-8")
    return dest


def old_pins(repo: Path, config: Config, old: OldBundle) -> Any:
    """Reads a previous ``requirements.txt`` (output path) from the ref."""
    by_depth = sorted(config.servers.values(), key=lambda s: -len(s.path))

    def read(rel: str) -> str | None:
        for server in by_depth:
            inside = branch_rel(server.path, rel)
            commit = old.commits.get(server.name)
            if inside is not None and commit is not None:
                data = read_file_at(repo, commit, inside if old.split else rel)
                return data.decode("utf-8", "replace") if data is not None else None
        return None

    return read


def stage_current(
    config: Config, names: list[str], pins_from: Any, dest: Path
) -> dict[str, Mapping[str, Any]]:
    """What ``build`` would ship now for ``names``, staged into ``dest`` (index files too)."""
    options = BuildOptions(servers=tuple(names))
    plan = plan_build(config, options)
    if plan.failures:
        name, error = sorted(plan.failures.items())[0]
        raise BuildError(f"server '{name}' cannot be built: {error}")
    pins = pin_servers(config, plan, options, make_pinner(config), pins_from)
    results, _ = stage_all(
        config, plan, dest, source=Source(commit=None, dirty=False), pins=pins, previous=None,
        inputs=False,
    )  # fmt: skip
    return {r.plan.name: r.manifest_entry for r in results}
