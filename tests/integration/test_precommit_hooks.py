"""`.pre-commit-hooks.yaml` through the real `pre-commit try-repo` on a copy of the example.

try-repo clones this checkout from its local path into a private PRE_COMMIT_HOME and
pip-installs it there: that install needs the package index for mcpbundle's dependencies
and build backend, hence `network`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_build_example import copy_example

from support.gitrepo import commit_all, init_repo

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
pytestmark = [pytest.mark.network, pytest.mark.slow]


def _try(repo: Path, home: Path, hook: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PRE_COMMIT_HOME=str(home), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return subprocess.run(
        [str(PRE_COMMIT), "try-repo", str(ROOT), hook, "--all-files", "--color", "never"],
        cwd=repo, env=env, capture_output=True, text=True, check=False, timeout=900,
    )  # fmt: skip


def test_validate_and_check_hooks_pass_then_catch_a_broken_config(tmp_path: Path) -> None:
    repo = init_repo(copy_example(tmp_path / "example"))
    commit_all(repo, "the example")
    home = tmp_path / "pre-commit-home"
    for hook, title in (("mcpbundle-validate", "mcpbundle validate"),
                        ("mcpbundle-check", "mcpbundle check")):  # fmt: skip
        done = _try(repo, home, hook)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert title in done.stdout and "Passed" in done.stdout
    config = repo / "mcpbundle.toml"
    config.write_text(config.read_text().replace('entrypoint = "src/server.py:app"',
                                                 'entrypoint = "src/missing.py"'))  # fmt: skip
    commit_all(repo, "a broken entrypoint")
    failed = _try(repo, home, "mcpbundle-validate")
    assert failed.returncode == 1, failed.stdout
    assert "Failed" in failed.stdout and "servers.finance.entrypoint" in failed.stdout
