"""From configuration to resolver calls: settings, seeds, and what the host needs.

:mod:`mcpbundle.resolve.resolver` runs the resolver; this module decides what to ask it:
the previous pins and the lock's pins as preferences, and ``fastmcp`` added when
a server's pins lack it (the host runs servers with FastMCP).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.requirements import InvalidRequirement

from mcpbundle.base import progress
from mcpbundle.base.errors import BuildError
from mcpbundle.base.interpreters import piptools_missing
from mcpbundle.base.listing import first_few
from mcpbundle.base.uv_binary import find_uv
from mcpbundle.config.settings import Config
from mcpbundle.plan.closure import Rewrite
from mcpbundle.plan.parsed_requirement import parsed
from mcpbundle.plan.pinned_text import pinned_versions
from mcpbundle.plan.planner import ServerPlan
from mcpbundle.plan.requirement_lists import requirements_in_text, sort_requirements
from mcpbundle.plan.sdk_compat import fastmcp_addition
from mcpbundle.resolve.resolver import ResolverSettings, pinned_for
from mcpbundle.resolve.shared_lock import SharedResult, resolve_per_server, resolve_shared

log = logging.getLogger("mcpbundle")


@dataclass(frozen=True, kw_only=True)
class Pinned:
    """A server's pinned requirements and the input they were resolved from."""

    requirements_in: tuple[str, ...]
    requirements_txt: str
    rewrites: tuple[Rewrite, ...] = ()  # additions the pinner made (e.g. fastmcp)
    python: str = ""  # the Python the pins are for (the target, unless pip-tools fell back)


# (server plans, previous requirements.txt per server) -> Pinned per server
Pinner = Callable[[Sequence[ServerPlan], Mapping[str, str | None]], dict[str, Pinned]]


def resolver_settings(config: Config) -> ResolverSettings:
    """Index settings from ``[bundle]``; relative find-links are read from the config dir."""
    bundle = config.bundle
    find_links = tuple(_local(config.root, link) for link in bundle.find_links)
    return ResolverSettings(
        resolver="uv" if bundle.resolver == "uv" else "pip-tools",
        python=bundle.python,
        index_url=bundle.index_url,
        extra_index_urls=bundle.extra_index_urls,
        find_links=find_links,
        no_index=bundle.no_index,
        hashes=bundle.hashes,
    )


def with_index(settings: ResolverSettings, index: Sequence[tuple[str, str]]) -> ResolverSettings:
    """``settings`` with a server's requirements-file index options added (servers whose
    options differ are resolved apart, even under the shared lock)."""
    for key, value in index:
        if key == "index-url":
            settings = replace(settings, index_url=value)
        elif key == "extra-index-urls":
            settings = replace(settings, extra_index_urls=(*settings.extra_index_urls, value))
        elif key == "find-links":
            settings = replace(settings, find_links=(*settings.find_links, value))
        elif key == "no-index":
            settings = replace(settings, no_index=True)
    return settings


def _local(root: Path, link: str) -> str:
    if "://" in link or Path(link).is_absolute():
        return link
    return str((root / link).resolve())


def seed(previous: str | None, preferences: Sequence[str]) -> str | None:
    """Previous pins with the lock's pins over them (a lock edit wins over old output)."""
    if not preferences:
        return previous
    pins = pinned_versions(previous) if previous else {}
    for line in preferences:
        name, _, version = line.partition("==")
        pins[name] = version
    return "".join(f"{name}=={version}\n" for name, version in sorted(pins.items()))


_switched: set[str] = set()


def able_resolver(settings: ResolverSettings) -> ResolverSettings:
    """``settings``, unless pip-tools cannot pin for their Python here and uv can: pins for
    the running Python instead of the target would install on the host only by chance
    (a release that needs a newer Python, a marker for another), while uv resolves for any
    version without an interpreter of it. Without uv, pip-tools falls back and warns."""
    if settings.resolver != "pip-tools":
        return settings
    why = piptools_missing(settings.python)
    if why is None or find_uv() is None:
        return settings
    target = str(settings.python)
    if target not in _switched:
        _switched.add(target)
        log.warning(
            "%s: pinning for Python %s with uv instead of pip-tools (uv needs no interpreter "
            'of it); install Python %s to pin with pip-tools, or set resolver = "uv"',
            why,
            settings.python,
            settings.python,
        )
    return replace(settings, resolver="uv")


def make_pinner(
    config: Config,
    *,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    use_cache: bool = True,
) -> Pinner:
    """Pin a batch of servers: one shared resolution (``lock = "shared"``) or one each,
    per target Python (servers built for different Pythons never share a lock)."""
    base = resolver_settings(config)
    run = resolve_shared if config.bundle.lock == "shared" else resolve_per_server

    def resolve_batch(
        plans: Sequence[ServerPlan],
        lines: Mapping[str, tuple[str, ...]],
        previous: Mapping[str, str | None],
        settings: ResolverSettings,
        alone: Mapping[str, str],
        again: str = "",
    ) -> SharedResult:
        shared = config.bundle.lock == "shared"
        label = ("one shared resolution" if shared else "per server") + again
        names = first_few([p.name for p in plans])
        with progress.step(names, f"resolving with {settings.resolver} ({label})"):
            result = run(
                {p.name: requirements_in_text(lines[p.name]) for p in plans},
                {p.name: seed(previous.get(p.name), p.preferences) for p in plans},
                settings,
                upgrade=upgrade,
                upgrade_packages=tuple(upgrade_packages),
                use_cache=use_cache,
                vendored={p.name: p.vendored_names for p in plans},
                alone=alone,
            )
        return result

    def pin(plans: Sequence[ServerPlan], previous: Mapping[str, str | None]) -> dict[str, Pinned]:
        pinned: dict[str, Pinned] = {}
        for python, index in sorted({(p.python, p.index) for p in plans}):
            group = [p for p in plans if p.python == python and p.index == index]
            settings = able_resolver(with_index(replace(base, python=python), index))
            pinned.update(pin_group(group, previous, settings))
        return dict(sorted(pinned.items()))

    def pin_group(
        plans: Sequence[ServerPlan],
        previous: Mapping[str, str | None],
        settings: ResolverSettings,
    ) -> dict[str, Pinned]:
        lines = {p.name: p.requirements_in for p in plans}
        alone = _capped(plans) if config.bundle.lock == "shared" and len(plans) > 1 else {}
        for name, why in sorted(alone.items()):
            log.warning("server '%s' is pinned on its own: %s", name, why)
        result = resolve_batch(plans, lines, previous, settings, alone)
        outputs = result.outputs
        additions: dict[str, str] = {}
        if config.bundle.add_fastmcp:
            seen: dict[str, str | None] = {}  # servers of a shared lock often pin the same
            for plan in plans:
                text = outputs[plan.name]
                if text not in seen:
                    seen[text] = fastmcp_addition(pinned_versions(text))
                addition = seen[text]
                if addition is not None:
                    additions[plan.name] = addition
        if additions and not config.bundle.auto_fix:
            name, addition = sorted(additions.items())[0]
            raise BuildError(
                "its pinned requirements lack fastmcp, which the host needs to run it",
                where=f"server {name!r}",
                hint=f"add '{addition}' to its requirements, or set [bundle] add-fastmcp = false",
                server=name,
            )
        if additions:
            for name, addition in additions.items():
                lines[name] = sort_requirements([*lines[name], addition])
            result = resolve_batch(plans, lines, previous, settings, alone, ", fastmcp added")
            outputs = result.outputs
        for name, why in result.conflicts.items():  # the final resolution's, said once
            log.warning("server '%s' is pinned on its own: %s", name, why)
        python = pinned_for(settings)
        header = target_header(python)
        pinned = {}
        for plan in plans:
            added = additions.get(plan.name)
            rewrites = (Rewrite.addition("mcpbundle", added),) if added else ()
            pinned[plan.name] = Pinned(
                requirements_in=lines[plan.name],
                requirements_txt=header + outputs[plan.name].removeprefix(header),
                rewrites=rewrites,
                python=python,
            )
        return pinned

    return pin


def _capped(plans: Sequence[ServerPlan]) -> dict[str, str]:
    """Servers whose code made the plan add an upper bound (``fastmcp<4`` for
    ``import_server``, ``mcp<2``...), with why they are pinned alone: in the shared lock
    the bound would hold back every other server too, which asked for nothing of the kind."""
    capped: dict[str, str] = {}
    for plan in plans:
        caps = [r.added for r in plan.rewrites if r.added and _upper_bound(r.added)]
        if caps:
            capped[plan.name] = (
                f"{', '.join(caps)}, added for its code, would hold every server of the "
                "shared lock to it"
            )
    return capped


def _upper_bound(requirement: str) -> bool:
    try:
        spec = parsed(requirement).specifier
    except InvalidRequirement:
        return False
    return any(s.operator in ("<", "<=", "==", "~=") for s in spec)


def target_header(python: str) -> str:
    """The first line of every ``requirements.txt``: which Python its pins are for."""
    return f"# Pinned for Python {python}: the host must run this version.\n"
