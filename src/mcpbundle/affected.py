"""Which servers a change affects, since a git ref.

A change is anything that differs between ``since`` and the working tree:
commits since then, staged and unstaged edits, and untracked files git does not
ignore. A changed path affects every server whose ``watch`` prefixes cover it.
``mcpbundle.toml`` itself is compared table by table (old at ``since``, new in
the working tree): ``[servers.X]`` affects X, ``[shared.Y]`` every server whose
shared closure holds Y, anything else (``[bundle]``, ``[check]``) all servers.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from mcpbundle.base.errors import UsageError
from mcpbundle.build import BuildOptions, plan_build
from mcpbundle.config.settings import Config
from mcpbundle.git.source import (
    git_call,
    git_checked,
    is_commit,
    read_file_at,
    repo_root_of,
    split_z,
)
from mcpbundle.plan.python_target import VERSION_FILE
from mcpbundle.plan.shipped_files import join


@dataclass(frozen=True)
class ServerScope:
    name: str
    path: str  # repo-relative POSIX directory of the server
    watch: tuple[str, ...]  # repo-relative path prefixes whose changes affect it
    shared: tuple[str, ...]  # its shared-lib closure (names)


@dataclass(frozen=True)
class AffectedResult:
    servers: list[str]  # in config order
    reason_all: str | None  # why every server is listed, when that is not from the paths


def affected(
    *, repo_root: Path, since: str, config_path: Path, scopes: Sequence[ServerScope]
) -> AffectedResult:
    names = [scope.name for scope in scopes]
    base = is_commit(repo_root, since)
    if base is None:
        if not _shallow(repo_root):
            raise UsageError(
                f"'{since}' does not name a commit in this repository",
                where="--since",
                hint="pass a branch, tag or commit that exists (git rev-parse --verify REF)",
            )
        return AffectedResult(
            names,
            f"ref '{since}' is not in the local history of this shallow clone; listing all "
            "servers; fetch with --unshallow or fetch-depth: 0",
        )
    config_rel = _config_rel(repo_root, config_path)
    changed = changed_paths(repo_root, base)
    hits: set[str] = set()
    for path in changed:
        if path == config_rel:
            continue
        hits.update(s.name for s in scopes if any(_covers(w, path) for w in s.watch))
    if config_rel in changed:
        old = read_file_at(repo_root, base, config_rel)
        new_file = repo_root / config_rel
        new = new_file.read_bytes() if new_file.is_file() else None
        from_config, why = _config_changes(old, new, scopes, config_rel, since)
        if why is not None:
            return AffectedResult(names, why)
        hits |= from_config
    return AffectedResult([n for n in names if n in hits], None)


def _shallow(repo_root: Path) -> bool:
    """True in a shallow clone, where history (and so REF) may be missing."""
    out = git_call(repo_root, "rev-parse", "--is-shallow-repository")
    return not out.ok or out.line != "false"


def changed_paths(repo_root: Path, base: str) -> set[str]:
    """Repo-relative paths that differ between ``base`` and the working tree."""
    diff = git_checked(
        repo_root, "diff", "--name-only", "-z", "--no-renames", "--no-relative",
        "--no-ext-diff", "--no-textconv", base, "--",
        what="git diff",
    )  # fmt: skip
    untracked = git_checked(
        repo_root, "ls-files", "-z", "--others", "--exclude-standard", "--full-name",
        what="git ls-files",
    )  # fmt: skip
    return set(split_z(diff.stdout)) | set(split_z(untracked.stdout))


def to_json(result: AffectedResult, scopes: Sequence[ServerScope]) -> dict[str, Any]:
    """``{"servers": [...], "matrix": {"include": [{"server", "path"}]}}`` in config order."""
    chosen = set(result.servers)
    ordered = [scope for scope in scopes if scope.name in chosen]
    payload: dict[str, Any] = {
        "servers": [scope.name for scope in ordered],
        "matrix": {"include": [{"server": s.name, "path": s.path} for s in ordered]},
    }
    return payload


def _config_rel(repo_root: Path, config_path: Path) -> str:
    if not config_path.is_absolute():
        return PurePosixPath(config_path.as_posix()).as_posix().removeprefix("./")
    try:
        return config_path.resolve().relative_to(repo_root.resolve()).as_posix()
    except ValueError:
        raise UsageError(
            f"{config_path} is not inside the repository {repo_root}", where="--config"
        ) from None


def _covers(prefix: str, path: str) -> bool:
    clean = prefix.strip("/").removeprefix("./")
    if clean in ("", "."):
        return True
    return path == clean or path.startswith(clean + "/")


def _parse(data: bytes | None) -> dict[str, Any] | None:
    if data is None:
        return {}
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
        return None


def _table(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    return value if isinstance(value, Mapping) else {"": value}


def _tool_table(data: dict[str, Any]) -> dict[str, Any]:
    """A pyproject's ``[tool.mcpbundle]`` tables, the rest of the file under the key ``""``."""
    found = data.get("tool")
    tool: dict[str, Any] = found if isinstance(found, dict) else {}
    table = tool.get("mcpbundle")
    rest = {**data, "tool": {k: v for k, v in tool.items() if k != "mcpbundle"}}
    return {**(table if isinstance(table, dict) else {}), "": rest}


def _config_changes(
    old_bytes: bytes | None,
    new_bytes: bytes | None,
    scopes: Sequence[ServerScope],
    config_rel: str,
    since: str,
) -> tuple[set[str], str | None]:
    """Servers a config edit affects, or a reason why it affects all of them."""
    old, new = _parse(old_bytes), _parse(new_bytes)
    if old is None or new is None:
        when = "at '" + since + "'" if old is None else "in the working tree"
        return set(), f"{config_rel} {when} does not parse; listing all servers"
    if PurePosixPath(config_rel).name == "pyproject.toml":  # the config is [tool.mcpbundle]
        old, new = _tool_table(old), _tool_table(new)
        if old.pop("", None) != new.pop("", None):
            return set(), f"{config_rel} changed outside [tool.mcpbundle]; listing all servers"
    for key in sorted((set(old) | set(new)) - {"servers", "shared"}):
        if old.get(key) != new.get(key):
            return set(), f"[{key}] in {config_rel} changed since '{since}'; listing all servers"
    old_servers, new_servers = _table(old, "servers"), _table(new, "servers")
    hits = {s.name for s in scopes if old_servers.get(s.name) != new_servers.get(s.name)}
    old_shared, new_shared = _table(old, "shared"), _table(new, "shared")
    libs = {y for y in set(old_shared) | set(new_shared) if old_shared.get(y) != new_shared.get(y)}
    hits.update(s.name for s in scopes if libs.intersection(s.shared))
    return hits, None


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
        if config.bundle.python is None:  # the nearest .python-version is the target
            watch.update(_version_files(server.path))
        scopes.append(
            ServerScope(
                name=server.name,
                path=join(prefix, server.path),
                watch=tuple(sorted(join(prefix, p) for p in watch)),
                shared=server.shared,
            )
        )
    return repo, scopes


def _version_files(server_path: str) -> list[str]:
    """The ``.python-version`` files that may decide a server's target Python: in each
    directory above its own, up to the config's (its own is inside its watched folder)."""
    parents = PurePosixPath(server_path).parents
    return [join(p.as_posix(), VERSION_FILE) for p in parents if p.as_posix() != server_path]
