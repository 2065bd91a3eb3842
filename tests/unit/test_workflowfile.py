"""`ci github --write` replaces only a workflow it wrote and nobody edited since."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mcpbundle.cli.ci_template import WORKFLOW_PATH, WorkflowSettings, github_workflow
from mcpbundle.cli.workflow_file import EditedByHand, stamped, untouched, write_workflow


def _ci(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpbundle", "ci", "github", *args],
        cwd=root, capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip


def test_the_stamp_line_records_the_hash_of_the_text() -> None:
    text = github_workflow()
    written = stamped(text)
    assert written.startswith(text)
    assert written.endswith("\n") and written.count("# mcpbundle-workflow-sha256: ") == 1
    assert untouched(written, text)
    assert untouched(text, text)  # a file written before the hash line existed
    assert not untouched(written.replace("runs-on: ubuntu-latest", "runs-on: self-hosted"), text)
    assert not untouched("name: mine\n", text)


def test_rewrites_its_own_file_refuses_a_hand_edit_and_forces(tmp_path: Path) -> None:
    path = tmp_path / WORKFLOW_PATH
    first = write_workflow(
        path, github_workflow(WorkflowSettings(python="3.11")), force=False, display="wf"
    )
    assert first.written and first.diff == ""
    again = write_workflow(
        path, github_workflow(WorkflowSettings(python="3.11")), force=False, display="wf"
    )
    assert not again.written
    newer = write_workflow(
        path, github_workflow(WorkflowSettings(python="3.12")), force=False, display="wf"
    )
    assert newer.written and '-          python-version: "3.11"' in newer.diff
    edited = path.read_text().replace("runs-on: ubuntu-latest", "runs-on: self-hosted")
    path.write_text(edited)
    with pytest.raises(EditedByHand) as raised:
        write_workflow(
            path, github_workflow(WorkflowSettings(python="3.13")), force=False, display="wf"
        )
    assert raised.value.exit_code == 1
    assert "+    runs-on: ubuntu-latest" in raised.value.diff
    assert path.read_text() == edited, "a hand edit was overwritten"
    forced = write_workflow(
        path, github_workflow(WorkflowSettings(python="3.13")), force=True, display="wf"
    )
    assert forced.written
    assert path.read_text() == stamped(github_workflow(WorkflowSettings(python="3.13")))


def test_cli_shows_the_diff_and_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "mcpbundle.toml").write_text(
        "[servers.a]\npath = 'srv'\nentrypoint = 'server.py'\n"
    )
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv/server.py").write_text("mcp = None\n")
    workflow = tmp_path / WORKFLOW_PATH
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: my deploy\non: push\n")
    refused = _ci(tmp_path, "--write")
    assert refused.returncode == 1, refused.stderr
    assert refused.stderr.splitlines() == [
        f"error: {WORKFLOW_PATH}: was edited by hand since mcpbundle wrote it (the diff above "
        "shows what --write would change); merge the changes yourself, or pass --force to "
        "overwrite it"
    ]
    assert "-name: my deploy" in refused.stdout and "+name: mcpbundle" in refused.stdout
    assert workflow.read_text() == "name: my deploy\non: push\n"
    forced = _ci(tmp_path, "--write", "--force")
    assert forced.returncode == 0, forced.stderr
    assert workflow.read_text() == _ci(tmp_path).stdout
    assert _ci(tmp_path, "--write").stdout.strip() == f"{WORKFLOW_PATH} is up to date"
