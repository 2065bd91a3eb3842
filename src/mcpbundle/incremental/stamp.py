"""The no-op shortcut: a stamp of everything the last build read and wrote.

After a directory build, ``mcpbundle build`` writes a *stamp* to
``cache_root()/stamps/<key>.stamp``. The key is the sha256 of mcpbundle's version,
the command line, the working directory and the environment variables a build
depends on. The stamp holds:

* every file the build read (stat and sha256) and every directory it listed, plus
  the directories above each file up to the config's directory (stat and a digest of
  the listing: a new file shows up as a changed listing), as recorded by
  :mod:`mcpbundle.incremental.read_recorder` (pseudo files under ``/proc``, ``/sys`` and
  ``/dev`` are not inputs);
* the programs it ran (stat), mcpbundle's own files and site-packages (stat);
* the output it left (every file and directory) and the output's parent (where a
  killed build leaves its staging directory);
* the git state of the source (``git status --porcelain=v2 --branch``);
* what a no-op build prints.

:func:`replay` checks a stamp using only the standard library, before the CLI and
the pipeline are imported (:mod:`mcpbundle.cli.launch`). When everything is as
recorded, the command prints the recorded no-op report and exits 0. Anything
else, including a missing or corrupt stamp, sends the command down the normal
path, which decides for itself. A file whose stat changed is hashed again, so
``touch`` alone still replays. Files changed within two seconds of being stamped
are always hashed (file times are coarse). A build whose inputs changed while it
ran, or that asked the network (``git ls-remote``), writes no stamp. Writing one is
:mod:`mcpbundle.incremental.stamp_write`'s.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence

from mcpbundle import __version__
from mcpbundle.git.worktree import git_root
from mcpbundle.incremental.stamp_file import FORMAT, file_sha256
from mcpbundle.incremental.stamp_file import digest as _digest
from mcpbundle.incremental.stamp_file import listing as _listing  # (tests count the calls)
from mcpbundle.incremental.stamp_file import load as _load
from mcpbundle.incremental.stamp_file import stat_of as _stat
from mcpbundle.incremental.stamp_file import store as _store

# Not imported at run time: json, re, typing and pathlib together cost more than the check.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


RACY_NS = 2_000_000_000  # file systems with whole-second (or 2 s) times
FINE_RACY_NS = 100_000_000  # the rest: 10x the coarsest kernel tick (HZ=100)
PSEUDO_ROOTS = ("/proc", "/sys", "/dev")  # what is read there is no input
ENV_NAMES = frozenset(
    {"PATH", "HOME", "VIRTUAL_ENV", "PYENV_VERSION", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR"}
    | {"NO_COLOR", "FORCE_COLOR"}
)
ENV_PREFIXES = ("MCPBUNDLE_", "PIP_", "UV_", "GIT_", "PYTHON", "XDG_")
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
LOADED: dict[str, dict[str, Any]] = {}  # stamps replay read, by path
MCPBUNDLE_DIR = os.path.dirname(PACKAGE_DIR)


# -- what identifies a command and a machine --------------------------------------


def build_environment(environ: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The environment variables a build depends on, sorted."""
    return tuple(
        sorted((k, v) for k, v in environ.items() if k in ENV_NAMES or k.startswith(ENV_PREFIXES))
    )


def stamp_key(argv: Sequence[str], cwd: str, environ: Mapping[str, str]) -> str:
    env = build_environment(environ)
    identity = (FORMAT, __version__, tuple(argv), cwd, env, _terminals(environ))
    return _digest(repr(identity).encode("utf-8", "surrogateescape"))


def _terminals(environ: Mapping[str, str]) -> tuple[bool, bool, bool]:
    """What decides colour besides the command line and NO_COLOR / FORCE_COLOR: whether
    stdout and stderr are terminals, and a dumb TERM. A stamp made on a terminal replays
    its coloured report only on one."""
    return (_isatty(sys.stdout), _isatty(sys.stderr), environ.get("TERM") == "dumb")


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def stamp_path(key: str) -> str:
    from mcpbundle.base.cache_dir import cache_root_path

    return os.path.join(cache_root_path(), "stamps", f"{key}.stamp")


def code_state() -> str:
    """mcpbundle's own modules, its subpackages' too (an edit to an editable install
    changes what a build writes and warns), and every site-packages directory (an
    install changes its mtime)."""
    parts = []
    for directory, dirs, names in os.walk(MCPBUNDLE_DIR):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                st = os.stat(os.path.join(directory, name))
                parts.append(
                    f"{directory[len(MCPBUNDLE_DIR) :]}/{name}:{st.st_size}:{st.st_mtime_ns}"
                )
    parts += site_packages_state()
    return _digest("\n".join(parts).encode())


def site_packages_state() -> list[str]:
    """Each site-packages directory on ``sys.path`` with its mtime (an install changes it)."""
    return [
        f"{entry}:{os.stat(entry).st_mtime_ns}"
        for entry in sys.path
        if entry.endswith("-packages") and os.path.isdir(entry)
    ]


def git_status(root: str) -> str:
    """Digest of HEAD, branch and tracked changes: the report a no-op prints names the
    source (``--json``), and tracked changes decide which files git lists. (The output
    does not depend on them: after a new commit the full path finds it up to date.)"""
    from mcpbundle.base.runner import run

    cmd = ["git", "status", "--porcelain=v2", "--branch", "--untracked-files=no", "-z"]
    done = run(cmd, cwd=root, extra_env={"GIT_OPTIONAL_LOCKS": "0"}, timeout=120)
    return _digest(f"{done.returncode}\0{done.stdout}".encode())


# -- checking ---------------------------------------------------------------------


def replay(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    environ: Mapping[str, str] | None = None,
    now_ns: int | None = None,
) -> tuple[str, str] | None:
    """``(stdout, stderr)`` of the no-op build this command would be, or None to build."""
    environ = os.environ if environ is None else environ
    try:
        return _replay(argv, cwd or os.getcwd(), environ, now_ns or time.time_ns())
    except (OSError, ValueError, EOFError, KeyError, IndexError, TypeError, AttributeError):
        return None


def _replay(
    argv: Sequence[str], cwd: str, environ: Mapping[str, str], now_ns: int
) -> tuple[str, str] | None:
    path = stamp_path(stamp_key(argv, cwd, environ))
    document = _load(path)
    if document is not None:
        LOADED[path] = document  # what it verified, or at least recorded, helps write()
    if document is None or document["code"] != code_state():
        return None
    if git_root(document["root"]) != document["git_root"]:
        return None
    refreshed = False
    settled: set[str] = set()  # directories whose entries are as recorded
    for name, recorded in document["dirs"].items():
        now = _same_dir(name, recorded)
        if now is None:
            return None
        if now is recorded:
            settled.add(name)
        elif not racy(now[2], now_ns):  # listed again, now settled
            document["dirs"][name] = [*now, recorded[5], False]
            refreshed = True
    if any(_stat(name) != stat for name, stat in document["programs"].items()):
        return None
    hashed: dict[tuple[int, ...], str] = {}
    follows = document["follows"]
    files = document["files"]
    for name, leader in follows.items():  # names with no entry: their first name's holds
        if name in files:
            continue
        recorded = files[leader]
        if not recorded[6] and os.path.dirname(name) in settled:
            continue  # its directory entry is unchanged: the first name's check covers it
        if _same_file(name, recorded, hashed) is None:
            return None
    for name, recorded in files.items():
        if name in follows and not recorded[6] and os.path.dirname(name) in settled:
            continue  # a hard link of a file checked here: its directory entry is unchanged
        now = _same_file(name, recorded, hashed)
        if now is None:
            return None
        if now is not recorded and not racy(now[2], now_ns):  # verified by content, settled
            document["files"][name] = [*now, recorded[5], False]
            refreshed = True
    if document["git_root"] is not None and git_status(document["git_root"]) != document["git"]:
        return None
    if refreshed:  # later checks of these entries need only stat them
        try:  # noqa: SIM105 - contextlib costs more to import than this check takes
            _store(path, document)
        except OSError:
            pass  # a read-only cache still replays
    return str(document["stdout"]), str(document["stderr"])


def racy(ctime_ns: int, at_ns: int) -> bool:
    """Changed so shortly before ``at_ns`` that a later change could keep the same times."""
    coarse = ctime_ns % 1_000_000 == 0  # no sub-millisecond digits: times are coarse here
    return ctime_ns >= at_ns - (RACY_NS if coarse else FINE_RACY_NS)


def _same_file(
    path: str, recorded: Sequence[Any], hashed: dict[tuple[int, ...], str]
) -> Sequence[Any] | None:
    """``recorded`` if the stat is as recorded, the current stat if only the content is, else
    None. ``hashed``: digests by inode and stat, so hard links are read once."""
    *stat, sha, racy = recorded
    st = os.stat(path)
    now = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_mode]
    if now == stat and not racy:
        return recorded
    if now[0] != stat[0] or now[4] != stat[4]:
        return None
    key = (st.st_dev, *now)
    digest = hashed.get(key)
    if digest is None:
        digest = hashed[key] = file_sha256(path)
    return now if digest == sha else None


def _same_dir(path: str, recorded: Sequence[Any]) -> Sequence[Any] | None:
    """As :func:`_same_file`, for a directory: listed again only when its stat moved."""
    *stat, listing, racy = recorded
    now = _stat(path)
    if now == stat and not racy:
        return recorded
    return now if _listing(path) == listing else None
