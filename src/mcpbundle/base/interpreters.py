"""Interpreters of a target Python, found offline, and one that can run pip-tools.

:func:`find_interpreter` returns the *real* executable of a Python version (never
a pyenv shim, which works only next to a ``.python-version``); every module that
runs a target Python (resolver, verify, check) uses it.

pip-compile resolves for the interpreter that runs it. For ``[bundle] python =
"3.12"`` mcpbundle runs it under a ``python3.12`` found on PATH, in pyenv or by uv, with
``PYTHONPATH`` pointing at a private directory of links to the running
environment's pure-Python pip-tools and its dependencies (no compiled module may
cross interpreters). Without such an interpreter it warns once and uses its own.
"""

from __future__ import annotations

import atexit
import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.base.runner import run
from mcpbundle.base.uv_binary import find_uv

log = logging.getLogger("mcpbundle")

RUNNING_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


_warned: set[str] = set()
_lock = threading.Lock()


def piptools_interpreter(target: str | None) -> tuple[str, dict[str, str], str]:
    """``(executable, extra env, python version the pins are for)`` for pip-tools."""
    if target is None or target == RUNNING_PYTHON:
        return sys.executable, {}, RUNNING_PYTHON
    with _lock:
        found = _foreign_piptools(target)
        if not isinstance(found, str):
            exe, pythonpath = found
            return exe, {"PYTHONPATH": pythonpath, "PYTHONNOUSERSITE": "1"}, target
        if target not in _warned:
            _warned.add(target)
            log.warning(
                '%s: pip-tools pins are for the running Python %s; %s or use resolver = "uv"',
                _why_not(found, target),
                RUNNING_PYTHON,
                "make it run" if found else f"install Python {target}",
            )
    return sys.executable, {}, RUNNING_PYTHON


def piptools_missing(target: str | None) -> str | None:
    """Why pip-tools cannot pin for ``target`` here (no interpreter of it, or one pip-tools
    does not run under), or None when it can. Says nothing itself."""
    if target is None or target == RUNNING_PYTHON:
        return None
    with _lock:
        found = _foreign_piptools(target)
    return _why_not(found, target) if isinstance(found, str) else None


def _why_not(found: str, target: str) -> str:
    """The reason :func:`_foreign_piptools` gave ("" when it found no interpreter)."""
    return found or f"no working python{target} found on PATH or under pyenv"


@functools.cache
def _foreign_piptools(target: str) -> tuple[str, str] | str:
    """An interpreter for ``target`` and a PYTHONPATH that lets it run our pip-tools;
    else why not: "" when there is no such interpreter, or what keeps pip-tools from
    running under the one found."""
    exe = find_interpreter(target)
    if exe is None:
        return ""
    try:
        links = _piptools_links(target)
    except _CannotShare as exc:
        return f"found {exe}, but pip-tools cannot run under it: {exc}"
    lib = _link_farm(links)
    marker = _imports_marker(exe, links)
    if marker is not None and marker.is_file():
        return exe, lib  # this interpreter imported these very files before
    probe = run(
        [exe, "-c", "import piptools.scripts.compile, pip._internal.cli.main"],
        extra_env={"PYTHONPATH": lib, "PYTHONNOUSERSITE": "1"},
        timeout=120,
    )
    if probe.returncode != 0:
        log.debug("pip-tools does not import under %s: %s", exe, probe.stderr[-500:])
        last = (probe.stderr.strip().splitlines() or ["it exits with an error"])[-1]
        return f"found {exe}, but pip-tools does not import under it ({last})"
    if marker is not None:
        _remember(marker)
    return exe, lib


def _imports_marker(exe: str, links: dict[str, Path]) -> Path | None:
    """Where a successful import probe of pip-tools under ``exe`` is remembered
    (``CACHE/interpreters/``): keyed by the interpreter file and every linked path, whose
    names carry the versions, so an upgrade of either is probed again."""
    import hashlib

    from mcpbundle.base.cache_dir import cache_root

    try:
        st = os.stat(exe)
    except OSError:
        return None
    key = hashlib.sha256(f"{exe}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    for top, source in sorted(links.items()):
        key.update(f"\0{top}\0{source}".encode("utf-8", "surrogateescape"))
    return cache_root() / "interpreters" / f"piptools-{key.hexdigest()}"


def _remember(marker: Path) -> None:
    try:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError:
        pass  # an optimisation only: the next run probes again


_PROBE = (
    "import sys; print('%d.%d' % sys.version_info[:2]); print(sys.executable); "
    "print('%d.%d.%d' % sys.version_info[:3])"
)


@functools.cache
def find_interpreter(version: str, allowed: str | None = None) -> str | None:
    """The real executable of a working Python ``version`` ("3.12"), or None.

    ``allowed``: a ``requires-python`` the release must also satisfy (">=3.12.1" passes
    over a 3.12.0 for a 3.12.4 found later). Candidates, in order: the running Python
    when it is ``version``, ``python{version}`` on PATH, pyenv's
    ``versions/{version}.*/bin/python{version}`` (newest first), then ``uv python
    find``. Each is asked for its own ``sys.executable``, which is what is returned:
    a pyenv shim works only where a ``.python-version`` selects that version (so it
    may run here and fail in the resolver's temporary directory), while the
    executable it starts works everywhere.
    """
    for real, release in _working(version):
        if allows(allowed, release):
            return real
    return None


def releases_of(version: str) -> list[tuple[str, str]]:
    """``(real executable, X.Y.Z)`` of every working Python ``version`` found, in order."""
    return list(_working(version))


def allows(allowed: str | None, release: str) -> bool:
    """Whether ``release`` ("3.12.1") satisfies the ``requires-python`` ``allowed``."""
    if not allowed:
        return True
    try:
        return SpecifierSet(allowed).contains(release, prereleases=True)
    except InvalidSpecifier:
        return True  # the project's own tools report it; it decides nothing here


def _working(version: str) -> Iterator[tuple[str, str]]:
    seen: set[str] = set()
    if version == RUNNING_PYTHON:
        seen.add(sys.executable)
        yield sys.executable, ".".join(map(str, sys.version_info[:3]))
    tried: set[str] = set()
    for candidate in _candidates(version):
        if candidate in tried:
            continue
        tried.add(candidate)
        found = _probe(candidate, version)
        if found is not None and found[0] not in seen:
            seen.add(found[0])
            yield found


def _candidates(version: str) -> Iterator[str]:
    """Lazily, so that ``uv python find`` runs only when nothing before it works."""
    on_path = shutil.which(f"python{version}")
    if on_path:
        yield on_path
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    installed = []
    for path in (pyenv_root / "versions").glob(f"{version}.*/bin/python{version}"):
        try:
            installed.append((Version(path.parent.parent.name), str(path)))
        except InvalidVersion:
            continue
    yield from (exe for _version, exe in sorted(installed, reverse=True))
    uv = find_uv()
    if uv is not None:
        done = _run_quiet([uv, "python", "find", "--no-project", version])
        if done is not None and done.returncode == 0 and done.stdout.strip():
            yield done.stdout.strip().splitlines()[-1]


def _probe(candidate: str, version: str) -> tuple[str, str] | None:
    """``(candidate's own sys.executable, X.Y.Z)`` when it runs and is ``version``."""
    done = _run_quiet([candidate, "-c", _PROBE])
    if done is None or done.returncode != 0:
        if done is not None:
            log.debug("%s does not run here: %s", candidate, done.stderr.strip()[:200])
        return None
    lines = done.stdout.split("\n")
    if len(lines) < 3 or lines[0].strip() != version:
        return None
    real, release = lines[1].strip(), lines[2].strip()
    if not real or not os.path.isabs(real) or not os.access(real, os.X_OK):
        return None
    # The executable must work on its own, wherever it is started from.
    check = _run_quiet([real, "-c", _PROBE], cwd=tempfile.gettempdir())
    if check is None or check.returncode != 0 or check.stdout.split("\n")[0].strip() != version:
        return None
    return real, release


def _run_quiet(
    cmd: list[str], *, cwd: str | None = None
) -> subprocess.CompletedProcess[str] | None:
    try:
        return run(cmd, cwd=cwd, extra_env={"UV_PYTHON_DOWNLOADS": "never"}, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None


class _CannotShare(Exception):
    """The running environment's pip-tools cannot be lent to another Python (why)."""


def _piptools_links(target: str) -> dict[str, Path]:
    """The top-level files and directories of pip-tools and its pure-Python requirements.

    Only the distributions pip-tools needs for ``target`` are named (no compiled
    extension of the running interpreter can be picked up); :class:`_CannotShare` if
    one is missing or not pure Python. :func:`_link_farm` links them into a directory
    that lives until the process exits.
    """
    from importlib import metadata  # slow to import; only a cross-version pip-tools needs it

    env = {key: str(value) for key, value in default_environment().items()}
    env.update(python_version=target, python_full_version=f"{target}.0", extra="")
    needed: dict[str, metadata.Distribution] = {}
    todo = ["pip-tools"]
    while todo:
        name = canonicalize_name(todo.pop())
        if name in needed:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise _CannotShare(
                f"it needs {name} for Python {target} (`pip install {name}` beside mcpbundle)"
            ) from None
        needed[name] = dist
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate(env):
                todo.append(req.name)
    links: dict[str, Path] = {}
    for dist in needed.values():
        for file in dist.files or []:
            parts = file.parts
            if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith(".pth"):
                continue
            if file.suffix in (".so", ".pyd", ".dylib"):
                raise _CannotShare(
                    f"{dist.metadata['Name']} is not pure Python, so it cannot be shared"
                )
            links.setdefault(parts[0], Path(str(dist.locate_file(parts[0]))))
    return links


def _link_farm(links: dict[str, Path]) -> str:
    from mcpbundle.base.temp_dirs import make_temp_dir, remove_tree

    lib = make_temp_dir("piptools")  # named for this process: swept if it is killed
    atexit.register(remove_tree, lib)
    for top, source in sorted(links.items()):
        if source.exists():
            (lib / top).symlink_to(source)
    return str(lib)
