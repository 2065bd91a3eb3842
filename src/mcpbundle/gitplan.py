"""Git requirements in a plan: pin them, or vendor their packages like a shared lib.

Policy per ``[bundle] git`` (``vendor`` or ``pin``) and ``[bundle.git-overrides]``;
each decision is recorded as a rewrite. A vendored checkout's own git
requirements are followed too (once per repository and commit).
"""

from __future__ import annotations

from pathlib import Path

from mcpbundle import progress
from mcpbundle.cachedir import cache_root
from mcpbundle.closure import Classified, LibGraph, Rewrite
from mcpbundle.config import Config
from mcpbundle.discovery import LibInfo
from mcpbundle.gitreqs import (
    assert_pure_python,
    checkout,
    parse_git_url,
    pin_line,
    policy_for,
    vendor_info,
)
from mcpbundle.requirements import parse_requirement_text


def expand_git(config: Config, graph: LibGraph, found: Classified) -> list[LibInfo]:
    """Resolve ``found.git`` in place: pins join ``found.pypi``; vendored checkouts are returned."""
    vendored: list[LibInfo] = []
    seen: set[tuple[str, str]] = set()
    pending = list(found.git)
    found.git.clear()
    while pending:
        line = pending.pop(0)
        spec = parse_git_url(line)
        with progress.step(spec.display, "fetching git requirement"):
            co = checkout(spec, cache_dir=cache_root(), where=line.origin)
        policy = policy_for(spec, config.bundle.git, config.bundle.git_overrides)
        if policy == "pin":
            pin = pin_line(co, line.origin)
            found.pypi.append(parse_requirement_text(pin, origin=line.origin, base=config.root))
            found.rewrites.append(Rewrite(origin=line.origin, original=line.text, replacement=pin))
            continue
        found.rewrites.append(
            Rewrite(
                origin=line.origin,
                original=line.text,
                replacement=f"vendored {co.name} from {spec.url} at {co.commit}",
            )
        )
        if (spec.url, co.commit) in seen:
            continue
        seen.add((spec.url, co.commit))
        assert_pure_python(co, line.origin)
        info = vendor_info(co, line.origin)
        sub = graph.classify(info.dependencies, owner_dir=co.directory)
        found.pypi.extend(sub.pypi)
        found.libs |= sub.libs
        pending.extend(sub.git)
        vendored.append(
            LibInfo(
                name=co.name,
                path=f"{spec.url}@{co.commit}",
                distribution=co.name,
                version=co.version,
                source_root=str(Path(info.source_root).resolve()),
                packages=info.packages,
                dependencies=info.dependencies,
            )
        )
    return vendored
