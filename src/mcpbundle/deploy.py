"""``mcpbundle build --branch``: build into a scratch tree and commit it to a branch.

The user's checkout is never touched: :mod:`mcpbundle.emit.branch` commits through
a temporary index. Pins and the manifest of the previous build are read from the
branch tip, so sticky pins and partial rebuilds work exactly as for a directory.

The tree depends only on what the servers ship (the manifest holds no source
commit and no input hashes), so a commit that changes no server makes no deploy
commit and pushes nothing. With ``--split`` (or per-server push targets, see
:mod:`mcpbundle.config.push_targets`) each server gets its own branch ``<branch>/<server>``
(:mod:`mcpbundle.emit.split_layout`), committed and pushed only when its tree changed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.base.temp_dirs import temp_dir
from mcpbundle.build import BuildOptions, pin_servers, plan_build
from mcpbundle.config.push_targets import (
    Targets,
    check_distinct,
    is_split,
    split_target,
    targets_for,
)
from mcpbundle.config.settings import Config
from mcpbundle.emit import plan_scan
from mcpbundle.emit.branch import (
    BranchResult,
    branches_under,
    check_branch,
    commit_to_branch,
    deploy_message,
    push,
    push_to,
    read_tip,
    sync_from_remote,
)
from mcpbundle.emit.manifest import DEPLOY_NAME, MANIFEST_NAME, MANIFEST_VERSION, parse_manifest
from mcpbundle.emit.split_layout import branch_rel, from_branch, lay_out
from mcpbundle.emit.stage import ServerResult, stage_all
from mcpbundle.git.source import SourceState, read_file_at, repo_root_of, source_state
from mcpbundle.git.source_state import Source
from mcpbundle.plan.planner import BuildPlan
from mcpbundle.resolve.pinner import Pinner


@dataclass(frozen=True, kw_only=True)
class BranchOptions:
    branch: str
    allow_dirty: bool = False
    push_remote: str | None = None  # --push REMOTE ("": a bare --push; None: no --push)
    push_to: str | None = None  # --push-to URL_OR_REMOTE:BRANCH (may hold {server})
    run_hooks: bool = False  # run the repository's pre-push hooks (default: --no-verify)
    split: bool = False  # one branch <branch>/<server> per server


@dataclass(frozen=True, kw_only=True)
class BranchDeploy:
    """One branch written: the whole deploy, or one server's (split)."""

    branch: str
    servers: tuple[str, ...]  # the servers built into it this time
    changed: tuple[str, ...]  # those whose bundle differs from the previous tip's
    commit: BranchResult
    pushed: tuple[str, ...]  # where the commit was pushed (nothing when already there)


@dataclass(frozen=True, kw_only=True)
class DeployResult:
    plan: BuildPlan
    servers: tuple[ServerResult, ...]
    source: Source
    branch: str
    split: bool
    branches: tuple[BranchDeploy, ...]

    @property
    def pushed(self) -> tuple[str, ...]:
        return tuple(target for b in self.branches for target in b.pushed)


@dataclass(frozen=True)
class _Lease:
    """What the primary target held before the build (see :func:`_sync`)."""

    known: bool = False  # False: nothing was read (no target)
    sha: str | None = None


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
    own = {name: server.push_to for name, server in config.servers.items()}
    split = is_split(branch.split, branch.push_to, config.bundle.deploy.push_to, own)
    check_branch(repo, branch.branch)
    _check_names(repo, branch.branch, split)
    plan = plan_build(config, options)
    warnings = plan_scan.check_plan(config, plan)
    plan = dataclasses.replace(plan, warnings=(*plan.warnings, *warnings))
    names = [s.name for s in plan.servers]
    pushing = branch.push_remote is not None or branch.push_to is not None

    def targets(server: str | None) -> Targets:
        return targets_for(
            pushing=pushing, push_remote=branch.push_remote, cli_push_to=branch.push_to,
            config_push_to=config.bundle.deploy.push_to,
            own=own.get(server) if server else None, server=server,
        )  # fmt: skip

    branch_of = {n: f"{branch.branch}/{n}" if split else branch.branch for n in names}
    where = {n: targets(n) for n in names} if split else {branch.branch: targets(None)}
    if split:
        check_distinct(where)
        for name in names:
            check_branch(repo, branch_of[name])
    leases = {key: _sync(repo, branch_of.get(key, key), target) for key, target in where.items()}
    source = Source(commit=state.commit, dirty=state.dirty)
    previous = _previous_split(repo, config, branch.branch) if split else _previous(repo, branch)
    pins = pin_servers(config, plan, options, pin, _old_pins(repo, config, branch.branch, split))
    with temp_dir("branch") as scratch:
        tree = scratch / "tree"
        tree.mkdir()
        results, entries = stage_all(
            config, plan, tree, source=source, pins=pins, previous=previous, inputs=False,
            index=not split,
        )  # fmt: skip
        if split:
            written = []
            for result in results:
                name = result.plan.name
                dest = scratch / "split" / name
                dest.mkdir(parents=True)
                env = config.root / config.servers[name].path / ".env.example"
                lay_out(tree, dest, name, result.manifest_entry, env)
                written.append(_commit(repo, config, state, dest, branch_of[name], [result]))
        else:
            removed = sorted(set((previous or {}).get("servers", {})) - set(entries))
            replace = None
            if options.servers:
                replace = [*(r.plan.path for r in results), MANIFEST_NAME, DEPLOY_NAME]
            written = [_commit(repo, config, state, tree, branch.branch, results, replace, removed)]
    done = []
    for deployed in written:
        key = deployed.servers[0] if split else branch.branch
        pushed = _push(repo, branch, deployed, where[key], leases[key])
        done.append(BranchDeploy(
            branch=deployed.branch, servers=deployed.servers, changed=deployed.changed,
            commit=deployed.commit, pushed=pushed,
        ))  # fmt: skip
    return DeployResult(
        plan=plan, servers=tuple(results), source=source, branch=branch.branch, split=split,
        branches=tuple(done),
    )  # fmt: skip


def _check_names(repo: Path, branch: str, split: bool) -> None:
    """git keeps branch names as paths: ``deploy`` and ``deploy/ops`` cannot coexist."""
    if split and read_tip(repo, f"refs/heads/{branch}") is not None:
        raise UsageError(
            f"branch '{branch}' exists, so the per-server branches '{branch}/<server>' "
            "cannot be created beside it (git stores branch names as paths)",
            where="--split",
            hint=f"rename it (git branch -m {branch} {branch}-all) or pass another --branch",
        )
    if not split and branches_under(repo, branch):
        raise UsageError(
            f"per-server branches {', '.join(branches_under(repo, branch))} exist, so "
            f"branch '{branch}' cannot be created beside them",
            where="--branch",
            hint="pass --split to update them, or another --branch",
        )


def _sync(repo: Path, local: str, target: Targets) -> _Lease:
    """Bring ``local`` up to its primary target (the remote, else the push-to branch), so
    a fresh CI clone builds on the history the target already has."""
    if target.remote is not None:
        return _Lease(True, sync_from_remote(repo, remote=target.remote, branch=local))
    if target.push_to is not None:
        url, theirs = split_target(target.push_to)
        return _Lease(True, sync_from_remote(repo, remote=url, branch=local, remote_branch=theirs))
    return _Lease()


def _previous(repo: Path, branch: BranchOptions) -> dict[str, Any] | None:
    data = read_file_at(repo, f"refs/heads/{branch.branch}", MANIFEST_NAME)
    return parse_manifest(data, f"{branch.branch}:{MANIFEST_NAME}") if data else None


def _previous_split(repo: Path, config: Config, base: str) -> dict[str, Any] | None:
    """The entries of every server's split branch, in output paths, as one manifest."""
    servers: dict[str, Any] = {}
    for name, server in sorted(config.servers.items()):
        ref = f"refs/heads/{base}/{name}"
        data = read_file_at(repo, ref, MANIFEST_NAME)
        if not data:
            continue
        entry = parse_manifest(data, f"{base}/{name}:{MANIFEST_NAME}")["servers"].get(name)
        if isinstance(entry, dict):
            servers[name] = from_branch(entry, server.path)
    return {"version": MANIFEST_VERSION, "servers": servers} if servers else None


def _old_pins(repo: Path, config: Config, base: str, split: bool) -> Any:
    """Reads a previous ``requirements.txt`` (output path) from the branch tip(s)."""
    by_depth = sorted(config.servers.values(), key=lambda s: -len(s.path))

    def read(rel: str) -> str | None:
        if not split:
            return _decode(read_file_at(repo, f"refs/heads/{base}", rel))
        for server in by_depth:
            inside = branch_rel(server.path, rel)
            if inside is not None:
                return _decode(read_file_at(repo, f"refs/heads/{base}/{server.name}", inside))
        return None

    return read


def _commit(
    repo: Path,
    config: Config,
    state: SourceState,
    tree: Path,
    branch: str,
    results: list[ServerResult],
    replace: list[str] | None = None,
    removed: list[str] | None = None,
) -> BranchDeploy:
    changed = sorted(r.plan.name for r in results if r.changed)
    message = deploy_message(
        str(state.short), str(state.commit), changed, dirty=state.dirty, removed=removed or ()
    )
    committed = commit_to_branch(
        repo_root=repo, tree_dir=tree, branch=branch, message=message,
        author_name=config.bundle.deploy.author_name,
        author_email=config.bundle.deploy.author_email, date=str(state.date),
        replace_paths=replace,
    )  # fmt: skip
    return BranchDeploy(
        branch=branch,
        servers=tuple(r.plan.name for r in results),
        changed=tuple(changed) if not committed.unchanged else (),
        commit=committed,
        pushed=(),
    )


def _push(
    repo: Path, options: BranchOptions, deployed: BranchDeploy, target: Targets, lease: _Lease
) -> tuple[str, ...]:
    """Push where ``target`` says, skipping a target that already holds the commit."""
    done: list[str] = []
    commit = deployed.commit.commit
    if target.remote is not None and lease.sha != commit:
        push(
            repo, remote=target.remote, branch=deployed.branch, expected_old=lease.sha,
            run_hooks=options.run_hooks,
        )  # fmt: skip
        done.append(f"{target.remote}/{deployed.branch}")
    if target.push_to is not None:
        primary = target.remote is None  # its tip was read by _sync: lease on that
        if push_to(
            repo, target=target.push_to, commit=commit, run_hooks=options.run_hooks,
            expected_old=lease.sha if primary else None, known_old=primary and lease.known,
        ):  # fmt: skip
            done.append(target.push_to)
    return tuple(done)


def _decode(data: bytes | None) -> str | None:
    if data is None:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def branch_of_server(result: DeployResult) -> Mapping[str, BranchDeploy]:
    """The branch each built server went to."""
    return {name: b for b in result.branches for name in b.servers}
