"""The generated GitHub Actions workflow."""

from __future__ import annotations

from typing import Any

import pytest

from mcpbundle.ci_template import WORKFLOW_PATH, github_workflow
from mcpbundle.errors import UsageError


def test_deterministic() -> None:
    assert github_workflow() == github_workflow(python="3.12", branch="deploy")
    assert WORKFLOW_PATH == ".github/workflows/mcpbundle-deploy.yml"


def test_contains_the_steps() -> None:
    text = github_workflow()
    for needle in (
        "branches: [main]",
        "group: mcpbundle-deploy",
        "cancel-in-progress: false",
        "contents: write",
        "fetch-depth: 0",
        "actions/setup-python",
        'python-version: "3.12"',
        "run: pip install mcpbundle",
        "run: mcpbundle check",
        "run: mcpbundle build --branch deploy --push",
    ):
        assert needle in text
    assert text.index("mcpbundle check") < text.index("mcpbundle build")


def test_parses_as_yaml() -> None:
    yaml = pytest.importorskip("yaml")
    data: dict[Any, Any] = yaml.safe_load(github_workflow(python="3.10", branch="release/deploy"))
    # PyYAML reads the bare key `on` as True.
    trigger = data.get("on", data.get(True))
    assert trigger == {"push": {"branches": ["main"]}}
    assert data["concurrency"] == {"group": "mcpbundle-deploy", "cancel-in-progress": False}
    assert data["permissions"] == {"contents": "write"}
    steps = data["jobs"]["deploy"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    assert steps[0]["with"] == {"fetch-depth": 0}
    assert steps[1]["with"] == {"python-version": "3.10"}  # a string, not the float 3.1
    runs = [step["run"] for step in steps if "run" in step]
    assert runs == [
        "pip install mcpbundle",
        "mcpbundle check",
        "mcpbundle build --branch release/deploy --push",
    ]


@pytest.mark.parametrize(("python", "branch"), [("3", "deploy"), ("3.12", "a b"), ("3.12", "x..y")])
def test_rejects_unsafe_values(python: str, branch: str) -> None:
    with pytest.raises(UsageError):
        github_workflow(python=python, branch=branch)
