"""From configuration to resolver calls: settings, seeds, and what the host needs.

:mod:`mcpbundle.resolve` runs the resolver; this module decides what to ask it:
the previous pins and the lock's pins as preferences, and ``fastmcp`` added when
a server's pins lack it (the host runs servers with FastMCP).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mcpbundle import progress
from mcpbundle.build import Pinned, Pinner, requirements_in_text
from mcpbundle.closure import Rewrite
from mcpbundle.config import Config
from mcpbundle.errors import BuildError
from mcpbundle.pins import pinned_versions
from mcpbundle.plan import ServerPlan
from mcpbundle.resolve import ResolveRequest, ResolverSettings, resolve
from mcpbundle.sdkcompat import fastmcp_addition


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


def make_pinner(
    config: Config, *, upgrade: bool = False, upgrade_packages: Sequence[str] = ()
) -> Pinner:
    settings = resolver_settings(config)

    def run(plan: ServerPlan, lines: Sequence[str], previous: str | None) -> str:
        request = ResolveRequest(
            server=plan.name,
            requirements_in=requirements_in_text(lines),
            previous=seed(previous, plan.preferences),
            upgrade=upgrade,
            upgrade_packages=tuple(upgrade_packages),
            vendored=plan.vendored_names,
        )
        with progress.step(plan.name, f"resolving with {settings.resolver}"):
            return resolve(request, settings)

    def pin(plan: ServerPlan, previous: str | None) -> Pinned:
        lines = plan.requirements_in
        text = run(plan, lines, previous)
        addition = fastmcp_addition(pinned_versions(text)) if config.bundle.add_fastmcp else None
        if addition is None:
            return Pinned(requirements_in=lines, requirements_txt=text)
        if not config.bundle.auto_fix:
            raise BuildError(
                "its pinned requirements lack fastmcp, which the host needs to run it",
                where=f"server {plan.name!r}",
                hint=f"add '{addition}' to its requirements, or set [bundle] add-fastmcp = false",
            )
        lines = tuple(sorted({*lines, addition}))
        text = run(plan, lines, previous)
        added = Rewrite(origin="mcpbundle", original="", replacement=f"added {addition}")
        return Pinned(requirements_in=lines, requirements_txt=text, rewrites=(added,))

    return pin
