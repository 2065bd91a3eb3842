"""``verify`` builds first only when ``build`` would: it asks the build itself.

The servers' requirements come from ``pyproject.toml`` ([project].dependencies),
the case where verify used to call an output stale right after ``build`` said
``up to date``. The loads are replaced by a recorder: only the freshness test and
the arguments verify is given are under test here.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from mcpbundle.config.validate import load_config
from mcpbundle.verify import from_config as verifyrun
from mcpbundle.verify.verifier import VerifyReport
from support.monorepo import mcpbundle, write


@pytest.fixture
def repo(tmp_path: Path, wheelhouse: Path) -> Path:
    root = tmp_path / "repo"
    write(
        root,
        {
            "mcpbundle.toml": (
                "[bundle]\nno-index = true\n"
                f"find-links = [{json.dumps(str(wheelhouse))}]\n"
                "[shared.utils]\npath = 'libs/utils'\n"
                "[servers.ops]\npath = 'ops'\nentrypoint = 'src/ops/server.py'\n"
                "verify-timeout = 30\nverify-memory = '1GiB'\n"
            ),
            "libs/utils/pyproject.toml": "[project]\nname = 'acme-utils'\nversion = '1.0'\n",
            "libs/utils/acme_utils/__init__.py": "def shout(s):\n    return s.upper()\n",
            "ops/pyproject.toml": (
                "[project]\nname = 'ops'\nversion = '0.1'\n"
                "dependencies = ['fastmcp>=4', 'alpha', 'acme-utils']\n"
                "[tool.uv.sources]\nacme-utils = { workspace = true }\n"
            ),
            "ops/src/ops/__init__.py": "",
            "ops/src/ops/server.py": (
                "from fastmcp import FastMCP\nfrom acme_utils import shout\n\n"
                "mcp = FastMCP('ops')\n"
            ),
        },
    )
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    again = mcpbundle(root, "build")
    assert "up to date" in again.stdout + again.stderr
    return root


def recorded_run(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, object], int, int]:
    seen: dict[str, object] = {}

    def fake_verify(**kwargs: object) -> VerifyReport:
        seen.update(kwargs)
        return VerifyReport(())

    monkeypatch.setattr(verifyrun, "verify", fake_verify)
    manifest = repo / "dist" / "mcpbundle-manifest.json"
    before = manifest.stat().st_ino
    verifyrun.run_verify(load_config(repo), servers=[], http=False, env_file=None, output=None)
    return seen, before, manifest.stat().st_ino


def test_verify_right_after_build_does_not_rebuild(
    repo: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="mcpbundle"):
        seen, before, after = recorded_run(repo, monkeypatch)
    assert after == before, "the output was not written again"
    assert not [r for r in caplog.records if "stale" in r.getMessage()]
    assert seen["servers"] == ["ops"]


def test_a_changed_source_is_built_first(
    repo: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server = repo / "ops" / "src" / "ops" / "server.py"
    server.write_text(server.read_text() + "\n# changed\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="mcpbundle"):
        _, before, after = recorded_run(repo, monkeypatch)
    assert after != before
    messages = [r.getMessage() for r in caplog.records]
    assert "output was missing or stale: built it first" in messages
    assert "# changed" in (repo / "dist" / "ops" / "src" / "ops" / "server.py").read_text()


def test_config_settings_reach_verify(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen, _, _ = recorded_run(repo, monkeypatch)
    limits = seen["limits"]
    assert isinstance(limits, dict)
    assert limits["ops"].timeout == 30.0
    assert limits["ops"].memory == 1 << 30
    assert seen["protect"] == (repo.resolve(), repo.resolve() / "dist")
    assert seen["target_python"] is None


def test_jobs_must_be_positive(repo: Path) -> None:
    done = mcpbundle(repo, "verify", "-j", "0")
    assert done.returncode == 2
    assert "'-j' / '--jobs'" in done.stderr
    assert "Traceback" not in done.stderr
