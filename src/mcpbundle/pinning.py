"""From configuration to resolver calls: settings, previous pins, vendored names.

:mod:`mcpbundle.resolve` runs the resolver; this module only decides what to
ask it, so the build never needs to know which resolver is configured.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from mcpbundle import progress
from mcpbundle.build import Pinner
from mcpbundle.config import Config
from mcpbundle.plan import ServerPlan
from mcpbundle.resolve import ResolveRequest, ResolverSettings, resolve


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


def make_pinner(
    config: Config, *, upgrade: bool = False, upgrade_packages: Sequence[str] = ()
) -> Pinner:
    settings = resolver_settings(config)

    def pin(plan: ServerPlan, requirements_in: str, previous: str | None) -> str:
        request = ResolveRequest(
            server=plan.name,
            requirements_in=requirements_in,
            previous=previous,
            upgrade=upgrade,
            upgrade_packages=tuple(upgrade_packages),
            vendored=plan.vendored_names,
        )
        with progress.step(plan.name, f"resolving with {settings.resolver}"):
            return resolve(request, settings)

    return pin
