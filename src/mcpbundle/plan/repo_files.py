"""Which files of the repository may ship.

Inside a git work tree: tracked files plus untracked files git does not ignore
(``git ls-files``); elsewhere every file. Only regular files and symlinks are
listed; anything else is set aside in ``RepoFiles.special``. Then the built-in excludes, the
configured ``exclude`` patterns (gitignore semantics, via pathspec) and the
secret-file rules, which no setting can turn off.
"""

from __future__ import annotations

import bisect
import os
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pathspec

from mcpbundle.base.errors import BuildError
from mcpbundle.base.regular_file import NotRegular, TooLarge, kind_of, read_regular
from mcpbundle.git.worktree import git_root
from mcpbundle.plan.submodules import list_submodules

BUILTIN_EXCLUDES = (
    ".git/", "__pycache__/", "*.py[cod]", ".venv/", "venv/", ".mypy_cache/",
    ".pytest_cache/", "node_modules/", "tests/", ".ruff_cache/", ".hypothesis/",
    "*.egg-info/", ".DS_Store", "*.log", "*.log.*",
)  # fmt: skip

SECRET_PATTERNS = (
    ".env", ".env.*", "!.env.example", "*.pem", "*.key", "id_rsa*", "id_ed25519*",
    "id_dsa*", "id_ecdsa*",
    ".netrc", ".pypirc", "credentials*.json",
    "secrets.yaml", "secrets.yml", "secrets.json", "secrets.toml", ".npmrc",
    ".git-credentials", ".pgpass", ".htpasswd", "kubeconfig", "*.kubeconfig",
    "**/.kube/config", "**/.docker/config.json", "**/.aws/credentials",
)  # fmt: skip

_SECRETS = pathspec.GitIgnoreSpec.from_lines(SECRET_PATTERNS)
_BUILTIN = pathspec.GitIgnoreSpec.from_lines(BUILTIN_EXCLUDES)


def is_secret(path: str, root: Path | None = None) -> bool:
    """True for files that must never ship (``.env``, keys, credentials), at any depth.

    With ``root`` (the directory ``path`` is relative to), a symlink is judged by its
    target too: a link to a secret file, or to anything inside a ``.git`` directory, is
    a secret file (it would ship the target's content under an innocent name)."""
    if _secret_name(path):
        return True
    return root is not None and is_secret_link(root / path, root)


@lru_cache(maxsize=65536)
def _secret_name(path: str) -> bool:
    """The name patterns alone (once per path per process: check asks for every file of
    every server, and a vendored library's files are the same paths in each)."""
    return bool(_SECRETS.match_file(path))


def is_secret_link(link: Path, root: Path) -> bool:
    """``link`` is a symlink to a secret file or into a ``.git`` directory (judged by the
    target's path relative to ``root``, or its last two parts when outside it)."""
    if not link.is_symlink():
        return False
    target = Path(os.path.realpath(link))
    base = Path(os.path.realpath(root))
    if target.is_relative_to(base):
        parts = target.relative_to(base).parts
    else:
        parts = target.parts[-2:] if ".git" not in target.parts else (".git",)
    rel = "/".join(parts)
    return ".git" in parts or (bool(rel) and bool(_SECRETS.match_file(rel)))


@dataclass(frozen=True, kw_only=True)
class RepoFiles:
    """Every candidate file of the repository, as sorted POSIX paths relative to ``root``.

    ``special``: entries that are not regular files or symlinks (FIFOs, devices,
    sockets, git submodules, unreadable or too deeply nested directories), path ->
    what it is. They are never listed in ``paths``; :mod:`mcpbundle.plan.file_checks`
    reports those that would ship.
    """

    root: Path
    paths: tuple[str, ...]
    from_git: bool
    special: Mapping[str, str] = field(default_factory=dict)


MAX_DEPTH = 100  # directory levels below the repository root that are listed
UNREADABLE_DIR = "unreadable directory"
UNREADABLE = "file that cannot be read"
TOO_DEEP = f"directory nested more than {MAX_DEPTH} levels deep"
SUBMODULE = "git submodule"
SUBMODULE_MISSING = "git submodule that is not checked out"


OUTPUT_MARKER = ".mcpbundle-output"  # written into every output directory mcpbundle owns


def list_repo_files(root: Path, *, skip: Sequence[Path] = ()) -> RepoFiles:
    """List candidate files under ``root``; directories in ``skip`` (the output) are never read,
    nor the build lock and staging directories mcpbundle keeps beside them."""
    skipped = [p.resolve() for p in skip]
    beside = {(s.parent, f".{s.name}") for s in skipped}
    listed = _git_files(root)
    from_git = listed is not None
    special: dict[str, str] = {}
    missing: list[str] = []
    if listed is not None:
        submodules = list_submodules(root)
        listed += submodules.files
        missing = submodules.missing
    base = str(root)
    # Plain strings, not Path objects: this runs once per file of the repository.
    skip_dirs = [(str(s), str(s).rstrip(os.sep) + os.sep) for s in skipped]
    beside_dirs = [(str(parent).rstrip(os.sep) + os.sep, prefix) for parent, prefix in beside]
    if listed is None:  # the output (thousands of files) and its staging are not walked
        pruned = frozenset(str(s) for s in skipped)
        listed = _walk(root, special, lambda path: path in pruned or _beside(path, beside_dirs))
    paths = listed
    kept: list[str] = []
    links: list[str] = []
    # Another output mcpbundle wrote (another config's, an earlier output setting): the
    # directory holding its marker is never a source.
    outputs = tuple(
        rel[: -len(OUTPUT_MARKER)] for rel in paths if rel.endswith("/" + OUTPUT_MARKER)
    )
    for rel in paths:
        absolute = os.path.join(base, rel)
        if any(absolute == s or absolute.startswith(inside) for s, inside in skip_dirs):
            continue
        if outputs and rel.startswith(outputs):
            continue
        if _beside(absolute, beside_dirs):
            continue
        try:
            mode = os.lstat(absolute).st_mode
        except FileNotFoundError:
            continue  # tracked but deleted in the working tree
        except OSError:
            special[rel] = UNREADABLE
            continue
        if rel.count("/") >= MAX_DEPTH:
            special["/".join(rel.split("/")[:MAX_DEPTH])] = TOO_DEEP
        elif stat.S_ISREG(mode) or stat.S_ISLNK(mode):
            kept.append(rel)
            if stat.S_ISLNK(mode):
                links.append(rel)
        else:
            special[rel] = SUBMODULE if stat.S_ISDIR(mode) else kind_of(mode)
    special.update(dict.fromkeys(missing, SUBMODULE_MISSING))
    if links:
        kept = through_directory_links(root, sorted(set(kept)), links)
    return RepoFiles(
        root=root, paths=tuple(sorted(set(kept))), from_git=from_git,
        special=dict(sorted(special.items())),
    )  # fmt: skip


def through_directory_links(root: Path, paths: list[str], links: list[str]) -> list[str]:
    """``paths`` (sorted) with each symlink to a directory of the repository replaced by
    that directory's files under the link's path: a server that links shared code in
    (``common -> ../../shared/common``) ships the files, not a link that dangles without
    ``shared/``. Links inside a linked directory are followed the same way.

    A link to a directory outside the repository, or to one that holds the link, stays a
    link (:func:`mcpbundle.plan.shipped_files.check_link` refuses it), and so does one
    into ``.git``. A file whose own path is a secret's is left out whatever the link is
    called (``home -> ../.kube`` would ship ``home/config``)."""
    base = os.path.realpath(root)
    found = set(paths)
    is_link = set(links)
    pending = sorted(links)
    while pending:
        link = pending.pop()
        target = _linked_directory(base, link)
        if target is None or link.count("/") >= MAX_DEPTH:
            continue
        found.discard(link)
        prefix = f"{target}/" if target else ""
        start = bisect.bisect_left(paths, prefix)
        for rel in paths[start:]:
            if not rel.startswith(prefix):
                break
            if _secret_name(rel):
                continue
            virtual = f"{link}/{rel[len(prefix) :]}"
            found.add(virtual)
            if rel in is_link:
                pending.append(virtual)
    return sorted(found)


def _linked_directory(base: str, link: str) -> str | None:
    """The repository-relative directory ``link`` points at, when it may stand for it."""
    absolute = os.path.join(base, link)
    real = os.path.realpath(absolute)
    if not os.path.isdir(real) or not (real == base or real.startswith(base + os.sep)):
        return None
    holder = os.path.realpath(os.path.dirname(absolute))
    if holder == real or holder.startswith(real + os.sep):
        return None  # it holds the link: following it never ends
    target = os.path.relpath(real, base).replace(os.sep, "/")
    return None if ".git" in target.split("/") else ("" if target == "." else target)


def _beside(path: str, beside: list[tuple[str, str]]) -> bool:
    """The output's lock file or a staging/old directory (or something inside one);
    ``beside``: (the output's parent ending in a separator, ``.<output name>``)."""
    for parent, prefix in beside:
        if path.startswith(parent) and len(path) > len(parent):
            first = path[len(parent) :].split(os.sep, 1)[0]
            if first == f"{prefix}.lock" or first.startswith(f"{prefix}.mcpbundle-"):
                return True
    return False


def _git_files(root: Path) -> list[str] | None:
    if git_root(root) is None:
        return None  # not in a work tree
    from mcpbundle.git.source import git_call, split_z  # only needed inside a work tree

    inside = git_call(root, "rev-parse", "--is-inside-work-tree")
    if not inside.ok or inside.line != "true":
        return None
    out = git_call(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if not out.ok:
        raise BuildError(f"git ls-files failed: {out.stderr.strip()}", where=str(root))
    return split_z(out.stdout)


def _walk(
    root: Path,
    special: dict[str, str] | None = None,
    pruned: Callable[[str], bool] | None = None,
) -> list[str]:
    """Every entry under ``root`` but directories (and ``.git``), without recursion.

    Symlinks are listed, never followed. Directories that cannot be read, or lie
    deeper than :data:`MAX_DEPTH`, go to ``special`` instead of being descended; nor is
    a directory whose absolute path ``pruned`` accepts (it is not listed either).
    """
    found: list[str] = []
    special = {} if special is None else special
    pending = [""]
    while pending:
        base = pending.pop()
        try:
            with os.scandir(root / base if base else root) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError:
            special[base] = UNREADABLE_DIR
            continue
        for entry in entries:
            rel = f"{base}/{entry.name}" if base else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if not is_dir:
                found.append(rel)
            elif entry.name == ".git" or (pruned is not None and pruned(entry.path)):
                continue
            elif rel.count("/") + 1 >= MAX_DEPTH:
                special[rel] = TOO_DEEP
            else:
                pending.append(rel)
    return found


def read_capped(path: Path, limit: int, *, display: str, follow: bool = True) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    Never blocks on a FIFO or reads a device (:mod:`mcpbundle.base.regular_file`);
    ``follow=False`` also refuses a symlink. A larger file raises a
    :class:`BuildError` naming ``display`` and ``[bundle] max-file-size``; any other
    problem one naming what it is. For content scanners: pass
    ``config.bundle.max_file_size``.
    """
    try:
        return read_regular(path, limit, follow=follow)
    except TooLarge as exc:
        raise too_large(display, exc.size, limit) from exc
    except NotRegular as exc:
        raise BuildError(f"is a {exc.kind}, not a regular file", where=display) from exc
    except OSError as exc:
        raise BuildError(f"cannot read: {exc.strerror or exc}", where=display) from exc


def too_large(display: str, size: int, limit: int) -> BuildError:
    return BuildError(
        f"{human_size(size)} is more than [bundle] max-file-size ({human_size(limit)})",
        where=display,
        hint="exclude the file, or raise max-file-size in mcpbundle.toml",
    )


def human_size(size: int) -> str:
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}".replace(".0 ", " ")
    return f"{size} bytes"


class FileFilter:
    """Built-in excludes + ``[bundle] exclude`` (repo-relative) + local excludes (dir-relative)."""

    def __init__(self, bundle_excludes: Iterable[str]):
        self._bundle = pathspec.GitIgnoreSpec.from_lines(list(bundle_excludes))

    def excluded(
        self, repo_path: str, local_path: str, local: pathspec.GitIgnoreSpec | None
    ) -> bool:
        if _BUILTIN.match_file(local_path) or self._bundle.match_file(repo_path):
            return True
        return bool(local is not None and local.match_file(local_path))


def local_spec(patterns: Iterable[str]) -> pathspec.GitIgnoreSpec | None:
    lines = list(patterns)
    return pathspec.GitIgnoreSpec.from_lines(lines) if lines else None


def under(paths: Iterable[str], directory: str) -> list[tuple[str, str]]:
    """``(repo path, path relative to directory)`` for every path inside ``directory``."""
    if directory in ("", "."):
        return [(p, p) for p in paths]
    prefix = directory.rstrip("/") + "/"
    return [(p, p[len(prefix) :]) for p in paths if p.startswith(prefix)]
