"""The package as published: `python -m build` gives a wheel and an sdist that install into
clean venvs without a deprecation warning and run; the installed wheel builds the example.

`network`: the clean venvs install mcpbundle's dependencies from the package index (the
build itself runs without isolation, with the dev venv's setuptools)."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_build_example import copy_example, hermetic

from mcpbundle import __version__

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.network, pytest.mark.slow]


def _run(*cmd: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True,
        check=False, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, (cmd, done.stdout[-3000:], done.stderr[-3000:])
    return done


def _venv(path: Path) -> Path:
    _run(sys.executable, "-m", "venv", path)
    return path / "bin"


def test_wheel_and_sdist_install_cleanly_and_the_wheel_builds_the_example(
    tmp_path: Path, wheelhouse: Path
) -> None:
    dist = tmp_path / "dist"
    built = _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, ROOT)
    assert "deprecat" not in (built.stdout + built.stderr).lower()
    wheel = dist / f"mcpbundle-{__version__}-py3-none-any.whl"
    sdist = dist / f"mcpbundle-{__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file()
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"mcpbundle-{__version__}.dist-info/METADATA").decode()
    assert "mcpbundle/py.typed" in names
    assert f"mcpbundle-{__version__}.dist-info/licenses/LICENSE" in names
    assert "License-Expression: MIT" in metadata and "make test" not in metadata

    bin_dir = _venv(tmp_path / "wheel-venv")
    installed = _run(bin_dir / "python", "-m", "pip", "install", wheel)
    assert "deprecat" not in (installed.stdout + installed.stderr).lower()
    assert _run(bin_dir / "mcpbundle", "--version").stdout.strip().endswith(__version__)
    repo = hermetic(copy_example(tmp_path / "example"), wheelhouse)
    _run(bin_dir / "mcpbundle", "build", cwd=repo)
    for server in ("server-ops", "server-customer", "server-finance"):
        assert "fastmcp==" in (repo / "dist" / server / "requirements.txt").read_text()
    assert _run(bin_dir / "mcpbundle", "build", cwd=repo).stdout.startswith("up to date")

    sdist_bin = _venv(tmp_path / "sdist-venv")
    from_sdist = _run(sdist_bin / "python", "-m", "pip", "install", sdist)
    assert "deprecat" not in (from_sdist.stdout + from_sdist.stderr).lower()
    _run(sdist_bin / "mcpbundle", "validate", cwd=repo)
