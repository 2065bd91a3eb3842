"""A cache of git repositories: resolve a ref to a commit and extract that commit once.

Layout, per clone URL (``KEY`` is ``sha256(url)[:16]``)::

    CACHE/git/KEY/mirror.git     a bare mirror, cloned once and fetched when a commit is missing
    CACHE/git/KEY/<commit>/      the commit's files, written once and never changed

Every entry appears by ``rename`` of a finished temporary directory, so a killed
build leaves no half-written entry (only a ``.tmp-*`` directory, swept later).
A full commit sha whose entry exists needs no network at all; a branch or tag is
resolved with ``git ls-remote`` each time (branches move), and the mirror is only
fetched when it lacks the commit. git runs through :func:`mcpbundle.git.source.git_call`.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
from pathlib import Path

from mcpbundle.base.errors import GitError
from mcpbundle.git.source import git_call, reason

MIRROR = "mirror.git"
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
_SHORT_SHA = re.compile(r"[0-9a-f]{4,63}")
_STALE_SECONDS = 24 * 3600


def repo_cache(cache_dir: Path, url: str) -> Path:
    """``CACHE/git/<sha256(url)[:16]>``: everything cached for one clone URL."""
    return cache_dir / "git" / hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def is_full_sha(ref: str | None) -> bool:
    return ref is not None and _FULL_SHA.fullmatch(ref.lower()) is not None


def fetch_commit(url: str, ref: str | None, *, cache_dir: Path, where: str) -> tuple[str, Path]:
    """``(commit, directory holding that commit's files)`` for ``url`` at ``ref``.

    ``ref`` may be a branch, a tag, a (possibly abbreviated) commit sha, a full
    ``refs/...`` name, or None for the remote's default branch.
    """
    base = repo_cache(cache_dir, url)
    if ref is not None and is_full_sha(ref):
        commit = ref.lower()
        if (base / commit).is_dir():
            return commit, base / commit
    else:
        base.mkdir(parents=True, exist_ok=True)
        resolved = _resolve_remote(url, ref, base, where)
        if resolved is None:  # an abbreviated sha: only a local mirror can expand it
            resolved = _expand_short(url, base, str(ref), where)
        commit = resolved
        if (base / commit).is_dir():
            return commit, base / commit
    _ensure_mirror(url, base, commit, where)
    return commit, _extract(base, commit, where)


def _resolve_remote(url: str, ref: str | None, cwd: Path, where: str) -> str | None:
    """The commit ``ref`` names on the remote; None if it can only be a short sha."""
    out = git_call(cwd, "ls-remote", "--", url)
    if not out.ok:
        raise GitError(
            f"cannot reach {url}: {reason(out.stderr)}",
            where=where,
            hint="check the URL, your network and your git credentials (SSH key or token)",
        )
    refs: dict[str, str] = {}
    for line in out.text.splitlines():
        sha, _, name = line.partition("\t")
        if sha and name:
            refs[name.strip()] = sha.strip()
    if ref is None:
        candidates = ["HEAD"]
    elif ref.startswith("refs/"):
        candidates = [f"{ref}^{{}}", ref]
    else:
        candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}^{{}}", f"refs/tags/{ref}"]
    for name in candidates:
        if name in refs:
            return refs[name]
    if ref is not None and _SHORT_SHA.fullmatch(ref.lower()):
        return None
    if ref is None:
        raise GitError(
            f"{url} has no default branch (HEAD)",
            where=where,
            hint="add @BRANCH, @TAG or @COMMIT to the requirement",
        )
    raise _missing_ref(url, ref, where)


def _missing_ref(url: str, ref: str, where: str) -> GitError:
    return GitError(
        f"ref '{ref}' not found in {url}",
        where=where,
        hint="check the tag/branch name (or the commit sha)",
    )


def _expand_short(url: str, base: Path, ref: str, where: str) -> str:
    """The full sha of abbreviated ``ref``, from the mirror (fetched once if it lacks it)."""
    fresh = not (base / MIRROR).is_dir()
    _ensure_mirror(url, base, None, where)
    for attempt in range(2):
        if attempt:
            if fresh:
                break
            _fetch(url, base / MIRROR, (), where)
        out = git_call(base / MIRROR, "rev-parse", "--verify", "--quiet", "--end-of-options",
                       f"{ref}^{{commit}}")  # fmt: skip
        if out.ok and out.line:
            return out.line
    raise _missing_ref(url, ref, where)


def _fetch(url: str, mirror: Path, refspec: tuple[str, ...], where: str) -> bool:
    """Fetch into the mirror; a failure of the plain fetch (all refs) is an error."""
    out = git_call(mirror, "fetch", "--quiet", "--prune", "origin", *refspec)
    if not out.ok and not refspec:
        raise GitError(f"cannot fetch {url}: {reason(out.stderr)}", where=where,
                       hint="check the URL, your network and your git credentials")  # fmt: skip
    return out.ok


def _has_commit(mirror: Path, commit: str) -> bool:
    return git_call(mirror, "cat-file", "-e", f"{commit}^{{commit}}").ok


def _ensure_mirror(url: str, base: Path, commit: str | None, where: str) -> None:
    """Make ``base/mirror.git`` exist and hold ``commit`` (fetching only if it does not)."""
    mirror = base / MIRROR
    if not mirror.is_dir():
        base.mkdir(parents=True, exist_ok=True)
        _sweep_stale(base)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-mirror-", dir=base))
        out = git_call(base, "clone", "--mirror", "--quiet", "--", url, str(tmp))
        if not out.ok:
            shutil.rmtree(tmp, ignore_errors=True)
            raise GitError(f"cannot clone {url}: {reason(out.stderr)}", where=where,
                           hint="check the URL, your network and your git credentials")  # fmt: skip
        _publish(tmp, mirror)
    if commit is None or _has_commit(mirror, commit):
        return
    for refspec in ((), (commit,)):  # all refs; then the bare commit (servers that allow it)
        if _fetch(url, mirror, refspec, where) and _has_commit(mirror, commit):
            return
    raise _missing_ref(url, commit, where)


def _extract(base: Path, commit: str, where: str) -> Path:
    """Write ``commit``'s files to ``base/<commit>`` (atomically) and return that directory."""
    target = base / commit
    _sweep_stale(base)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-tree-", dir=base))
    try:
        tree = tmp / "tree"
        tree.mkdir()
        env = {"GIT_INDEX_FILE": str(tmp / "index")}
        common = (f"--git-dir={base / MIRROR}", f"--work-tree={tree}")
        for args in (("read-tree", commit), ("checkout-index", "--all", "--force")):
            out = git_call(base, *common, *args, env=env)
            if not out.ok:
                raise GitError(f"cannot check out {commit[:12]}: {reason(out.stderr)}",
                               where=where, hint="delete the cache entry and retry")  # fmt: skip
        _publish(tree, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _publish(tmp: Path, target: Path) -> None:
    """Rename ``tmp`` to ``target``; if another build got there first, keep theirs."""
    try:
        tmp.rename(target)
    except OSError:
        if not target.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def _sweep_stale(base: Path) -> None:
    """Remove ``.tmp-*`` leftovers of killed builds (older than a day, so never a live one)."""
    now = time.time()
    for child in base.glob(".tmp-*"):
        try:
            if now - child.stat().st_mtime > _STALE_SECONDS:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            continue
