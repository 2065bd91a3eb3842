"""Git requirements in a plan: take them from PyPI, pin them, or vendor their packages.

Policy per ``[bundle] git`` (``vendor``, ``pin`` or ``pypi``) and
``[bundle.git-overrides]``; each decision is recorded as a rewrite. ``pypi``
needs no clone: the requirement becomes the PyPI distribution of the same name,
left to the resolver. A vendored checkout's own git requirements are followed too
(once per repository and commit). Without ``fetch`` (validate, list, check) nothing
is cloned: ``vendor``/``pin`` requirements are classified and listed as unresolved.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mcpbundle.base import progress
from mcpbundle.base.cache_dir import cache_root
from mcpbundle.base.errors import ConfigError, GitError
from mcpbundle.config.settings import Config
from mcpbundle.plan.closure import Classified, LibGraph, Rewrite
from mcpbundle.plan.git_requirements import (
    GitSpec,
    assert_pure_python,
    checkout,
    parse_git_url,
    pin_line,
    policy_for,
    repo_key,
    vendor_info,
)
from mcpbundle.plan.lib_discovery import LibInfo
from mcpbundle.plan.licences import find_licence
from mcpbundle.plan.requirements import ReqLine, parse_requirement_text


@dataclass(kw_only=True)
class GitOutcome:
    """What became of a server's git requirements: the libraries vendored, the ones left."""

    vendored: list[LibInfo] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # "file:line: git+URL (policy)"


def expand_git(
    config: Config, graph: LibGraph, found: Classified, *, fetch: bool = True
) -> GitOutcome:
    """Resolve ``found.git`` in place: PyPI names and pins join ``found.pypi``; vendored
    checkouts are returned; without ``fetch``, what would need the network is listed."""
    outcome = GitOutcome()
    seen: set[tuple[str, str]] = set()
    pending = list(found.git)
    found.git.clear()
    while pending:
        line = pending.pop(0)
        spec = parse_git_url(line)
        policy = policy_for(spec, config.bundle.git, config.bundle.git_overrides)
        if policy == "pypi":
            _from_pypi(config, found, line, spec)
            continue
        if not fetch:
            outcome.unresolved.append(f"{line.origin}: {spec.display} ({policy}, not fetched)")
            continue
        try:
            with progress.step(spec.display, "fetching git requirement"):
                co = checkout(spec, cache_dir=cache_root(), where=line.origin)
        except GitError as exc:
            raise _unreachable(exc, spec) from exc
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
        outcome.vendored.append(
            LibInfo(
                name=co.name,
                path=f"{spec.url}@{co.commit}",
                distribution=co.name,
                version=co.version,
                source_root=str(Path(info.source_root).resolve()),
                packages=info.packages,
                dependencies=info.dependencies,
                licence=find_licence(co.directory, _tree_root(co.directory, spec)),
                origin=f"{spec.url} at {co.commit}",
            )
        )
    return outcome


def _tree_root(directory: Path, spec: GitSpec) -> Path:
    """The checked-out commit's top directory (above ``#subdirectory=``)."""
    for _ in Path(spec.subdirectory or "").parts:
        directory = directory.parent
    return directory


def _from_pypi(config: Config, found: Classified, line: ReqLine, spec: GitSpec) -> None:
    """``git = "pypi"``: the PyPI distribution of the same name, version left to the resolver."""
    if not spec.name:
        raise ConfigError(
            f"cannot tell which PyPI distribution {spec.display} is",
            where=line.origin,
            hint="write it as NAME @ git+URL or add #egg=NAME",
        )
    extras = f"[{','.join(spec.extras)}]" if spec.extras else ""
    marker = f"; {spec.marker}" if spec.marker else ""
    text = f"{spec.name}{extras}{marker}"
    found.pypi.append(parse_requirement_text(text, origin=line.origin, base=config.root))
    found.rewrites.append(
        Rewrite(origin=line.origin, original=line.text, replacement=f"{spec.name} (PyPI)")
    )


def _unreachable(exc: GitError, spec: GitSpec) -> GitError:
    """A clone or fetch that failed names the policy that needs no network."""
    if not exc.message.startswith(("cannot reach", "cannot clone", "cannot fetch")):
        return exc
    what = spec.name or "it"
    return GitError(
        exc.message,
        where=exc.where,
        hint=f'to install {what} from PyPI instead, set "{repo_key(spec.url)}" = "pypi" in '
        '[bundle.git-overrides] (or git = "pypi" in [bundle])',
    )
