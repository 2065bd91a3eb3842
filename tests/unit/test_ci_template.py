"""The generated GitHub Actions workflow: pinned, cached, verifying before it pushes."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from mcpbundle import __version__
from mcpbundle.base.errors import UsageError
from mcpbundle.cli.ci_template import PINNED, WORKFLOW_PATH, WorkflowSettings, github_workflow


def _load(settings: WorkflowSettings | None = None) -> dict[Any, Any]:
    data: dict[Any, Any] = yaml.safe_load(github_workflow(settings))
    data["on"] = data.pop(True, data.get("on"))  # PyYAML reads the bare key `on` as True
    return data


def _runs(job: dict[str, Any]) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_deterministic() -> None:
    assert github_workflow() == github_workflow(WorkflowSettings())
    assert WORKFLOW_PATH == ".github/workflows/mcpbundle-deploy.yml"


def test_every_action_is_pinned_to_a_full_sha_with_its_version() -> None:
    text = github_workflow(WorkflowSettings(resolver="uv"))
    uses = re.findall(r"uses: (\S+)(.*)", text)
    assert uses, text
    for action, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", action), action
        assert re.fullmatch(r" # v\d+\.\d+\.\d+", comment), (action, comment)
    assert {f"{a}{c}" for a, c in uses} == set(PINNED)


def test_install_pins_this_version_unless_overridden() -> None:
    steps = _load()["jobs"]["check"]["steps"]
    assert f"python -m pip install 'mcpbundle=={__version__}'\n" in [s.get("run") for s in steps]
    custom = github_workflow(WorkflowSettings(install="mcpbundle @ git+https://h/x.git@v1"))
    assert "python -m pip install 'mcpbundle @ git+https://h/x.git@v1'" in custom
    assert "pip install mcpbundle\n" not in custom
    # any pip requirement: a bare VCS or archive URL too (the example's "a git URL, a fork")
    for url in ("git+https://github.com/x/mcpbundle@v1", "https://h/mcpbundle-0.1.tar.gz"):
        assert f"python -m pip install '{url}'" in github_workflow(WorkflowSettings(install=url))


def test_pull_requests_check_then_verify_each_affected_server_then_summarise() -> None:
    data = _load()
    assert data["on"] == {"pull_request": {"branches": ["main"]}, "push": {"branches": ["main"]}}
    assert data["permissions"] == {"contents": "read"}
    jobs = data["jobs"]
    check = _runs(jobs["check"])
    assert check[-2] == "mcpbundle check --format github"
    assert 'mcpbundle affected --since "$BASE" --json' in check[-1]
    assert jobs["check"]["outputs"]["matrix"] == "${{ steps.affected.outputs.matrix }}"
    verify = jobs["verify"]
    assert verify["needs"] == "check" and verify["strategy"]["fail-fast"] is False
    assert verify["strategy"]["matrix"] == "${{ fromJSON(needs.check.outputs.matrix) }}"
    assert _runs(verify)[-1] == 'mcpbundle verify "$SERVER"'
    assert jobs["summary"]["needs"] == ["check", "verify", "diff"]
    for name in ("check", "verify", "diff"):
        checkout = jobs[name]["steps"][0]
        assert checkout["with"] == {"fetch-depth": 0, "persist-credentials": False}


def test_pull_requests_show_the_surface_diff_in_the_job_summary() -> None:
    jobs = _load()["jobs"]
    diff = jobs["diff"]
    assert diff["needs"] == "check"
    assert diff["if"] == (
        "github.event_name == 'pull_request' && needs.check.outputs.servers != '[]'"
    )
    (step,) = [s for s in diff["steps"] if "mcpbundle diff" in s.get("run", "")]
    assert step["env"] == {"SERVERS": "${{ needs.check.outputs.servers }}"}
    assert 'mcpbundle diff "${servers[@]}" --format markdown >' in step["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in step["run"]
    assert step["continue-on-error"] is True, "without [ci] fail-on it is shown, not a gate"
    summary = _runs(jobs["summary"])[0]
    assert 'test "$DIFF" = success || test "$DIFF" = skipped' in summary
    assert "--fail-on" not in github_workflow()


def test_ci_fail_on_makes_the_diff_a_gate() -> None:
    jobs = _load(WorkflowSettings(fail_on="breaking"))["jobs"]
    (step,) = [s for s in jobs["diff"]["steps"] if "mcpbundle diff" in s.get("run", "")]
    assert '--format markdown --fail-on breaking > "$RUNNER_TEMP/diff.md"' in step["run"]
    assert "continue-on-error" not in step
    assert 'exit "$status"' in step["run"]  # after the table reached the summary
    assert "needs.diff.result" in jobs["summary"]["steps"][0]["env"]["DIFF"]
    assert jobs["deploy"]["needs"] == ["check", "verify"]  # pushes are not gated on a diff


def test_pushes_verify_then_deploy_in_one_group_never_cancelled() -> None:
    deploy = _load(WorkflowSettings(branch="release/deploy", default_branch="trunk"))["jobs"][
        "deploy"
    ]
    assert deploy["needs"] == ["check", "verify"]
    assert "github.event_name == 'push'" in deploy["if"]
    assert "needs.verify.result == 'success'" in deploy["if"]
    assert deploy["permissions"] == {"contents": "write"}
    assert deploy["concurrency"] == {"group": "mcpbundle-deploy", "cancel-in-progress": False}
    assert _runs(deploy)[-1] == "mcpbundle build --branch release/deploy --push"
    split = _load(WorkflowSettings(split=True))["jobs"]["deploy"]
    assert _runs(split)[-1] == "mcpbundle build --branch deploy --split --push"
    assert "branches: [trunk]" in github_workflow(WorkflowSettings(default_branch="trunk"))


def test_the_cache_is_mcpbundles_keyed_on_config_requirements_and_locks() -> None:
    steps = _load(WorkflowSettings(working_directory="services/mcp"))["jobs"]["verify"]["steps"]
    (cache,) = [s for s in steps if s.get("uses", "").startswith("actions/cache@")]
    assert cache["with"]["path"] == "${{ runner.temp }}/mcpbundle-cache"
    key = cache["with"]["key"]
    for glob in ("mcpbundle.toml", "**/requirements*.txt", "**/pyproject.toml", "**/*.lock"):
        assert f"'services/mcp/{glob}'" in key
    exports = [s["run"] for s in steps if "MCPBUNDLE_CACHE_DIR" in s.get("run", "")]
    assert exports == ['echo "MCPBUNDLE_CACHE_DIR=${RUNNER_TEMP}/mcpbundle-cache" >> "$GITHUB_ENV"']


def test_uv_is_set_up_only_for_the_uv_resolver() -> None:
    assert "astral-sh/setup-uv@" not in github_workflow()
    steps = _load(WorkflowSettings(resolver="uv"))["jobs"]["check"]["steps"]
    assert [s["uses"].split("@")[0] for s in steps if "uses" in s] == [
        "actions/checkout", "actions/setup-python", "astral-sh/setup-uv", "actions/cache",
    ]  # fmt: skip


def test_working_directory_and_python_come_from_the_settings() -> None:
    data = _load(WorkflowSettings(working_directory="example-monorepo", python="3.10"))
    for name in ("check", "verify", "diff", "deploy"):
        assert data["jobs"][name]["defaults"] == {"run": {"working-directory": "example-monorepo"}}
        setup = data["jobs"][name]["steps"][1]
        assert setup["with"] == {"python-version": "3.10"}  # a string, not the float 3.1
    assert "defaults" not in data["jobs"]["summary"]  # it checks nothing out


@pytest.mark.parametrize(
    "settings",
    [
        WorkflowSettings(python="3"),
        WorkflowSettings(branch="a b"),
        WorkflowSettings(branch="x..y"),
        WorkflowSettings(default_branch="$(boom)"),
        WorkflowSettings(install="mcpbundle'; rm -rf ~; '"),
        WorkflowSettings(install="not a requirement !"),
        WorkflowSettings(install="git+https://tok3n@github.com/x/mcpbundle@v1"),
        WorkflowSettings(install="mcpbundle @ git+https://u:tok3n@github.com/x/mcpbundle"),
        WorkflowSettings(install="git+https://github.com/x/y@v1 --pre"),
        WorkflowSettings(working_directory="../elsewhere"),
        WorkflowSettings(working_directory="a dir"),
        WorkflowSettings(fail_on="everything"),
    ],
)
def test_rejects_unsafe_values(settings: WorkflowSettings) -> None:
    with pytest.raises(UsageError):
        github_workflow(settings)
