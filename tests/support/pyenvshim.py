"""A pyenv-like shim directory: ``pythonX.Y`` works only where a ``.python-version`` selects it.

pyenv's shims look for a ``.python-version`` in the working directory and its
parents; elsewhere (a resolver's temporary directory) ``python3.12`` fails with
"pyenv: python3.12: command not found ... Note: See 'pyenv help global' ...".
:func:`make_shims` writes such shims for real interpreters found on this machine.
"""

from __future__ import annotations

import glob
import os
import subprocess
import sys
from pathlib import Path

RUNNING = f"{sys.version_info.major}.{sys.version_info.minor}"

_SHIM = """#!/bin/sh
# Like a pyenv shim: only where a .python-version (here or above) selects {version}.
d=$PWD
while :; do
  if [ -f "$d/.python-version" ] && grep -q '^{version_re}' "$d/.python-version"; then
    exec {real} "$@"
  fi
  [ "$d" = / ] && break
  d=$(dirname "$d")
done
echo "pyenv: python{version}: command not found" >&2
echo >&2
echo "The \\`python{version}' command exists in these Python versions:" >&2
echo "  {version}.0" >&2
echo >&2
echo "Note: See 'pyenv help global' for tips on allowing multiple" >&2
echo "      Python versions to be found at the same time." >&2
exit 127
"""


def other_python() -> tuple[str, str] | None:
    """``(version, real executable)`` of an installed CPython 3.x that is not the running one."""
    roots = [os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")]
    for root in roots:
        for minor in (12, 13, 10, 14):
            version = f"3.{minor}"
            if version == RUNNING:
                continue
            for exe in sorted(glob.glob(f"{root}/versions/{version}.*/bin/python{version}")):
                done = subprocess.run(
                    [exe, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode == 0 and done.stdout.strip() == version:
                    return version, exe
    return None


def make_shims(directory: Path, versions: dict[str, str]) -> Path:
    """``directory/shims/pythonX.Y`` for each ``{version: real executable}``; returns the dir."""
    shims = directory / "shims"
    shims.mkdir(parents=True, exist_ok=True)
    for version, real in versions.items():
        shim = shims / f"python{version}"
        shim.write_text(
            _SHIM.format(version=version, version_re=version.replace(".", "\\."), real=real),
            encoding="utf-8",
        )
        shim.chmod(0o755)
    return shims
