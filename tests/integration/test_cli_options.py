"""The CLI a uv or ruff user expects: quiet is quiet, global options on both sides of the
command, ``--format text|json`` (``--json`` its alias) everywhere, colour on a terminal only.

Everything runs the real CLI in a subprocess; colour is judged on a pseudo-terminal
(:mod:`support.terminal`), as a user's shell shows it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mcpbundle.cli.app import cli
from mcpbundle.cli.options import GlobalOption
from support.gitrepo import commit_all, init_repo
from support.monorepo import make_monorepo, mcpbundle, write
from support.terminal import ANSI, run_on_terminal

GLOBAL = {"--config", "--quiet", "--verbose", "--debug", "--color"}
RED, YELLOW, BOLD = "\x1b[1;31m", "\x1b[1;33m", "\x1b[1m"
# A warning finding (MCB010), an info (MCB007: sales reads a variable, has no .env.example).
FINDINGS = {
    "sales/app.py": (
        "import datetime, os\nfrom acme_core import shout\n\nSTAMP = datetime.datetime.utcnow()\n"
        "MODE = os.environ.get('SALES_MODE', 'dev')\napp = object()\n"
    ),
}
BROKEN = {"ops/src/server.py": "from fastmcp import FastMCP\nmcp = FastMCP('ops')\nmcp.run()\n"}


@pytest.fixture
def loose(tmp_path: Path, wheelhouse: Path) -> Path:
    """The support monorepo without ``[bundle] python``: every command warns about it."""
    root = make_monorepo(tmp_path / "loose", wheelhouse)
    config = root / "mcpbundle.toml"
    config.write_text("\n".join(line for line in config.read_text().splitlines()
                                if not line.startswith("python =")) + "\n")  # fmt: skip
    (root / ".python-version").unlink(missing_ok=True)
    return root


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    env.update(extra)
    return env


def _commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += _commands(command, (*path, name))
    return found


# --------------------------------------------------------------------------- quiet


def test_quiet_prints_errors_and_warnings_and_qq_errors_only(loose: Path) -> None:
    loud = mcpbundle(loose, "build")
    assert loud.returncode == 0, loud.stderr
    assert "output: dist" in loud.stdout and "warning: no [bundle] python" in loud.stderr
    (loose / "ops" / "src" / "server.py").write_text("mcp = 1\n")  # a real rebuild
    quiet = mcpbundle(loose, "build", "-q")
    assert (quiet.returncode, quiet.stdout) == (0, "")
    assert quiet.stderr.startswith("warning: no [bundle] python")  # no progress lines
    assert "resolving" not in quiet.stderr and quiet.stderr.count("\n") == 1
    for args in (["build", "-qq"], ["-qq", "build"], ["-q", "build", "-q"]):
        done = mcpbundle(loose, *args)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), args
    as_json = mcpbundle(loose, "-q", "build", "--format", "json")
    assert json.loads(as_json.stdout)["up_to_date"] is True  # asked-for data still prints
    assert mcpbundle(loose, "validate", "-q").stdout == ""
    (loose / "sales" / "requirements.txt").write_text("-e ../nowhere\n")
    failed = mcpbundle(loose, "build", "-qq")
    assert failed.returncode == 2 and failed.stdout == ""
    assert failed.stderr.startswith("error: ") and failed.stderr.count("\n") == 1


def test_check_quiet_keeps_errors_and_warnings_and_qq_errors(repo: Path) -> None:
    write(repo, {**FINDINGS, **BROKEN})
    full = mcpbundle(repo, "check")
    assert {"MCB002", "MCB010", "MCB007"} <= {w for w in full.stdout.split() if w[:3] == "MCB"}
    assert "1 error, 2 warnings, 1 info in 2 servers" in full.stdout
    quiet = mcpbundle(repo, "check", "-q")
    assert quiet.returncode == 1
    assert "MCB002" in quiet.stdout and "MCB010" in quiet.stdout
    assert "MCB007" not in quiet.stdout and "in 2 servers" not in quiet.stdout
    quieter = mcpbundle(repo, "-qq", "check")
    assert "MCB002" in quieter.stdout and "MCB010" not in quieter.stdout
    assert quieter.stderr == "error: check found errors\n"


# ---------------------------------------------------------------- global options


def test_every_command_takes_every_global_option() -> None:
    for path in [(), *_commands(cli)]:
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(click.Context(command), name)
            assert found is not None
            command = found
        names = {p.opts[-1] for p in command.params if isinstance(p, GlobalOption)}
        assert names == GLOBAL, path


def test_global_options_work_on_both_sides_of_the_command(repo: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = str(repo / "mcpbundle.toml")
    before = mcpbundle(elsewhere, "-c", config, "list", "--json")
    after = mcpbundle(elsewhere, "list", "--json", "-c", config)
    assert before.returncode == after.returncode == 0, after.stderr
    assert before.stdout == after.stdout and "ops" in json.loads(after.stdout)["servers"][0]["name"]
    assert mcpbundle(elsewhere, "validate", "--config", config).returncode == 0
    for args in (
        ["--debug", "validate", "-c", "nope.toml"],
        ["validate", "-c", "nope.toml", "--debug"],
    ):
        debug = mcpbundle(elsewhere, *args)
        assert debug.returncode == 2 and "Traceback (most recent call last)" in debug.stderr, args
    init_repo(repo)
    commit_all(repo, "initial")
    for args in (["-v", "list"], ["list", "-v"]):
        assert "+ git " in mcpbundle(repo, *args).stderr, args
    for args in (["--color", "always", "check"], ["check", "--color", "always"]):
        assert ANSI in mcpbundle(repo, *args).stdout, args
    assert mcpbundle(repo, "ci", "github", "-q", "--color", "never").returncode == 0
    assert mcpbundle(repo, "cache", "info", "-v").returncode == 0


# ---------------------------------------------------------------------- formats


@pytest.mark.parametrize(
    "args",
    [
        ["validate"],
        ["list"],
        ["build", "--dry-run"],
        ["check"],
        ["cache", "info"],
        ["affected", "--since", "HEAD"],
    ],
)
def test_format_json_and_its_alias_json_print_the_same_document(
    repo: Path, args: list[str]
) -> None:
    init_repo(repo)
    commit_all(repo, "initial")
    spelled = mcpbundle(repo, *args, "--format", "json")
    alias = mcpbundle(repo, *args, "--json")
    assert spelled.returncode == alias.returncode == 0, spelled.stderr
    assert json.loads(spelled.stdout) == json.loads(alias.stdout)
    text = mcpbundle(repo, *args, "--format", "text")
    assert text.returncode == 0 and not text.stdout.lstrip().startswith("{")


def test_validate_json_says_what_it_checked(repo: Path) -> None:
    done = mcpbundle(repo, "validate", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["ok"] is True
    assert document["config"] == "mcpbundle.toml"
    assert document["servers"] == ["ops", "sales"]
    assert isinstance(document["shared"], list) and isinstance(document["warnings"], list)


def test_every_command_that_prints_data_takes_format() -> None:
    for path in (["validate"], ["build"], ["list"], ["check"], ["verify"], ["diff"], ["surface"],
                 ["affected"], ["cache", "info"]):  # fmt: skip
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(click.Context(command), name)
            assert found is not None
            command = found
        options = {opt for p in command.params for opt in p.opts}
        assert {"--format", "--json"} <= options, path


# ----------------------------------------------------------------------- colour


def test_a_terminal_gets_colour_for_errors_warnings_codes_paths_and_summary(
    repo: Path, loose: Path
) -> None:
    write(repo, {**FINDINGS, **BROKEN})
    checked = run_on_terminal(repo, "check", env=_env())
    assert checked.returncode == 1
    assert f"{RED}MCB002" in checked.stdout and f"{YELLOW}MCB010" in checked.stdout  # codes
    assert f"{BOLD}sales/app.py\x1b[0m:" in checked.stdout  # paths
    assert f"{BOLD}1 error, 2 warnings, 1 info in 2 servers" in checked.stdout  # summary
    assert f"{RED}error:\x1b[0m check found errors" in checked.stderr  # the error line
    warned = run_on_terminal(loose, "validate", env=_env())
    assert f"{YELLOW}warning:\x1b[0m no [bundle] python" in warned.stderr
    assert f"{BOLD}mcpbundle.toml\x1b[0m: \x1b[1;32mok" in warned.stdout
    built = run_on_terminal(loose, "build", "--dry-run", env=_env())
    assert f"{BOLD}ops/src/server.py\x1b[0m" in built.stdout
    assert f"{BOLD}dry run: nothing written to dist\x1b[0m" in built.stdout


def test_no_colour_when_piped_or_told_and_forced_colour_when_asked(repo: Path) -> None:
    write(repo, BROKEN)
    piped = mcpbundle(repo, "check")
    assert ANSI not in piped.stdout + piped.stderr
    for env, args in (
        (_env(NO_COLOR="1"), ["check"]),
        (_env(), ["check", "--color", "never"]),
        (_env(FORCE_COLOR="1", NO_COLOR="1"), ["check"]),  # NO_COLOR wins
        (_env(TERM="dumb"), ["check"]),
    ):
        shown = run_on_terminal(repo, *args, env=env)
        assert shown.returncode == 1 and "MCB002" in shown.stdout
        assert ANSI not in shown.stdout + shown.stderr, (env.get("NO_COLOR"), args)
    for env, args in ((_env(FORCE_COLOR="1"), ["check"]), (_env(), ["--color", "always", "check"])):
        forced = mcpbundle_env(repo, env, *args)
        assert f"{RED}MCB002" in forced.stdout and f"{RED}error:" in forced.stderr
    always_over_no_color = run_on_terminal(
        repo, "check", "--color", "always", env=_env(NO_COLOR="1")
    )
    assert f"{RED}MCB002" in always_over_no_color.stdout


def mcpbundle_env(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpbundle", *args],
        cwd=cwd, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_the_colour_code_is_imported_only_when_a_terminal_gets_colour(repo: Path) -> None:
    flags = ["-X", "importtime"]
    piped = subprocess.run(
        [sys.executable, *flags, "-m", "mcpbundle", "list"],
        cwd=repo, env=_env(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "mcpbundle.cli.options" in piped.stderr
    assert "mcpbundle.cli.colour" not in piped.stderr
    shown = run_on_terminal(repo, "list", env=_env(), stderr_on_terminal=False, python_flags=flags)
    assert shown.returncode == 0 and ANSI in shown.stdout
    assert "mcpbundle.cli.colour" in shown.stderr


def test_the_no_op_shortcut_replays_the_coloured_report_on_a_terminal(repo: Path) -> None:
    flags = ["-X", "importtime"]
    first = run_on_terminal(repo, "build", env=_env(), stderr_on_terminal=False, python_flags=flags)
    assert first.returncode == 0 and "click" in first.stderr  # the full path: stamps it
    again = run_on_terminal(repo, "build", env=_env(), stderr_on_terminal=False, python_flags=flags)
    assert again.returncode == 0
    assert (
        again.stdout
        == first.stdout
        == f"{BOLD}up to date: dist (no file written)\x1b[0m\n"
        + (f"  skipped secret file {BOLD}ops/.env\x1b[0m\n")
    )
    assert "mcpbundle.incremental.stamp" in again.stderr
    assert "click" not in again.stderr and "mcpbundle.cli.colour" not in again.stderr
    piped = mcpbundle(repo, "build")  # a pipe has its own stamp: no colour replayed there
    assert piped.returncode == 0 and ANSI not in piped.stdout
    assert piped.stdout.startswith("up to date: dist")


# ---------------------------------------------------------------------- dry run


PACKAGE_SERVER = {
    "pkgsrv/pyproject.toml": (
        "[build-system]\nrequires = ['setuptools']\nbuild-backend = 'setuptools.build_meta'\n"
        "[project]\nname = 'pkgsrv'\nversion = '1.0'\ndependencies = ['fastmcp>=4', 'alpha']\n"
    ),
    "pkgsrv/src/pkgsrv/__init__.py": "",
    "pkgsrv/src/pkgsrv/tools.py": "def double(x):\n    return 2 * x\n",
    "pkgsrv/src/pkgsrv/server.py": (
        "from fastmcp import FastMCP\nfrom .tools import double\n\nmcp = FastMCP('pkg')\n"
    ),
    "pkgsrv/fastmcp.json": json.dumps({"source": {"path": "src/pkgsrv/server.py"}}),
    "libs/utils/LICENSE": "MIT License\n",
    "libs/utils/NOTICE": "acme-utils includes work by others.\n",
}


def test_dry_run_lists_every_file_the_build_writes(repo: Path) -> None:
    write(repo, PACKAGE_SERVER)
    config = repo / "mcpbundle.toml"
    config.write_text(
        config.read_text()
        + "[servers.pkgsrv]\npath = 'pkgsrv'\nentrypoint = 'src/pkgsrv/server.py'\n"
    )
    shutil.rmtree(repo / "dist")
    dry = mcpbundle(repo, "build", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    document = json.loads(dry.stdout)
    listed = {path for server in document["servers"] for path in server["files"]}
    listed |= set(document["index_files"])
    text = mcpbundle(repo, "build", "--dry-run").stdout
    assert all(f"    {path}\n" in text for path in listed)
    assert mcpbundle(repo, "build").returncode == 0
    written = {
        p.relative_to(repo / "dist").as_posix()
        for p in (repo / "dist").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert listed == written
    kinds = {
        "pkgsrv/mcpbundle_entry.py", "pkgsrv/pyproject.toml", "pkgsrv/fastmcp.json",
        "pkgsrv/requirements.in", "pkgsrv/requirements.txt", "mcpbundle-manifest.json",
        "DEPLOY.md", ".mcpbundle-output",
    }  # fmt: skip
    assert kinds <= listed
    assert any(p.endswith(".dist-info/METADATA") for p in listed)
    assert any("/licenses/" in p for p in listed) and any(p.endswith("NOTICES.md") for p in listed)
