"""Target Pythons for the tests: a real newer interpreter in a private bin dir, or none.

``newer_python()`` finds a real interpreter newer than the running one that has
syntax the running one rejects (``SAMPLES``), checked by running it (a pyenv shim
that cannot run the version does not count). ``isolated_path()`` is an
environment in which mcpbundle finds exactly the interpreters of one bin dir:
``PATH`` is that dir plus the system dirs, ``PYENV_ROOT`` an empty dir.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

RUNNING = (sys.version_info.major, sys.version_info.minor)

# Syntax each version added, with a module-level server object after it.
SAMPLES = {
    (3, 12): "type UserId = int\n",
    (3, 13): "def first[T = int](items: list[T]) -> T:\n    return items[0]\n",
    (3, 14): 'GREETING = t"hello {1 + 1}"\n',
}
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class TargetPython:
    version: str  # "3.12"
    executable: Path  # the real interpreter
    sample: str  # code only this version (and later) parses


def _runs_as(exe: str, version: str) -> bool:
    try:
        done = subprocess.run(
            [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == version


def _candidates(version: str) -> list[str]:
    found = []
    on_path = shutil.which(f"python{version}")
    if on_path:
        found.append(on_path)
    pyenv = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    found += [str(p) for p in sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)]
    return found


def newer_python() -> TargetPython | None:
    """The oldest real interpreter newer than the running one with a syntax sample."""
    for key in sorted(SAMPLES):
        if key <= RUNNING:
            continue
        version = f"{key[0]}.{key[1]}"
        for exe in _candidates(version):
            if _runs_as(exe, version):
                return TargetPython(version, Path(exe), SAMPLES[key])
    return None


def next_version_sample() -> tuple[str, str] | None:
    """``(version, sample)`` for the first version after the running one, if we know one."""
    for key in sorted(SAMPLES):
        if key > RUNNING:
            return f"{key[0]}.{key[1]}", SAMPLES[key]
    return None


def isolated_env(bin_dir: Path, home: Path) -> dict[str, str]:
    """``os.environ`` in which only ``bin_dir`` (and the system dirs) hold interpreters."""
    empty = home / "pyenv-root"
    empty.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["PATH"] = f"{bin_dir}:{Path(sys.executable).parent}:{SYSTEM_PATH}"
    env["PYENV_ROOT"] = str(empty)
    env["UV_PYTHON_INSTALL_DIR"] = str(empty)  # no uv-managed interpreters either
    env.pop("PYENV_VERSION", None)
    return env


def private_bin(root: Path, target: TargetPython | None) -> Path:
    """A bin dir with ``python<version>`` linked to ``target`` (empty for None)."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    if target is not None:
        (bin_dir / f"python{target.version}").symlink_to(target.executable)
    return bin_dir


def fake_python(root: Path, version: str, body: str) -> Path:
    """A ``python<version>`` that answers the version probe (its version and, as its
    ``sys.executable``, itself) and otherwise runs ``body``.

    ``body`` is shell; ``"$@"`` are the arguments mcpbundle passed (``-I worker.py``).
    Used to reproduce a target interpreter that crashes or misbehaves."""
    bin_dir = root / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / f"python{version}"
    script.write_text(
        f'#!/bin/sh\nif [ "$1" = "-c" ]; then echo {version}; echo "$0"; exit 0; fi\n{body}\n',
        encoding="utf-8",
    )
    script.chmod(0o755)
    return bin_dir
