"""What each server's bundle depends on, as repository paths (for ``affected``)."""

from __future__ import annotations

from pathlib import Path

from mcpbundle.affected import ServerScope
from mcpbundle.build import BuildOptions, plan_build
from mcpbundle.config import Config
from mcpbundle.errors import UsageError
from mcpbundle.gitsource import repo_root_of
from mcpbundle.plan import join


def affected_scopes(config: Config) -> tuple[Path, list[ServerScope]]:
    repo = repo_root_of(config.root)
    if repo is None:
        raise UsageError(
            "affected needs a git repository", where=str(config.path), hint="run it inside one"
        )
    prefix = config.root.relative_to(repo).as_posix()
    plan = plan_build(config, BuildOptions(dry_run=True, fetch_git=False))
    scopes = []
    for server in plan.servers:
        watch = {server.path, *(lib.path for lib in server.vendored)}
        if server.requirements_source:
            watch.add(server.requirements_source)
        watch.update(server.requirement_files)  # -r / -c includes, wherever they live
        watch.update(server.constraints)
        scopes.append(
            ServerScope(
                name=server.name,
                path=join(prefix, server.path),
                watch=tuple(sorted(join(prefix, p) for p in watch)),
                shared=server.shared,
            )
        )
    return repo, scopes
