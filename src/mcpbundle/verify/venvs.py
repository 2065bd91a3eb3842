"""Cached, throwaway virtual environments: one per distinct ``requirements.txt``.

A venv lives in ``CACHE/venvs/<key>``, where the key is the sha256 of the
requirements bytes, the base interpreter's version and real path, and the install
options. It is
built in a temporary directory beside it and renamed into place only once the
install succeeded and the ready marker is written, so a killed run never leaves
a half-built venv that looks ready. Scripts in ``bin/`` are not used (they would
name the temporary path); everything runs as ``<venv>/bin/python -m ...``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mcpbundle.base.errors import BuildError
from mcpbundle.base.interpreters import RUNNING_PYTHON, find_interpreter
from mcpbundle.base.runner import run, tail
from mcpbundle.base.uv_binary import find_uv

READY = ".mcpbundle-ready"
STALE_SECONDS = 6 * 3600
INSTALL_TIMEOUT = 1800.0
INSTALLERS = ("uv", "pip")


@dataclass(frozen=True, kw_only=True)
class Venv:
    """An interpreter to verify a server with."""

    python: Path
    root: Path | None  # None: an interpreter given by the caller, not a cached venv
    installer: str  # "uv", "pip" or "external"
    install_seconds: float
    reused: bool

    def describe(self) -> str:
        if self.root is None:
            return f"external interpreter {self.python} (requirements not installed)"
        state = "reused" if self.reused else f"built with {self.installer}"
        return f"{self.root} ({state})"


def choose_installer(installer: str | None) -> str:
    """``installer`` checked, or uv when available and pip otherwise."""
    if installer is None:
        return "uv" if find_uv() else "pip"
    if installer not in INSTALLERS:
        raise BuildError(f"unknown installer {installer!r}", hint="use 'uv' or 'pip'")
    if installer == "uv" and find_uv() is None:
        raise BuildError("uv was requested but is not installed", hint="pip install uv")
    return installer


@functools.cache
def python_info(python: Path) -> tuple[str, Path]:
    """``(implementation-X.Y.Z, real executable)`` of ``python``.

    Asked of the interpreter itself (not read from its name), so a pyenv shim or a
    venv's link resolves to the binary a venv must be built from.
    """
    if Path(python) == Path(sys.executable):
        version = f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}"
        return version, Path(getattr(sys, "_base_executable", None) or sys.executable)
    code = (
        "import sys; "
        "print(sys.implementation.name + '-' + '.'.join(map(str, sys.version_info[:3]))); "
        "print(getattr(sys, '_base_executable', None) or sys.executable)"
    )
    try:
        result = run([python, "-I", "-c", code], timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(f"cannot run {python}: {exc}") from exc
    lines = result.stdout.split("\n")
    if result.returncode != 0 or len(lines) < 2:
        raise BuildError(f"cannot run {python}: {tail(result.stderr)}")
    return lines[0].strip(), Path(lines[1].strip())


def python_version(python: Path) -> str:
    """``implementation-X.Y.Z`` of ``python``."""
    return python_info(python)[0]


def minor_version(version: str) -> str:
    """``"3.12"`` of ``"cpython-3.12.1"``."""
    return ".".join(version.rpartition("-")[2].split(".")[:2])


def target_interpreter(version: str | None, allowed: str | None = None) -> Path | None:
    """The real executable of Python ``version`` ("3.12"; None: this one) whose release
    satisfies ``allowed`` (the server's ``requires-python``), or None.

    Found by :func:`mcpbundle.base.interpreters.find_interpreter` (PATH, pyenv, ``uv python
    find``; never a shim, never a download) and asked once more for its version.
    """
    found = find_interpreter(version or RUNNING_PYTHON, allowed)
    if found is None:
        return None
    if Path(found) == Path(sys.executable):
        return Path(sys.executable)
    try:
        actual, _ = python_info(Path(found))
    except BuildError:
        return None
    return Path(found) if minor_version(actual) == (version or RUNNING_PYTHON) else None


def venv_key(requirements: bytes, version: str, options: Sequence[str]) -> str:
    digest = hashlib.sha256()
    digest.update(requirements)
    digest.update(b"\0" + version.encode())
    for option in options:
        digest.update(b"\0" + option.encode())
    return digest.hexdigest()


def venv_python(root: Path) -> Path:
    if os.name == "nt":
        return root / "Scripts" / "python.exe"
    return root / "bin" / "python"


def has_requirements(data: bytes) -> bool:
    """False when the file holds only blank lines and comments (nothing to install)."""
    for line in data.decode("utf-8", errors="replace").splitlines():
        stripped = line.split(" #", 1)[0].strip()
        if stripped and not stripped.startswith("#"):
            return True
    return False


def ensure_venv(
    requirements: Path,
    *,
    cache_dir: Path,
    installer: str,
    index_args: Sequence[str] = (),
    base_python: Path | None = None,
) -> Venv:
    """A venv with exactly ``requirements`` installed, built once and then reused.

    Raises :class:`BuildError` with the installer's last lines when the install fails.
    """
    version, base = python_info(Path(base_python or sys.executable))
    data = requirements.read_bytes()
    key = venv_key(data, version, [installer, str(base), *index_args])
    with _building(key):
        return _ensure(requirements, data, key, cache_dir, installer, index_args, base)


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextlib.contextmanager
def _building(key: str) -> Iterator[None]:
    """One build of a venv at a time in this process: a second caller waits and reuses it."""
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        yield


def _ensure(
    requirements: Path,
    data: bytes,
    key: str,
    cache_dir: Path,
    installer: str,
    index_args: Sequence[str],
    base: Path,
) -> Venv:
    venvs = cache_dir / "venvs"
    final = venvs / key
    if (final / READY).is_file() and venv_python(final).exists():
        return Venv(
            python=venv_python(final),
            root=final,
            installer=installer,
            install_seconds=0.0,
            reused=True,
        )
    venvs.mkdir(parents=True, exist_ok=True)
    _remove_stale(venvs)
    if final.exists():  # not marked ready: an older layout or a foreign directory
        shutil.rmtree(final, ignore_errors=True)
    staging = Path(tempfile.mkdtemp(prefix=f".tmp-{key[:12]}-", dir=venvs))
    try:
        building = staging / "venv"
        started = time.perf_counter()
        _create(building, base, installer)
        if has_requirements(data):
            _install(building, requirements, installer, index_args)
        seconds = time.perf_counter() - started
        (building / READY).write_text(f"{requirements}\n", encoding="utf-8")
        try:
            building.rename(final)
        except OSError:
            if not (final / READY).is_file():  # lost a race to a run that also finished
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return Venv(
        python=venv_python(final),
        root=final,
        installer=installer,
        install_seconds=round(seconds, 3),
        reused=False,
    )


def _create(root: Path, base: Path, installer: str) -> None:
    if installer == "uv":
        uv = find_uv()
        assert uv is not None  # choose_installer checked
        cmd: list[str | os.PathLike[str]] = [
            uv,
            "venv",
            "--quiet",
            "--relocatable",
            "--python",
            base,
            root,
        ]
        result = run(cmd, extra_env={"UV_PYTHON_DOWNLOADS": "never"}, timeout=300)
    else:
        result = run([base, "-m", "venv", root], timeout=300)
    if result.returncode != 0:
        raise BuildError(f"cannot create a virtual environment: {tail(result.stderr, 3)}")


def _install(root: Path, requirements: Path, installer: str, index_args: Sequence[str]) -> None:
    python = venv_python(root)
    if installer == "uv":
        uv = find_uv()
        assert uv is not None
        cmd: list[str | os.PathLike[str]] = [
            uv,
            "pip",
            "install",
            "--python",
            python,
            "-r",
            requirements,
            *index_args,
        ]
    else:
        cmd = [
            python,
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "-r",
            requirements,
            *index_args,
        ]
    env = {
        key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")
    }
    result = run(cmd, cwd=requirements.parent, env=env, timeout=INSTALL_TIMEOUT)
    if result.returncode != 0:
        raise BuildError(
            f"installing {requirements.name} failed: {tail(result.stderr or result.stdout, 4)}"
        )


def _remove_stale(venvs: Path) -> None:
    """Staging directories left by killed runs, once they are clearly abandoned."""
    now = time.time()
    for child in venvs.glob(".tmp-*"):
        try:
            if now - child.stat().st_mtime > STALE_SECONDS:
                shutil.rmtree(child, ignore_errors=True)
        except OSError:
            continue
