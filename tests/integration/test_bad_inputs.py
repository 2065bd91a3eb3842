"""The bad-input corpus: every broken monorepo fails in one actionable line.

Each ``tests/corpus/bad_inputs/<case>/`` holds a ``repo/`` tree (copied to a
temporary directory; ``outside/``, if present, is copied next to it so links and
``..`` paths can point out of the repository) and an ``expect.toml``::

    exit = 2                      # expected exit code
    message = "fragment"          # must appear in the single ``error:`` line
    args = ["build"]              # optional, default ["validate"]
    git = true                    # optional: git init + commit the repo first
    xfail = "reason"              # optional: a known bug outside the owned modules
    [[setup]]                     # optional: things git cannot carry
    symlink = "repo/srv"          # created relative to the case's tmp directory
    target = "../outside/srv"
    [[setup]]
    fifo = "repo/srv/pipe"        # a named pipe

The real CLI runs in a subprocess (``python -m mcpbundle``). Besides the exit
code and the message, every case asserts: exactly one ``error:`` line, no
traceback, and no file in the tmp directory written, changed or removed.
``exit = 0`` cases are positive controls (``message`` must then be on stdout).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from support.gitrepo import commit_all, init_repo

CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "bad_inputs"
KNOWN_KEYS = {"exit", "message", "args", "git", "setup", "xfail"}


def _expect(case: Path) -> dict[str, Any]:
    with (case / "expect.toml").open("rb") as handle:
        return tomllib.load(handle)


def _cases() -> list[Any]:
    params = []
    for case in sorted(p for p in CORPUS.iterdir() if (p / "expect.toml").is_file()):
        expect = _expect(case)
        marks = []
        if "xfail" in expect:
            marks.append(pytest.mark.xfail(strict=True, reason=expect["xfail"]))
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def snapshot(top: Path) -> dict[str, str]:
    """Every entry under ``top`` -> its kind and content hash (``.git/index`` aside)."""
    state: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(top):
        base = Path(dirpath)
        for name in [*dirnames, *filenames]:
            path = base / name
            rel = path.relative_to(top).as_posix()
            if rel.endswith(".git/index"):
                continue
            mode = path.lstat().st_mode
            if stat.S_ISLNK(mode):
                state[rel] = "link:" + os.readlink(path)
            elif stat.S_ISDIR(mode):
                state[rel] = "dir"
            elif not stat.S_ISREG(mode):  # a FIFO: never opened (it would block)
                state[rel] = f"special:{oct(mode)}"
            else:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                state[rel] = f"file:{oct(path.stat().st_mode & 0o777)}:{digest}"
    return state


def prepare(case: Path, tmp: Path, expect: dict[str, Any]) -> Path:
    repo = tmp / "repo"
    shutil.copytree(case / "repo", repo, symlinks=True)
    if (case / "outside").is_dir():
        shutil.copytree(case / "outside", tmp / "outside", symlinks=True)
    for step in expect.get("setup", []):
        if "symlink" in step:
            link = tmp / step["symlink"]
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(step["target"])
        elif "fifo" in step:
            fifo = tmp / step["fifo"]
            fifo.parent.mkdir(parents=True, exist_ok=True)
            os.mkfifo(fifo)
        else:  # pragma: no cover - a corpus typo
            raise AssertionError(f"unknown setup step {step!r}")
    if expect.get("git"):
        init_repo(repo, branch="main")
        commit_all(repo, "source")
    return repo


def run_cli(repo: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpbundle", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_corpus_is_large_enough() -> None:
    cases = [p for p in CORPUS.iterdir() if (p / "expect.toml").is_file()]
    assert len(cases) >= 40
    for case in cases:
        expect = _expect(case)
        assert set(expect) <= KNOWN_KEYS, case.name
        assert isinstance(expect["exit"], int), case.name
        assert expect["message"], case.name
        assert (case / "repo").is_dir(), case.name


@pytest.mark.parametrize("case", _cases())
def test_bad_input(case: Path, tmp_path: Path) -> None:
    expect = _expect(case)
    repo = prepare(case, tmp_path, expect)
    before = snapshot(tmp_path)
    done = run_cli(repo, list(expect.get("args", ["validate"])))
    after = snapshot(tmp_path)
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    if expect["exit"] == 0:
        assert done.returncode == 0, output
        assert not error_lines, output
        assert expect["message"] in done.stdout, output
    else:
        assert done.returncode == expect["exit"], output
        assert len(error_lines) == 1, output
        assert expect["message"] in error_lines[0], output
        assert "internal error" not in error_lines[0], output
    assert after == before, "the command wrote, changed or removed files"
