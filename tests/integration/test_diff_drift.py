"""``mcpbundle diff`` against real deploy branches made by ``build --branch``, and
``verify --drift``, on a copy of the example monorepo (resolved against the wheelhouse).

The CLI runs as a subprocess; its loads use this venv's real fastmcp as is
(``MCPBUNDLE_TEST_VERIFY_PYTHON``, verify's ``python=``) instead of a venv installed
from each bundle's pins, so nothing is downloaded. Surfaces are cached by bundle hash
in the session's cache, so a bundle already loaded by an earlier test is not loaded again.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_build_example import copy_example, hermetic

from support.gitrepo import commit_all, git, init_repo
from support.monorepo import mcpbundle
from support.terminal import ANSI, run_on_terminal

SERVER_OPS = "server-ops/src/server.py"
RENAME = ("def service_name(display_name: str)", "def service_name(label: str)")
RED, YELLOW, CYAN, GREEN, BOLD, RESET = (
    "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;36m", "\x1b[1;32m", "\x1b[1m", "\x1b[0m",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _load_with_this_venv(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPBUNDLE_TEST_VERIFY_PYTHON", sys.executable)


@pytest.fixture
def example(tmp_path: Path, wheelhouse: Path) -> Path:
    repo = hermetic(copy_example(tmp_path / "example"), wheelhouse)
    (repo / ".gitignore").write_text("dist/\n")
    init_repo(repo)
    commit_all(repo, "the example")
    return repo


def _ok(cwd: Path, *args: str) -> str:
    done = mcpbundle(cwd, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def _rename_parameter(repo: Path) -> None:
    _edit(repo / SERVER_OPS, *RENAME)
    _edit(repo / SERVER_OPS, "slugify(display_name)", "slugify(label)")
    commit_all(repo, "ops: rename service_name's parameter")


def _commit_on(repo: Path, branch: str, rel: str, old: str, new: str) -> None:
    """A hand edit committed on ``branch`` (through a worktree of the test's own)."""
    where = repo.parent / f"edit-{branch.replace('/', '-')}"
    git(repo, "worktree", "add", "-q", str(where), branch)
    _edit(where / rel, old, new)
    git(where, "commit", "-q", "-am", "hand edit on the deploy branch")
    git(repo, "worktree", "remove", str(where))


def _state(repo: Path) -> tuple[str, ...]:
    """Everything of the user's that a command must not touch."""
    return (
        git(repo, "status", "--porcelain", "--untracked-files=all"),
        git(repo, "rev-parse", "HEAD"),
        git(repo, "symbolic-ref", "HEAD"),
        git(repo, "stash", "list"),
        git(repo, "worktree", "list", "--porcelain"),
        git(repo, "for-each-ref"),
        (repo / SERVER_OPS).read_text(),
        str(sorted(p.name for p in (repo / ".git").iterdir())),
    )


def test_done_when_a_renamed_parameter_fails_the_diff_and_drift_names_a_hand_edit(
    example: Path, tmp_path: Path
) -> None:
    _ok(example, "build", "--branch", "deploy")
    _rename_parameter(example)
    before = _state(example)
    failed = mcpbundle(example, "diff", "--fail-on", "breaking")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "  breaking    tool 'service_name': parameter 'display_name' renamed to 'label'" in (
        failed.stdout
    )
    (error,) = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert "ops" in error and "service_name" in error and "display_name" in error
    assert "customer: no change" in failed.stdout and "finance: no change" in failed.stdout
    table = _ok(example, "diff", "--format", "markdown")
    assert "| server | level | what | change |" in table
    assert (
        "| ops | **breaking** | tool `service_name` | parameter 'display_name' renamed to 'label' |"
    ) in table
    assert "No change to the MCP surface of customer, finance." in table
    assert _ok(example, "diff", "--fail-on", "breaking", "customer").startswith(
        "customer: no change"
    )

    fresh = mcpbundle(example, "verify", "--drift")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert "no drift" in fresh.stdout
    assert _state(example) == before, "diff and drift never touch the user's checkout"
    _commit_on(example, "deploy", SERVER_OPS, '"""Report that', '"""Hotfix: report that')
    before = _state(example)
    drifted = mcpbundle(example, "verify", "--drift")
    assert drifted.returncode == 1, drifted.stdout + drifted.stderr
    assert f"    {SERVER_OPS}: differs from a rebuild; does not match its digest" in drifted.stdout
    (error,) = [line for line in drifted.stderr.splitlines() if line.startswith("error:")]
    assert SERVER_OPS in error
    assert "customer: no drift" in drifted.stdout
    assert _state(example) == before, "diff and drift never touch the user's checkout"


def test_the_pull_request_job_puts_the_table_in_the_summary_and_gates_on_fail_on(
    example: Path, tmp_path: Path
) -> None:
    """The diff step of the workflow `ci github` writes, run as the runner would."""
    config = example / "mcpbundle.toml"
    config.write_text(config.read_text() + "\n[ci]\nfail-on = 'breaking'\n")
    commit_all(example, "gate pull requests on breaking changes")
    _ok(example, "build", "--branch", "deploy")
    _rename_parameter(example)
    workflow = yaml.safe_load(_ok(example, "ci", "github"))
    (step,) = [s for s in workflow["jobs"]["diff"]["steps"] if "mcpbundle diff" in s.get("run", "")]
    summary = tmp_path / "summary.md"
    env = {
        **os.environ,
        "SERVERS": json.dumps(["customer", "ops"]),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_STEP_SUMMARY": str(summary),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]], cwd=example, env=env, capture_output=True, text=True,
        check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    text = summary.read_text()
    assert "### MCP surface changes against `deploy (" in text
    assert "| ops | **breaking** | tool `service_name` |" in text
    assert "No change to the MCP surface of customer." in text
    assert "finance" not in text, "only the affected servers"


def test_unchanged_servers_are_read_from_the_cache_and_json_says_so(example: Path) -> None:
    _ok(example, "build", "--branch", "deploy")
    first = mcpbundle(example, "diff", "--format", "json", "--fail-on", "info")
    assert first.returncode == 0, first.stderr
    document = json.loads(first.stdout)
    assert [s["status"] for s in document["servers"]] == ["unchanged"] * 3
    assert document["summary"] == {"breaking": 0, "compatible": 0, "info": 0}
    assert document["against"]["ref"].startswith("deploy (") and not document["against"]["split"]
    again = mcpbundle(example, "diff", "--format", "json")
    assert json.loads(again.stdout) == document
    assert "loading the bundle" not in again.stderr, "every surface came from the cache"


def test_new_and_removed_servers_and_the_other_formats(example: Path) -> None:
    _ok(example, "build", "--branch", "deploy")
    config = example / "mcpbundle.toml"
    text = config.read_text()
    start = text.index("[servers.customer]")
    config.write_text(
        text[:start] + text[text.index("[servers.finance]") :]
        + '\n[servers.ops2]\npath = "server-ops2"\nentrypoint = "src/server.py"\n'
    )  # fmt: skip
    shutil.copytree(example / "server-ops", example / "server-ops2")
    commit_all(example, "customer leaves, ops2 arrives")
    done = mcpbundle(example, "diff", "--fail-on", "breaking")
    assert done.returncode == 1
    assert "customer: server removed" in done.stdout and "ops2: new server" in done.stdout
    github = _ok(example, "diff", "--format", "github")
    assert "::error title=MCP surface%3A customer (breaking)::customer: server removed" in github
    assert "::warning title=MCP surface%3A ops2 (compatible)::ops2: new server" in github
    assert _ok(example, "diff", "--fail-on", "compatible", "ops").startswith("ops: no change")


def test_bad_refs_are_one_line_and_no_deploy_branch_means_every_server_is_new(
    example: Path,
) -> None:
    first = _ok(example, "diff", "--fail-on", "breaking")
    assert "no deploy branch yet: every server is new" in first
    assert "ops: new server" in first
    for ref, says in (("no-such-ref", "names no commit"), ("main", "holds no mcpbundle-manifest")):
        done = mcpbundle(example, "diff", "--against", ref)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    unknown = mcpbundle(example, "diff", "nope")
    assert unknown.returncode == 2 and "unknown server 'nope'" in unknown.stderr


def test_split_branches_diff_and_drift_per_server(example: Path) -> None:
    _ok(example, "build", "--branch", "deploy", "--split")
    _edit(example / SERVER_OPS, "def health_check()", "def health_check(verbose: bool = False)")
    commit_all(example, "ops: health_check takes an optional flag")
    out = _ok(example, "diff")
    assert "  compatible  tool 'health_check': optional parameter 'verbose' added" in out
    assert "against deploy/<server>" in out
    only = _ok(example, "diff", "--against", "deploy/ops", "ops")
    assert "optional parameter 'verbose' added" in only and "against deploy/ops (" in only
    fresh = mcpbundle(example, "verify", "--drift")
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert [line for line in fresh.stdout.splitlines() if "no drift" in line] == [
        "  customer: no drift", "  finance: no drift", "  ops: no drift",
        "no drift: the deploy matches a rebuild of its source",
    ]  # fmt: skip
    _commit_on(example, "deploy/ops", "src/server.py", '"""Report that', '"""Hotfix: report that')
    drifted = mcpbundle(example, "verify", "--drift", "--json")
    assert drifted.returncode == 1
    (ops,) = [b for b in json.loads(drifted.stdout)["branches"] if b["branch"] == "deploy/ops"]
    assert ops["servers"]["ops"][0]["path"] == "src/server.py"


def test_drift_after_a_change_of_pins_names_the_requirements_file(example: Path) -> None:
    _ok(example, "build", "--branch", "deploy")
    rel = "server-ops/requirements.txt"
    assert "alpha==2.0\n" in git(example, "show", f"deploy:{rel}")
    _commit_on(example, "deploy", rel, "alpha==2.0\n", "alpha==1.1\n")
    done = mcpbundle(example, "verify", "--drift", "--json")
    assert done.returncode == 1, done.stderr
    (branch,) = json.loads(done.stdout)["branches"]
    assert branch["servers"] == {
        "ops": [{"path": rel, "problems": [
            "differs from a rebuild", "does not match its digest in the manifest",
        ]}]
    }  # fmt: skip
    assert branch["built"] != branch["tip"], "the source was read from the mcpbundle commit"
    assert rel in done.stderr


def _three_levels(repo: Path) -> None:
    """One change of each level to ops: breaking, compatible and info."""
    _rename_parameter(repo)
    _edit(repo / SERVER_OPS, "def health_check()", "def health_check(verbose: bool = False)")
    _edit(repo / SERVER_OPS, "Parse a duration such as", "Parse a duration like")
    commit_all(repo, "ops: one change of each level")


def test_quiet_diff_and_drift_print_only_what_fails_and_json_always(example: Path) -> None:
    """Issue 20: -q prints errors and warnings (-qq errors), no report or summary; a
    breaking change and a drift are the errors, a compatible change the warning."""
    _ok(example, "build", "--branch", "deploy")
    _three_levels(example)
    full = _ok(example, "diff")
    assert "customer: no change" in full and "\nagainst deploy (" in full
    assert "  info        tool 'duration_seconds'" in full
    quiet = _ok(example, "diff", "-q")
    assert quiet.splitlines() == [
        "ops: 3 changes",
        "  breaking    tool 'service_name': parameter 'display_name' renamed to 'label'",
        "  compatible  tool 'health_check': optional parameter 'verbose' added",
    ]
    assert _ok(example, "-qq", "diff").splitlines() == quiet.splitlines()[:2]
    failed = mcpbundle(example, "diff", "-qq", "--fail-on", "info")  # what fails is shown
    assert failed.returncode == 1
    assert failed.stdout.splitlines()[1:] == [
        *quiet.splitlines()[1:], "  info        tool 'duration_seconds': description changed",
    ]  # fmt: skip
    assert failed.stderr.startswith("error: diff --fail-on info: ops: ")
    assert _ok(example, "diff", "-qq", "customer") == ""
    document = json.loads(_ok(example, "diff", "-qq", "--json"))
    assert document["summary"] == {"breaking": 1, "compatible": 1, "info": 1}

    none = mcpbundle(example, "verify", "--drift", "-qq")
    assert (none.returncode, none.stdout) == (0, ""), none.stderr
    _commit_on(example, "deploy", SERVER_OPS, '"""Report that', '"""Hotfix: report that')
    for flag in ("-q", "-qq"):
        drifted = mcpbundle(example, "verify", "--drift", flag)
        assert drifted.returncode == 1
        lines = drifted.stdout.splitlines()
        assert lines[0].startswith("deploy: tip ") and lines[1:] == [
            "  ops: 1 path differs",
            f"    {SERVER_OPS}: differs from a rebuild; does not match its digest in the manifest",
        ]  # fmt: skip
        assert drifted.stderr.startswith("error: verify --drift: the deploy differs")
    as_json = json.loads(_ok_or_failed(example, "verify", "--drift", "-qq", "--json"))
    assert as_json["ok"] is False and list(as_json["branches"][0]["servers"]) == ["ops"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    return {**env, **extra}


def test_diff_and_drift_are_coloured_on_a_terminal_and_never_when_piped(example: Path) -> None:
    """Issue 20: levels (breaking as an error, compatible as a warning, info as info),
    paths and the summary line in colour on a terminal, as check's report; a pipe,
    NO_COLOR, TERM=dumb or --color never get none, and a pipe never imports the colour code."""
    _ok(example, "build", "--branch", "deploy")
    _three_levels(example)
    shown = run_on_terminal(example, "diff", env=_env())
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert f"{BOLD}customer{RESET}: {GREEN}no change{RESET}" in lines
    assert f"{BOLD}ops{RESET}: 3 changes" in lines
    assert (
        f"  {RED}breaking{RESET}    tool 'service_name': parameter 'display_name' renamed to "
        "'label'"
    ) in lines
    assert (
        f"  {YELLOW}compatible{RESET}  tool 'health_check': optional parameter 'verbose' added"
    ) in lines
    assert f"  {CYAN}info{RESET}        tool 'duration_seconds': description changed" in lines
    assert lines[-1].startswith(f"{BOLD}against deploy (") and lines[-1].endswith(RESET)
    piped = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "mcpbundle", "diff"],
        cwd=example, env=_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert piped.returncode == 0 and "  breaking    tool 'service_name'" in piped.stdout
    assert ANSI not in piped.stdout and "mcpbundle.cli.colour" not in piped.stderr
    for env, args in ((_env(NO_COLOR="1"), ["diff"]), (_env(TERM="dumb"), ["diff", "ops"])):
        plain = run_on_terminal(example, *args, env=env)
        assert plain.returncode == 0 and "ops: 3 changes" in plain.stdout
        redraws = plain.stderr.replace("\x1b[K", "")  # a progress line redrawn: no colour
        assert ANSI not in plain.stdout + redraws, args
    as_json = run_on_terminal(example, "diff", "--json", env=_env())
    assert ANSI not in as_json.stdout and json.loads(as_json.stdout)["summary"]["breaking"] == 1

    _commit_on(example, "deploy", SERVER_OPS, '"""Report that', '"""Hotfix: report that')
    drifted = run_on_terminal(example, "verify", "--drift", env=_env())
    assert drifted.returncode == 1
    lines = drifted.stdout.splitlines()
    assert lines[0].startswith(f"{BOLD}deploy{RESET}: tip ")
    assert f"  {BOLD}customer{RESET}: {GREEN}no drift{RESET}" in lines
    assert f"  {BOLD}ops{RESET}: {RED}1 path differs{RESET}" in lines
    assert (
        f"    {BOLD}{SERVER_OPS}{RESET}: differs from a rebuild; does not match its digest in "
        "the manifest"
    ) in lines
    assert lines[-1] == f"{BOLD}drift: 1 path differs on deploy{RESET}"
    never = run_on_terminal(example, "verify", "--drift", "--color", "never", env=_env())
    assert never.returncode == 1 and "  ops: 1 path differs" in never.stdout
    assert ANSI not in never.stdout + never.stderr.replace("\x1b[K", "")


def _ok_or_failed(cwd: Path, *args: str) -> str:
    done = mcpbundle(cwd, *args)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout


def test_surface_prints_what_the_built_server_exposes(example: Path) -> None:
    document = json.loads(_ok(example, "surface", "ops", "--json"))
    assert document["server"] == "ops"
    tools = {t["name"]: t for t in document["surface"]["tools"]}
    assert sorted(tools) == [
        "duration_seconds", "error_budget", "health_check", "service_name", "uptime_percentage",
    ]  # fmt: skip
    assert tools["service_name"]["input_schema"]["required"] == ["display_name"]
    text = _ok(example, "surface", "ops")
    assert text.startswith("ops: 5 tools, ")
    assert "  service_name(display_name: string) -> object" in text
    assert mcpbundle(example, "surface", "nope").returncode == 2


@pytest.mark.network
@pytest.mark.slow
def test_the_real_thing_loads_both_sides_in_venvs_from_their_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test interpreter: both sides of ops load in a venv installed from PyPI (one venv,
    shared by requirements hash, since the change keeps the pins)."""
    monkeypatch.delenv("MCPBUNDLE_TEST_VERIFY_PYTHON")
    repo = copy_example(tmp_path / "example")
    (repo / ".gitignore").write_text("dist/\n")
    init_repo(repo)
    commit_all(repo, "the example")
    _ok(repo, "build", "--branch", "deploy")
    _rename_parameter(repo)
    failed = mcpbundle(repo, "diff", "ops", "--fail-on", "breaking")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "tool 'service_name': parameter 'display_name' renamed to 'label'" in failed.stdout
