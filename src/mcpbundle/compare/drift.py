"""``mcpbundle verify --drift [BRANCH]``: does the deploy branch hold what its source builds?

For the deploy branch (or each split branch ``<branch>/<server>``): the newest commit
on its first-parent line with a ``Source-Commit:`` trailer (the tip, unless someone
committed on top of it by hand) names the source. That commit is checked out in a
temporary clone (``git clone --shared``: the user's checkout, index, refs and hooks are
never touched, and nothing is written to their repository), and built there with
``build --branch`` onto a branch holding that mcpbundle commit, so the rebuild uses the
pins the deploy tree holds (no upgrades; the resolution cache may answer). Its tree is
compared with the tip's, server by server, and every file the tip's manifest lists is
checked against the digest recorded there. Every path that differs is reported: a
hand edit, non-determinism, another mcpbundle version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError, UsageError
from mcpbundle.base.temp_dirs import temp_dir
from mcpbundle.build import BuildOptions
from mcpbundle.compare.git_trees import (
    SOURCE_COMMIT,
    SOURCE_DIRTY,
    branches_below,
    entries,
    find_ref,
    read_blobs,
)
from mcpbundle.compare.text_style import Painter, plain
from mcpbundle.config.settings import Config
from mcpbundle.config.validate import load_config
from mcpbundle.deploy import BranchOptions, build_to_branch
from mcpbundle.emit.manifest import DEPLOY_NAME, MANIFEST_NAME, parse_manifest
from mcpbundle.git.source import git_call, git_checked, is_commit, read_file_at, repo_root_of
from mcpbundle.resolve.pinner import make_pinner

INDEX = "(index)"  # the manifest and DEPLOY.md of a whole deploy belong to no server
_STATUS = {
    "M": "differs from a rebuild",
    "T": "differs from a rebuild (file type)",
    "A": "missing: a rebuild writes it",
    "D": "not written by a rebuild",
}


@dataclass(frozen=True, kw_only=True)
class BranchDrift:
    branch: str  # as shown: "deploy", "origin/deploy/ops"
    tip: str
    built: str  # the mcpbundle commit the source was read from (the tip, or below it)
    source: str  # its Source-Commit
    dirty: bool  # it was built from uncommitted changes: a rebuild cannot match them
    paths: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    servers: tuple[str, ...] = ()  # the servers the branch holds

    def to_json(self) -> dict[str, Any]:
        return {
            "branch": self.branch,
            "tip": self.tip,
            "built": self.built,
            "source_commit": self.source,
            "source_dirty": self.dirty,
            "ok": not self.paths,
            "servers": {
                name: [{"path": p, "problems": list(why)} for p, why in sorted(found.items())]
                for name, found in sorted(self.paths.items())
            },
        }


@dataclass(frozen=True)
class DriftReport:
    branches: tuple[BranchDrift, ...]

    @property
    def ok(self) -> bool:
        return all(not b.paths for b in self.branches)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "branches": [b.to_json() for b in self.branches]}


def run_drift(config: Config, branch: str | None, servers: Sequence[str] = ()) -> DriftReport:
    repo = repo_root_of(config.root)
    if repo is None:
        raise UsageError("--drift needs a git repository", where=str(config.path))
    base = branch or config.bundle.branch
    unknown = [s for s in servers if s not in config.servers]
    if unknown:
        raise UsageError(f"unknown server {', '.join(map(repr, unknown))}",
                         hint=f"servers: {', '.join(sorted(config.servers))}")  # fmt: skip
    whole = find_ref(repo, base)
    targets: list[tuple[str, str, str | None]] = []
    if whole is not None:
        targets.append((whole[0], whole[1], None))
    else:
        for name, (shown, tip) in sorted(branches_below(repo, base).items()):
            if not servers or name in servers:
                targets.append((shown, tip, name))
    if not targets:
        raise UsageError(
            f"no deploy branch '{base}' (nor {base}/<server> branches)",
            where="--drift",
            hint="build one with `mcpbundle build --branch`, or name the branch: --drift BRANCH",
        )
    rel = config.path.resolve().relative_to(repo)
    report = [_one(repo, rel, base, shown, tip, split) for shown, tip, split in targets]
    if servers and whole is not None:
        report = [_only(b, servers) for b in report]
    return DriftReport(tuple(report))


def _only(drift: BranchDrift, servers: Sequence[str]) -> BranchDrift:
    kept = {n: p for n, p in drift.paths.items() if n in servers}
    return BranchDrift(
        branch=drift.branch, tip=drift.tip, built=drift.built, source=drift.source,
        dirty=drift.dirty, paths=kept, servers=tuple(s for s in drift.servers if s in servers),
    )  # fmt: skip


def _built_commit(repo: Path, tip: str, shown: str) -> tuple[str, str, bool]:
    """The newest first-parent commit from ``tip`` with a Source-Commit trailer."""
    out = git_checked(repo, "log", "--first-parent", "--format=%H%x00%B%x01", tip)
    for record in out.text.split("\x01"):
        sha, _, body = record.strip("\n").partition("\x00")
        found = SOURCE_COMMIT.search(body)
        if found:
            return sha.strip(), found.group(1), bool(SOURCE_DIRTY.search(body))
    raise BuildError(
        f"no commit of '{shown}' has a Source-Commit trailer, so mcpbundle did not build it",
        hint="pass the deploy branch mcpbundle writes: --drift BRANCH",
    )


def _one(repo: Path, rel: Path, base: str, shown: str, tip: str, split: str | None) -> BranchDrift:
    built, source, dirty = _built_commit(repo, tip, shown)
    if is_commit(repo, source) is None:
        raise BuildError(
            f"'{shown}' was built from {source[:12]}, which this repository does not have",
            hint="fetch it (a shallow clone: git fetch --unshallow)",
        )
    with temp_dir("drift") as scratch:
        clone = scratch / "source"
        _clone(repo, clone, source)
        config = load_config(clone, clone / rel)
        local = f"{base}/{split}" if split else base
        git_checked(clone, "update-ref", f"refs/heads/{local}", built)
        options = BuildOptions(servers=(split,) if split else ())
        deployed = build_to_branch(
            config, options, BranchOptions(branch=base, split=split is not None),
            pin=make_pinner(config),
        )  # fmt: skip
        rebuilt = next(b.commit.commit for b in deployed.branches if b.branch == local)
        changed = _tree_diff(clone, tip, rebuilt)
    digests = _digest_problems(repo, tip)
    paths: dict[str, dict[str, list[str]]] = {}
    owners = _owners(repo, tip, split)
    for path, why in [*changed, *digests]:
        owner = split or _owner(path, owners)
        paths.setdefault(owner, {}).setdefault(path, []).append(why)
    return BranchDrift(
        branch=shown, tip=tip, built=built, source=source, dirty=dirty,
        paths={o: {p: tuple(w) for p, w in found.items()} for o, found in paths.items()},
        servers=(split,) if split else tuple(sorted(owners)),
    )  # fmt: skip


def _clone(repo: Path, dest: Path, commit: str) -> None:
    """A throwaway checkout of ``commit`` sharing the repository's objects (read only)."""
    out = git_call(
        repo, "clone", "--quiet", "--shared", "--no-checkout", "--", str(repo), str(dest)
    )
    if not out.ok:
        raise BuildError(f"cannot clone the repository to rebuild it: {out.stderr.strip()}")
    git_checked(dest, "-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit)


def _tree_diff(clone: Path, tip: str, rebuilt: str) -> list[tuple[str, str]]:
    out = git_checked(clone, "diff-tree", "-r", "-z", "--no-renames", "--name-status", tip, rebuilt)
    fields = [f.decode("utf-8", "surrogateescape") for f in out.stdout.split(b"\0") if f]
    return [
        (path, _STATUS.get(status[:1], f"differs ({status})"))
        for status, path in zip(fields[::2], fields[1::2], strict=False)
    ]


def _manifest(repo: Path, tip: str) -> dict[str, Any]:
    data = read_file_at(repo, tip, MANIFEST_NAME)
    if data is None:
        return {}
    try:
        servers: dict[str, Any] = parse_manifest(data, MANIFEST_NAME)["servers"]
    except BuildError:
        return {}
    return {k: v for k, v in servers.items() if isinstance(v, dict)}


def _owners(repo: Path, tip: str, split: str | None) -> dict[str, str]:
    """Server -> its folder in the tip's tree (a split branch: the root)."""
    if split:
        return {split: "."}
    return {n: str(e.get("path", ".")) for n, e in _manifest(repo, tip).items()}


def _owner(path: str, owners: Mapping[str, str]) -> str:
    if path in (MANIFEST_NAME, DEPLOY_NAME):
        return INDEX
    best, depth = INDEX, -1
    for name, folder in owners.items():
        prefix = "" if folder in ("", ".") else folder.rstrip("/") + "/"
        if path.startswith(prefix) and len(prefix) > depth:
            best, depth = name, len(prefix)
    return best


def _digest_problems(repo: Path, tip: str) -> list[tuple[str, str]]:
    """Files of the tip whose bytes are not what its manifest recorded (a hand edit)."""
    listed: dict[str, str] = {}
    for entry in _manifest(repo, tip).values():
        files = entry.get("files")
        if isinstance(files, dict):
            listed.update({k: v for k, v in files.items() if isinstance(v, str)})
    present = {e.path: e.sha for e in entries(repo, tip)}
    blobs = read_blobs(repo, [present[p] for p in listed if p in present])
    problems = []
    for path, digest in sorted(listed.items()):
        if path not in present:
            problems.append((path, "listed in the manifest but missing"))
            continue
        actual = f"sha256:{hashlib.sha256(blobs[present[path]]).hexdigest()}"
        if actual != digest:
            problems.append((path, "does not match its digest in the manifest"))
    return problems


def format_drift(report: DriftReport, *, paint: Painter = plain, quiet: bool = False) -> str:
    """The text report; ``paint`` colours it (drift in the error colour, paths bold, the
    summary line bold). ``quiet`` (``-q``): only the branches that drifted and what
    explains it, no ``no drift`` lines and no summary ("" when nothing drifted)."""
    lines = []
    for drift in report.branches:
        if quiet and not drift.paths:
            continue
        lines.append(
            f"{paint('path', drift.branch)}: tip {drift.tip[:7]}, rebuilt from source "
            f"{drift.source[:7]}"
            + (f" (read from {drift.built[:7]})" if drift.built != drift.tip else "")
        )
        if drift.dirty:
            lines.append(f"  {paint('info', 'note:')} built from uncommitted changes "
                         "(Source-Dirty), which a rebuild cannot reproduce")  # fmt: skip
        for name in sorted({*drift.servers, *drift.paths}):
            found = drift.paths.get(name, {})
            if not found:
                if not quiet:
                    lines.append(f"  {paint('path', name)}: {paint('ok', 'no drift')}")
                continue
            lines.append(f"  {paint('path', name)}: {paint('error', _paths(len(found)))}")
            for path, why in sorted(found.items()):
                lines.append(f"    {paint('path', path)}: {'; '.join(why)}")
    if quiet:
        return "\n".join(lines)
    bad = [b for b in report.branches if b.paths]
    if not bad:
        lines.append(paint("summary", "no drift: the deploy matches a rebuild of its source"))
    else:
        count = sum(len(p) for b in bad for p in b.paths.values())
        summary = f"drift: {_paths(count)} on " + ", ".join(b.branch for b in bad)
        lines.append(paint("summary", summary))
    return "\n".join(lines)


def _paths(count: int) -> str:
    return f"{count} path{'s differ' if count != 1 else ' differs'}"


def first_problem(report: DriftReport) -> str | None:
    """``deploy: server-ops/src/server.py (differs from a rebuild)``, the first path found."""
    for drift in report.branches:
        for name in sorted(drift.paths):
            path, why = sorted(drift.paths[name].items())[0]
            return f"{drift.branch}: {path} ({why[0]})"
    return None
