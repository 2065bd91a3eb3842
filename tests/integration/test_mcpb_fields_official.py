"""The manifest fields a config may set, against the official ``mcpb validate``
(``network``: the CLI comes from npm, :mod:`support.mcpbcli`).

Every field set to a valid value (:data:`support.mcpbcases.EVERY_FIELD`, as ``validate``
reads it) gives a manifest the CLI validates; each table ``validate`` rejects
(:data:`support.mcpbcases.BAD_FIELDS`), merged into a manifest the way a build would
merge it, is one the CLI rejects too: the config error stands for a real failure, and a
build can no longer write what ``mcpb validate`` refuses (issue 21).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from mcpbundle.config.validate import load_config
from mcpbundle.emit.mcpb_facts import Facts, Setting
from mcpbundle.emit.mcpb_manifest import Launch, manifest, render_json
from support.mcpbcases import BAD_FIELDS, EVERY_FIELD, SERVER, mcpb_table
from support.mcpbcli import mcpb_cli

pytestmark = [pytest.mark.network, pytest.mark.slow]

FACTS = Facts(
    name="a",
    version="1.0.0",
    description="A.",
    author={"name": "Team"},
    license=None,
    keywords=(),
    urls={},
    settings=(Setting(name="A", required=True, sensitive=True, default=None, read_at="s.py:1"),),
)
LAUNCH = Launch(runtime="uv", python="3.12", entry="server.py", object="mcp", platforms=("linux",))
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def mcpb_validate(overrides: dict[str, Any], work: Path) -> subprocess.CompletedProcess[str]:
    work.mkdir(parents=True)
    document = manifest(FACTS, LAUNCH, version="1.0.0", surface=None, overrides=[overrides])
    (work / "manifest.json").write_bytes(render_json(document))
    (work / "icon.png").write_bytes(PNG)
    return subprocess.run(
        [str(mcpb_cli()), "validate", str(work / "manifest.json")],
        cwd=work, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


def test_every_field_as_validate_reads_it_passes_mcpb_validate(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "srv").mkdir(parents=True)
    (repo / "srv" / "server.py").write_text("mcp = None\n")
    (repo / "mcpbundle.toml").write_text(SERVER + EVERY_FIELD)
    config = load_config(repo)
    done = mcpb_validate(dict(config.servers["a"].mcpb), tmp_path / "manifest")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "validation passes" in done.stdout
    written = json.loads((tmp_path / "manifest" / "manifest.json").read_text())
    assert written["keywords"] == ["sre", "on-call"]


def test_every_table_validate_rejects_fails_mcpb_validate_once_merged(tmp_path: Path) -> None:
    passed = []
    for case in BAD_FIELDS:
        if not case.mcpb:
            continue
        done = mcpb_validate(mcpb_table(case.toml), tmp_path / case.id)
        if done.returncode == 0:
            passed.append(case.id)
    assert passed == [], "mcpb validate accepts what validate rejects"
