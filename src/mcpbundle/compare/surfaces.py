"""Surfaces of built servers, loaded like ``verify`` does (or read from its cache).

:func:`load_surfaces` hands a bundle tree to :func:`mcpbundle.verify.verifier.verify`
with ``reuse_surfaces``: a server whose bundle hash is in the surface cache is not
loaded again; the others get the target Python, a venv shared by requirements hash,
and a contained load (no source-tree comparison, no HTTP, no expected tools).

``MCPBUNDLE_TEST_VERIFY_PYTHON`` (tests only) names an interpreter to load with as is,
instead of a venv made from each bundle's ``requirements.txt`` (verify's ``python=``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mcpbundle.base.cache_dir import cache_root
from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.config.settings import Config
from mcpbundle.resolve.pinner import resolver_settings
from mcpbundle.resolve.resolver import index_args
from mcpbundle.verify.verifier import Limits, verify

TEST_PYTHON_ENV = "MCPBUNDLE_TEST_VERIFY_PYTHON"


def load_surfaces(
    config: Config, tree: Path, names: Sequence[str], *, what: str, jobs: int | None = None
) -> dict[str, Mapping[str, Any]]:
    """The surface of each of ``names`` built into ``tree`` (``what``: the side, for errors)."""
    if not names:
        return {}
    external = os.environ.get(TEST_PYTHON_ENV)
    servers = config.servers
    report = verify(
        output_dir=tree,
        servers=list(names),
        http=False,
        cache_dir=cache_root(),
        env={n: servers[n].env for n in names if n in servers},
        expect_tools={},
        installer="uv" if config.bundle.resolver == "uv" else None,
        index_args=index_args(resolver_settings(config)),
        python=Path(external) if external else None,
        target_python=config.bundle.python,
        limits={
            n: Limits(timeout=servers[n].verify_timeout, memory=servers[n].verify_memory)
            for n in names
            if n in servers
        },
        protect=(config.root, tree),
        jobs=jobs,
        reuse_surfaces=True,
    )
    found: dict[str, Mapping[str, Any]] = {}
    for server in report.servers:
        if not server.ok or server.surface is None:
            first = (server.error or "it did not load").splitlines()[0]
            raise BuildError(
                f"server '{server.name}': {what} did not load: {first}",
                hint=f"run `mcpbundle verify {server.name}` to see why",
            )
        found[server.name] = server.surface
    return found


def built_surface(config: Config, server: str) -> Mapping[str, Any]:
    """``mcpbundle surface SERVER``: the surface of the server as built into the output
    (built first when ``build`` would write something, like ``verify``)."""
    from mcpbundle.build import BuildOptions, build
    from mcpbundle.config.validate import output_dir
    from mcpbundle.emit.output_lock import output_lock
    from mcpbundle.git.source_state import current_source
    from mcpbundle.resolve.pinner import make_pinner

    if server not in config.servers:
        raise UsageError(
            f"unknown server {server!r}", hint=f"servers: {', '.join(sorted(config.servers))}"
        )
    out = output_dir(config, None)
    with output_lock(out, wait=True):
        build(
            config,
            BuildOptions(servers=(server,)),
            source=current_source(config.root),
            pin=make_pinner(config),
        )
    return load_surfaces(config, out, [server], what="the built bundle")[server]
