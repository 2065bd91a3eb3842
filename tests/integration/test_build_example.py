"""``mcpbundle build`` on a copy of example-monorepo/.

* hermetic: the copy's requirements are rewritten to the test wheelhouse
  (fastmcp -> the fake fastmcp, pydantic -> alpha, python-dateutil -> beta), so the
  layout, vendoring, exclusions and manifest are checked offline; ops and customer
  are then loaded by this venv's real fastmcp (it has pydantic, which they import).
* ``network``: the unmodified example against the real index; every server is
  installed into its own fresh venv (uv, from the built requirements.txt) and
  loaded with ``fastmcp inspect`` from a directory outside the output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_build_cli import run_cli, tree

from mcpbundle.emit.manifest import sha256_file
from support.fastmcpcli import FASTMCP, run_inspect, tool_names

EXAMPLE = Path(__file__).resolve().parents[2] / "example-monorepo"
TOOLS = {
    "ops": {"health_check", "uptime_percentage", "error_budget", "duration_seconds",
            "service_name"},
    "customer": {"list_segments", "normalize_contact", "customer_handle", "churn_risk"},
    "finance": {"list_currencies", "amortization_schedule", "due_dates", "fiscal_period",
                "ledger_balances"},
}  # fmt: skip


def copy_example(dest: Path) -> Path:
    shutil.copytree(
        EXAMPLE, dest, ignore=shutil.ignore_patterns("dist", ".venv", "__pycache__", "*.pyc")
    )
    return dest


def hermetic(repo: Path, wheelhouse: Path) -> Path:
    swaps = {"fastmcp>=2.12": "fastmcp", "pydantic>=2": "alpha", "python-dateutil>=2.8": "beta"}
    for rel in (
        "server-ops/requirements.txt",
        "server-customer/requirements.txt",
        "server-finance/requirements.txt",
        "shared-utils/pyproject.toml",
        "shared-core/pyproject.toml",
    ):
        path = repo / rel
        text = path.read_text()
        for old, new in swaps.items():
            text = text.replace(old, new)
        path.write_text(text)
    toml = repo / "mcpbundle.toml"
    toml.write_text(
        toml.read_text().replace(
            "[bundle]\n",
            f"[bundle]\nno-index = true\nfind-links = [{json.dumps(str(wheelhouse))}]\n",
            1,
        )
    )
    return repo


def inspect(out: Path, entrypoint: str, cwd: Path, fastmcp: Path = FASTMCP) -> set[str]:
    return set(tool_names(run_inspect(out / entrypoint, cwd, fastmcp)))


def check_layout(out: Path) -> dict[str, object]:
    files = set(tree(out))
    for server in ("server-ops", "server-customer", "server-finance"):
        assert f"{server}/requirements.txt" in files
        assert f"{server}/requirements.in" in files
        assert f"{server}/.env.example" in files
    assert "server-ops/src/shared_utils/text.py" in files
    assert "server-customer/src/shared_utils/settings.py" in files
    assert "server-finance/src/shared_core/ledger.py" in files
    assert "server-finance/src/shared_utils/validation.py" in files  # core requires utils
    assert "server-ops/src/ops_durations.py" in files
    assert not any("/tests/" in f or f.startswith("notebooks") for f in files)
    assert not any(f.startswith(("shared-utils/", "shared-core/")) for f in files)
    for server in ("server-ops", "server-customer", "server-finance"):
        req_in = (out / server / "requirements.in").read_text()
        assert "shared" not in req_in.replace("# Generated", "").split("Do not edit.")[-1]
        txt = (out / server / "requirements.txt").read_text()
        assert "-e " not in txt
        assert "file:" not in txt.replace("Requirements file:", "")
    manifest = json.loads((out / "mcpbundle-manifest.json").read_text())
    assert set(manifest["servers"]) == {"ops", "customer", "finance"}
    assert manifest["servers"]["finance"]["entrypoint"] == "server-finance/src/server.py:app"
    assert manifest["servers"]["finance"]["shared"] == ["core", "utils"]
    for entry in manifest["servers"].values():
        for rel, digest in entry["files"].items():
            assert sha256_file(out / rel) == digest
    deploy = (out / "DEPLOY.md").read_text()
    assert "FINANCE_CURRENCY" in deploy
    assert "EUR" not in deploy
    return manifest


def test_example_builds_hermetically(tmp_path: Path, wheelhouse: Path) -> None:
    repo = hermetic(copy_example(tmp_path / "example"), wheelhouse)
    run_cli(repo, "build")
    out = repo / "dist"
    manifest = check_layout(out)
    for entry in manifest["servers"].values():  # type: ignore[attr-defined]
        assert entry["changed-by"] == {"commit": None, "dirty": False}  # not a git checkout
    second = tmp_path / "second"
    run_cli(repo, "build", "-o", str(second))
    assert tree(second) == tree(out)
    for rel, (_, data) in tree(out).items():
        assert str(tmp_path).encode() not in data, rel
        assert str(wheelhouse).encode() not in data, rel
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # this venv's fastmcp + pydantic: ops and customer need nothing else (finance needs
    # python-dateutil, which only the network test installs)
    assert inspect(out, "server-ops/src/server.py:mcp", elsewhere) == TOOLS["ops"]
    assert inspect(out, "server-customer/src/server.py:mcp", elsewhere) == TOOLS["customer"]


@pytest.mark.network
@pytest.mark.slow
def test_example_builds_and_every_server_loads_in_its_own_venv(tmp_path: Path) -> None:
    repo = copy_example(tmp_path / "example")
    run_cli(repo, "build")
    manifest = check_layout(repo / "dist")
    # The deploy branch: made twice, pushed to a bare origin, it holds one commit whose
    # checkout alone (without the monorepo) is what every server is loaded from below.
    origin = tmp_path / "origin.git"
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "init"],
                 ["init", "-q", "--bare", str(origin)],
                 ["remote", "add", "origin", origin.as_uri()]):  # fmt: skip
        subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)
    run_cli(repo, "build", "--branch", "deploy", "--push")
    run_cli(repo, "build", "--branch", "deploy", "--push")
    log = subprocess.run(
        ["git", "log", "--oneline", "deploy"], cwd=origin, check=True, capture_output=True,
        text=True,
    ).stdout.splitlines()  # fmt: skip
    assert len(log) == 1, log
    out = tmp_path / "deployed"
    subprocess.run(
        ["git", "clone", "-q", "--branch", "deploy", origin.as_uri(), str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    assert not (out / "mcpbundle.toml").exists()
    pins = (out / "server-finance/requirements.txt").read_text()
    assert "python-dateutil==" in pins
    assert "fastmcp==" in pins
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    assert uv is not None, "uv comes with the dev dependencies"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    for name, entry in sorted(manifest["servers"].items()):
        venv = tmp_path / f"venv-{name}"
        for cmd in (
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
             "-r", str(out / entry["requirements"])],
        ):  # fmt: skip
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            assert done.returncode == 0, done.stderr[-3000:]
        tools = inspect(out, entry["entrypoint"], elsewhere, fastmcp=venv / "bin" / "fastmcp")
        assert tools == TOOLS[name], name
