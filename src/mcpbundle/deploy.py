"""``mcpbundle build --branch``: build into a scratch tree and commit it to a branch.

The user's checkout is never touched: :mod:`mcpbundle.gitbranch` commits through
a temporary index. Pins and the manifest of the previous build are read from the
branch tip, so sticky pins and partial rebuilds work exactly as for a directory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from mcpbundle import secretscan
from mcpbundle.build import (
    BuildOptions,
    Pinner,
    ServerResult,
    pin_servers,
    plan_build,
    stage_all,
)
from mcpbundle.config import Config
from mcpbundle.errors import BuildError, UsageError
from mcpbundle.gitbranch import (
    BranchResult,
    check_branch,
    commit_to_branch,
    deploy_message,
    push,
    push_to,
    sync_from_remote,
)
from mcpbundle.gitsource import read_file_at, repo_root_of, source_state
from mcpbundle.manifest import DEPLOY_NAME, MANIFEST_NAME, Source, parse_manifest
from mcpbundle.plan import BuildPlan
from mcpbundle.tempdirs import temp_dir


@dataclass(frozen=True, kw_only=True)
class BranchOptions:
    branch: str
    allow_dirty: bool = False
    push_remote: str | None = None
    push_to: str | None = None
    run_hooks: bool = False  # run the repository's pre-push hooks (default: --no-verify)


@dataclass(frozen=True, kw_only=True)
class DeployResult:
    plan: BuildPlan
    servers: tuple[ServerResult, ...]
    source: Source
    branch: str
    commit: BranchResult
    pushed: tuple[str, ...]


def build_to_branch(
    config: Config, options: BuildOptions, branch: BranchOptions, *, pin: Pinner
) -> DeployResult:
    repo = repo_root_of(config.root)
    if repo is None:
        raise UsageError(
            "--branch needs a git repository", where=str(config.path), hint="run `git init` first"
        )
    state = source_state(repo)
    if state.commit is None or state.short is None or state.date is None:
        raise UsageError("the repository has no commit yet", hint="commit the source first")
    if state.dirty and not branch.allow_dirty:
        raise BuildError(
            "tracked files are modified or staged; a deploy must name the commit it came from",
            where=str(repo),
            hint="commit or stash your changes, or pass --allow-dirty",
        )
    check_branch(repo, branch.branch)
    lease = None
    if branch.push_remote is not None:
        lease = sync_from_remote(repo, remote=branch.push_remote, branch=branch.branch)
    tip = f"refs/heads/{branch.branch}"

    def at_tip(rel: str) -> bytes | None:
        # The branch holds the output tree: paths relative to the config, as in `dist/`.
        return read_file_at(repo, tip, rel)

    plan = plan_build(config, options)
    warnings = secretscan.check_plan(config, plan)
    plan = dataclasses.replace(plan, warnings=(*plan.warnings, *warnings))
    manifest_bytes = at_tip(MANIFEST_NAME)
    previous = (
        parse_manifest(manifest_bytes, f"{branch.branch}:{MANIFEST_NAME}")
        if manifest_bytes
        else None
    )
    source = Source(commit=state.commit, dirty=state.dirty)
    pins = pin_servers(config, plan, options, pin, lambda rel: _decode(at_tip(rel)))
    with temp_dir("branch") as scratch:
        tree = scratch / "tree"
        tree.mkdir()
        results, _ = stage_all(config, plan, tree, source=source, pins=pins, previous=previous)
        built = [r.plan.name for r in results]
        replace = None
        if options.servers:
            replace = [*(r.plan.path for r in results), MANIFEST_NAME, DEPLOY_NAME]
        committed = commit_to_branch(
            repo_root=repo,
            tree_dir=tree,
            branch=branch.branch,
            message=deploy_message(state.short, state.commit, built),
            author_name=config.bundle.deploy.author_name,
            author_email=config.bundle.deploy.author_email,
            date=state.date,
            replace_paths=replace,
        )
    pushed = _push(repo, branch, committed, lease)
    return DeployResult(
        plan=plan,
        servers=tuple(results),
        source=source,
        branch=branch.branch,
        commit=committed,
        pushed=pushed,
    )


def _push(
    repo: Path, options: BranchOptions, committed: BranchResult, lease: str | None
) -> tuple[str, ...]:
    done: list[str] = []
    if options.push_remote is not None:
        push(
            repo, remote=options.push_remote, branch=options.branch, expected_old=lease,
            run_hooks=options.run_hooks,
        )  # fmt: skip
        done.append(f"{options.push_remote}/{options.branch}")
    if options.push_to is not None:
        push_to(repo, target=options.push_to, commit=committed.commit, run_hooks=options.run_hooks)
        done.append(options.push_to)
    return tuple(done)


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
