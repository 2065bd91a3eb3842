"""``mcpbundle diff``: the surface of what ``build`` would ship now against the bundle at a ref.

Per server: both sides are built (the old one taken from git, the new one staged with
the old pins, see :mod:`mcpbundle.compare.bundles`), loaded (or read from the surface
cache by bundle hash, :mod:`mcpbundle.compare.surfaces`) and compared
(:mod:`mcpbundle.compare.surface_diff`). A server only the config has is a new server,
one only the ref has a removed server: neither needs a load.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcpbundle.base.errors import UsageError
from mcpbundle.base.temp_dirs import temp_dir
from mcpbundle.compare.bundles import (
    OldBundle,
    old_pins,
    resolve_against,
    stage_current,
    write_old,
)
from mcpbundle.compare.surface_diff import LEVELS, Change, compare, rank, worst
from mcpbundle.compare.surfaces import load_surfaces
from mcpbundle.config.settings import Config
from mcpbundle.git.source import repo_root_of


@dataclass(frozen=True)
class ServerDiff:
    name: str
    status: str  # "changed", "unchanged", "new", "removed"
    changes: tuple[Change, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "level": worst(self.changes),
            "changes": [c.to_json() for c in self.changes],
        }


@dataclass(frozen=True)
class DiffReport:
    against: OldBundle
    servers: tuple[ServerDiff, ...]

    def counts(self) -> dict[str, int]:
        found = dict.fromkeys(LEVELS, 0)
        for server in self.servers:
            for change in server.changes:
                found[change.level] += 1
        return found

    def at_or_above(self, level: str) -> list[tuple[str, Change]]:
        """``(server, change)`` for each change at ``level`` or a more severe one, the most
        severe first."""
        found = [
            (s.name, c) for s in self.servers for c in s.changes if rank(c.level) >= rank(level)
        ]
        return sorted(found, key=lambda pair: -rank(pair[1].level))

    def to_json(self) -> dict[str, Any]:
        return {
            "against": self.against.to_json(),
            "servers": [s.to_json() for s in self.servers],
            "summary": self.counts(),
        }


def run_diff(
    config: Config, servers: Sequence[str], against: str | None, jobs: int | None = None
) -> DiffReport:
    repo = repo_root_of(config.root)
    if repo is None:
        raise UsageError(
            "diff compares with a bundle in git, and this is no git repository",
            where=str(config.path),
            hint="run it in the repository that holds the deploy branch",
        )
    old = resolve_against(repo, config, against)
    known = sorted(set(config.servers) | set(old.entries))
    names = sorted(set(servers)) if servers else known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise UsageError(
            f"unknown server {', '.join(map(repr, unknown))}",
            hint=f"servers: {', '.join(known) or 'none'}",
        )
    both = [n for n in names if n in config.servers and n in old.entries]
    before: Mapping[str, Mapping[str, Any]] = {}
    after: Mapping[str, Mapping[str, Any]] = {}
    if both:
        with temp_dir("diff") as scratch:
            (scratch / "old").mkdir()
            (scratch / "new").mkdir()
            write_old(repo, old, both, scratch / "old")
            stage_current(config, both, old_pins(repo, config, old), scratch / "new")
            before = load_surfaces(
                config, scratch / "old", both, what=f"the bundle at {old.label}", jobs=jobs
            )
            after = load_surfaces(config, scratch / "new", both, what="what build would ship now",
                                  jobs=jobs)  # fmt: skip
    results = []
    for name in names:
        changes = tuple(
            compare(
                before.get(name, {}) if name in old.entries else None,
                after.get(name, {}) if name in config.servers else None,
            )
        )
        status = (
            "new" if name not in old.entries
            else "removed" if name not in config.servers
            else "changed" if changes else "unchanged"
        )  # fmt: skip
        results.append(ServerDiff(name=name, status=status, changes=changes))
    return DiffReport(against=old, servers=tuple(results))
