"""What may ship, checked from ``stat`` before any file is read in full.

:func:`check_shippable` runs right after planning (so ``build``, ``check`` and
``validate`` agree) and fails the build with one line for the first of:

* a file larger than ``[bundle] max-file-size`` (default 50 MB): a 200 MB binary
  would cost seconds and gigabytes to scan, hash and copy;
* a file that is not a regular file any more, or cannot be read;
* a file name that is not UTF-8 (the manifest, the host and git need one);
* a git-lfs pointer: the 130-byte text git leaves when the LFS object was never
  fetched. The server would read pointer text where it expects a model or data
  file and fail at run time on the host, so it fails the build here (a warning
  scrolls past in CI);
* a git submodule inside a server (unless it holds or lies in a vendored library,
  whose files ship: :mod:`mcpbundle.plan.submodules`), a submodule that is not checked
  out where a server or library ships from, an unreadable directory, or directories
  nested deeper than :data:`mcpbundle.plan.repo_files.MAX_DEPTH`, inside a server or
  a vendored package.

FIFOs, devices and sockets inside a server or package are skipped, and returned as
warnings. Entries outside every server and package are not this build's business.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from mcpbundle.base.error_lines import printable
from mcpbundle.base.errors import BuildError
from mcpbundle.base.regular_file import kind_of
from mcpbundle.plan.repo_files import (
    MAX_DEPTH,
    SUBMODULE,
    SUBMODULE_MISSING,
    TOO_DEEP,
    UNREADABLE,
    UNREADABLE_DIR,
    FileFilter,
    RepoFiles,
    local_spec,
    too_large,
)

if TYPE_CHECKING:
    import pathspec

    from mcpbundle.config.settings import Config
    from mcpbundle.plan.planner import BuildPlan

LFS_SIGNATURE = b"version https://git-lfs.github.com/spec/v1"
LFS_MAX_SIZE = 1024  # the LFS spec keeps pointer files below this
_FIX_MODE = "fix its permissions, or exclude it"
_FATAL = {
    SUBMODULE: (
        "is a git submodule, which a bundle cannot carry",
        "exclude it, or declare its package as a [shared.NAME] library",
    ),
    SUBMODULE_MISSING: (
        "is a git submodule that is not checked out, so its files cannot ship",
        "run `git submodule update --init --recursive` (in CI: actions/checkout with"
        " `submodules: recursive`)",
    ),
    UNREADABLE_DIR: (
        "cannot be read (permission denied)",
        "fix its permissions (chmod u+rx), or exclude it",
    ),
    UNREADABLE: ("cannot be read", "fix its permissions, or exclude it"),
    TOO_DEEP: (f"directories nested more than {MAX_DEPTH} levels deep cannot ship", "exclude them"),
}


def check_shippable(config: Config, plan: BuildPlan, files: RepoFiles) -> list[str]:
    """Raise :class:`BuildError` for the first file that must not ship; return warnings."""
    warnings = _special_entries(config, plan, files)
    limit = config.bundle.max_file_size
    seen: set[str] = set()
    for server in plan.servers:
        for copy in server.files:
            if copy.source not in seen:
                seen.add(copy.source)
                _check_file(copy.path(config.root), copy.source, limit)
    return warnings


def _check_file(path: Path, display: str, limit: int) -> None:
    try:
        display.encode("utf-8")
    except UnicodeEncodeError:
        raise BuildError(
            "file name is not valid UTF-8",
            where=printable(display),
            hint="rename it (the manifest, git and the host need UTF-8 names), or exclude it",
        ) from None
    try:
        info = os.stat(path)
    except OSError as exc:
        raise BuildError(f"cannot read: {exc.strerror}", where=display) from exc
    if not stat.S_ISREG(info.st_mode):
        raise BuildError(f"is a {kind_of(info.st_mode)}, not a regular file", where=display)
    if info.st_size > limit:
        raise too_large(display, info.st_size, limit)
    if not os.access(path, os.R_OK):
        raise BuildError("cannot read: permission denied", where=display, hint=_FIX_MODE)
    if len(LFS_SIGNATURE) <= info.st_size <= LFS_MAX_SIZE:
        try:
            with open(path, "rb") as handle:
                head = handle.read(len(LFS_SIGNATURE))
        except OSError as exc:
            raise BuildError(f"cannot read: {exc.strerror}", where=display) from exc
        if head == LFS_SIGNATURE:
            raise BuildError(
                "is a git-lfs pointer, not the file's content (its LFS object was not fetched)",
                where=display,
                hint="run `git lfs pull` (in CI: actions/checkout with lfs: true), or exclude it",
            )


def _special_entries(config: Config, plan: BuildPlan, files: RepoFiles) -> list[str]:
    if not files.special:
        return []
    filt = FileFilter(config.bundle.exclude)
    scopes = list(_scopes(config, plan))
    libs = {
        lib.source_root
        for server in plan.servers
        for lib in server.vendored
        if not Path(lib.source_root).is_absolute()
    }
    warnings: list[str] = []
    for rel, kind in files.special.items():
        is_dir = kind in (SUBMODULE, SUBMODULE_MISSING, UNREADABLE_DIR, TOO_DEEP)
        if kind == SUBMODULE and any(_inside(rel, r) or _inside(r, rel) for r in libs):
            continue  # a library kept in a submodule, or one inside a library: its files ship
        ships = any(_ships(rel, scope, filt, is_dir=is_dir) for scope in scopes)
        if kind == SUBMODULE_MISSING:
            ships = ships or any(_inside(scope[0], rel) for scope in scopes)
        if not ships:
            continue
        shown = printable(rel)
        if kind in _FATAL:
            what, hint = _FATAL[kind]
            if kind == TOO_DEEP:
                shown = "/".join(shown.split("/")[:4]) + "/…"
            raise BuildError(what, where=shown, hint=hint)
        warnings.append(f"skipped {shown}: a {kind}, not a regular file (only files ship)")
    return sorted(set(warnings))


_Scope = tuple[str, str, "pathspec.GitIgnoreSpec | None"]  # (directory, base of local paths, spec)


def _scopes(config: Config, plan: BuildPlan) -> Iterator[_Scope]:
    """The server directories and vendored package directories this plan copies from."""
    for server in plan.servers:
        yield server.path, server.path, local_spec(config.servers[server.name].exclude)
        for lib in server.vendored:
            if Path(lib.source_root).is_absolute():
                continue  # a git checkout in mcpbundle's cache
            for package in lib.packages:
                yield f"{lib.source_root}/{package.replace('.', '/')}", lib.source_root, None


def _ships(rel: str, scope: _Scope, filt: FileFilter, *, is_dir: bool) -> bool:
    directory, base, spec = scope
    if not _inside(rel, directory):
        return False
    local = rel if base in ("", ".") else rel[len(base.rstrip("/")) + 1 :]
    if is_dir and filt.excluded(rel + "/", local + "/", spec):
        return False  # a directory pattern ("sub/") excludes it
    return not filt.excluded(rel, local, spec)


def _inside(rel: str, directory: str) -> bool:
    if directory in ("", "."):
        return True
    clean = directory.strip("/")
    return rel == clean or rel.startswith(clean + "/")
