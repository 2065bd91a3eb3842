"""Help and completion through the real CLI: workflow order, whole one-line descriptions,
examples that run, and shell completion scripts that complete server names in a real bash."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest

from mcpbundle.cli.app import cli
from mcpbundle.cli.help import WORKFLOW_ORDER, one_line
from support.monorepo import mcpbundle

BIN = str(Path(sys.executable).parent)


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        found = command.get_command(click.Context(command), name)
        assert found is not None
        command = found
    return command


def _all_paths(group: click.Group = cli, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name in group.list_commands(click.Context(group)):
        command = _command((*path, name))
        found.append((*path, name))
        if isinstance(command, click.Group):
            found += _all_paths(command, (*path, name))
    return found


def _section(text: str, title: str) -> list[str]:
    lines = text.split("\n")
    start = lines.index(f"{title}:") + 1
    body = []
    for line in lines[start:]:
        if line and not line.startswith(" "):
            break
        body.append(line)
    return [line for line in body if line.strip()]


def _rows(section: list[str]) -> dict[str, str]:
    """``name  description`` rows of a help section, wrapped lines joined."""
    rows: dict[str, str] = {}
    last = None
    for line in section:
        match = re.match(r"^  (\S+)\s{2,}(.*)$", line)
        if match:
            last = match.group(1)
            rows[last] = match.group(2).strip()
        elif last is not None:
            rows[last] += " " + line.strip()
    return rows


def test_top_level_help_lists_commands_in_workflow_order_with_whole_descriptions(
    tmp_path: Path,
) -> None:
    done = mcpbundle(tmp_path, "--help")
    assert done.returncode == 0
    rows = _rows(_section(done.stdout, "Commands"))
    names = list(rows)
    existing = [name for name in WORKFLOW_ORDER if name in names]
    assert {"validate", "list", "build", "check", "verify", "affected", "ci", "cache"} <= set(
        existing
    )
    assert names[: len(existing)] == existing
    assert names[len(existing) :] == ["completion"]
    for name, shown in rows.items():
        whole = one_line(_command((name,)))
        assert shown.replace("- ", "-") == whole.replace("- ", "-"), name  # wrapped, not cut
        assert "..." not in shown


@pytest.mark.parametrize("path", [(), *_all_paths()], ids=lambda p: " ".join(p) or "mcpbundle")
def test_every_help_ends_with_examples_that_run(tmp_path: Path, path: tuple[str, ...]) -> None:
    done = mcpbundle(tmp_path, *path, "--help")
    assert done.returncode == 0, done.stderr
    assert "Global options:" in done.stdout
    tail = done.stdout.rstrip("\n").split("\n")
    examples = _section(done.stdout, "Examples")
    assert tail[-len(examples) :] == examples  # the last section
    assert 1 <= len(examples) <= 2
    for line in examples:
        assert line.startswith("  $ ")
        for invocation in re.findall(r"(?<![\w/.-])mcpbundle(?:\s+[^\s)&|>#\"]+)+", line):
            words = shlex.split(invocation)[1:]
            assert words[: len(path)] == list(path), line  # an example of this command
            parsed = mcpbundle(tmp_path, *words, "--help")  # unknown options fail to parse
            assert parsed.returncode == 0, (line, parsed.stderr)


def _bash_complete(cwd: Path, words: str) -> list[str]:
    """COMPREPLY of the real bash completion function for ``words`` (the last may be '')."""
    script = mcpbundle(cwd, "completion", "bash").stdout
    parts = shlex.split(words) + ([""] if words.endswith(" ") else [])
    program = (
        f"{script}\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in parts)})\n"
        f"COMP_CWORD={len(parts) - 1}\n"
        "_mcpbundle_completion mcpbundle\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return [line for line in done.stdout.split("\n") if line]


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_bash_completes_commands_options_and_server_names(repo: Path, tmp_path: Path) -> None:
    assert _bash_complete(repo, "mcpbundle ver") == ["verify"]
    assert _bash_complete(repo, "mcpbundle build ") == ["ops", "sales"]
    assert _bash_complete(repo, "mcpbundle check o") == ["ops"]
    assert _bash_complete(repo, "mcpbundle verify ops ") == ["sales"]  # not named twice
    assert _bash_complete(repo, "mcpbundle cache clear v") == ["venvs"]
    assert _bash_complete(repo, "mcpbundle diff s") == ["sales"]
    assert _bash_complete(repo, "mcpbundle surface ") == ["ops", "sales"]  # issue 20
    assert _bash_complete(repo, "mcpbundle surface --json o") == ["ops"]
    assert "--dry-run" in _bash_complete(repo, "mcpbundle build --dr")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    config = repo / "mcpbundle.toml"
    assert _bash_complete(elsewhere, "mcpbundle build ") == []
    assert _bash_complete(elsewhere, f"mcpbundle -c {config} build s") == ["sales"]
    assert _bash_complete(elsewhere, f"mcpbundle build -c {config} ") == ["ops", "sales"]


def test_completion_prints_a_script_for_each_shell(tmp_path: Path) -> None:
    for shell, marker in (("bash", "bash_complete"), ("zsh", "zsh_complete"),
                          ("fish", "fish_complete")):  # fmt: skip
        done = mcpbundle(tmp_path, "completion", shell)
        assert (
            done.returncode == 0 and marker in done.stdout and "_MCPBUNDLE_COMPLETE" in done.stdout
        )
        executable = shutil.which(shell)
        if executable is not None and shell != "fish":  # the script at least parses
            check = subprocess.run([executable, "-n"], input=done.stdout, text=True, check=False)
            assert check.returncode == 0, shell
    bad = mcpbundle(tmp_path, "completion", "tcsh")
    assert bad.returncode == 2 and "tcsh" in bad.stderr
