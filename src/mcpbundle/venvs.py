"""Cached, throwaway virtual environments: one per distinct ``requirements.txt``.

A venv lives in ``CACHE/venvs/<key>``, where the key is the sha256 of the
requirements bytes, the interpreter's version and the install options. It is
built in a temporary directory beside it and renamed into place only once the
install succeeded and the ready marker is written, so a killed run never leaves
a half-built venv that looks ready. Scripts in ``bin/`` are not used (they would
name the temporary path); everything runs as ``<venv>/bin/python -m ...``.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mcpbundle.errors import BuildError
from mcpbundle.runner import run, tail

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


def find_uv() -> str | None:
    """The ``uv`` binary: on PATH, else the one the ``uv`` Python package ships."""
    found = shutil.which("uv")
    if found:
        return found
    try:
        module = importlib.import_module("uv")
        path = str(module.find_uv_bin())
    except (ImportError, AttributeError, FileNotFoundError):
        return None
    return path if Path(path).is_file() else None


def choose_installer(installer: str | None) -> str:
    """``installer`` checked, or uv when available and pip otherwise."""
    if installer is None:
        return "uv" if find_uv() else "pip"
    if installer not in INSTALLERS:
        raise BuildError(f"unknown installer {installer!r}", hint="use 'uv' or 'pip'")
    if installer == "uv" and find_uv() is None:
        raise BuildError("uv was requested but is not installed", hint="pip install uv")
    return installer


def python_version(python: Path) -> str:
    """``implementation-X.Y.Z`` of ``python`` (asked only when it is not this interpreter)."""
    if Path(python) == Path(sys.executable):
        return f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}"
    code = (
        "import sys; "
        "print(sys.implementation.name + '-' + '.'.join(map(str, sys.version_info[:3])))"
    )
    result = run([python, "-c", code], timeout=60)
    if result.returncode != 0:
        raise BuildError(f"cannot run {python}: {tail(result.stderr)}")
    return result.stdout.strip()


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
    base = Path(base_python or sys.executable)
    data = requirements.read_bytes()
    key = venv_key(data, python_version(base), [installer, *index_args])
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
