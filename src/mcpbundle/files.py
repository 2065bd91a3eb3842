"""Which files of the repository may ship.

Inside a git work tree: tracked files plus untracked files git does not ignore
(read through GitPython); elsewhere every file. Then the built-in excludes, the
configured ``exclude`` patterns (gitignore semantics, via pathspec) and the
secret-file rules, which no setting can turn off.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pathspec

from mcpbundle.errors import BuildError
from mcpbundle.worktree import git_root

BUILTIN_EXCLUDES = (
    ".git/", "__pycache__/", "*.py[cod]", ".venv/", "venv/", ".mypy_cache/",
    ".pytest_cache/", "node_modules/", "tests/", ".ruff_cache/", ".hypothesis/",
    "*.egg-info/", ".DS_Store",
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
    if _SECRETS.match_file(path):
        return True
    return root is not None and is_secret_link(root / path, root)


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
    """Every candidate file of the repository, as sorted POSIX paths relative to ``root``."""

    root: Path
    paths: tuple[str, ...]
    from_git: bool


def list_repo_files(root: Path, *, skip: Sequence[Path] = ()) -> RepoFiles:
    """List candidate files under ``root``; directories in ``skip`` (the output) are never read."""
    skipped = [p.resolve() for p in skip]
    listed = _git_files(root)
    from_git = listed is not None
    paths = listed if listed is not None else _walk(root)
    kept = []
    for rel in paths:
        absolute = root / rel
        if any(absolute.is_relative_to(s) for s in skipped):
            continue
        if not os.path.lexists(absolute):
            continue  # tracked but deleted in the working tree
        kept.append(rel)
    return RepoFiles(root=root, paths=tuple(sorted(set(kept))), from_git=from_git)


def _git_files(root: Path) -> list[str] | None:
    if git_root(root) is None:
        return None  # not in a work tree: no need to load GitPython
    try:
        import git
    except ImportError:  # pragma: no cover - gitpython is a dependency
        return None
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return None
    if repo.bare or repo.working_tree_dir is None:
        return None
    try:
        out = git.Git(str(root)).ls_files("-z", "--cached", "--others", "--exclude-standard")
    except git.GitCommandError as exc:
        raise BuildError(f"git ls-files failed: {exc.stderr.strip()}", where=str(root)) from exc
    return [p for p in str(out).split("\0") if p]


def _walk(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        base = Path(dirpath).relative_to(root)
        for name in filenames:
            found.append((base / name).as_posix())
        for name in dirnames:
            if (Path(dirpath) / name).is_symlink():
                found.append((base / name).as_posix())
    return found


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
