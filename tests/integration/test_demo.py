"""``make demo`` from a fresh clone: build, then check the output, then verify one server.

A real ``git clone`` of this repository (what a new contributor has), a real ``make``, a
fresh ``.venv`` made by the Makefile, the real package index (pins and verify's venv):
marked ``network``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.network
@pytest.mark.slow
def test_make_demo_runs_build_check_and_verify_from_a_fresh_clone(tmp_path: Path) -> None:
    if not (REPO / ".git").exists() or shutil.which("make") is None:
        pytest.skip("needs a git checkout and make")
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "--quiet", "--no-hardlinks", str(REPO), str(clone)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    done = subprocess.run(
        ["make", "demo", f"PYTHON={sys.executable}"],
        cwd=clone, env=env, capture_output=True, text=True, check=False, timeout=3000,
    )  # fmt: skip
    out = done.stdout
    assert done.returncode == 0, (out + done.stderr)[-4000:]
    steps = ["== mcpbundle build ==", "== mcpbundle check --built ==", "== mcpbundle verify ops =="]
    positions = [out.index(step) for step in steps]
    assert positions == sorted(positions)  # in this order
    build, check, verify = (
        out[start:end] for start, end in zip(positions, [*positions[1:], len(out)], strict=True)
    )
    assert "built ops:" in build and "built finance:" in build
    assert "0 errors" in check
    assert "ops: ok" in verify and "1 of 1 servers passed" in verify
    assert (clone / "example-monorepo" / "dist" / "DEPLOY.md").is_file()
