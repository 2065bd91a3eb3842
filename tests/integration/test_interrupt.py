"""Builds killed with SIGKILL at every write step leave the previous output complete;
Ctrl-C and SIGTERM stop the children and exit 130 / 143 with one line.

``MCPBUNDLE_TEST_KILL_AFTER_WRITES=N`` (a test-only hook in :mod:`mcpbundle.emit.directory`)
makes the build SIGKILL itself right after its N-th write step; N runs from 1
until a build survives. After each kill the output must be either the previous
output or the complete new one, byte for byte; the next build removes the dead
build's staging directory and succeeds. ``MCPBUNDLE_TEST_NO_EXCHANGE=1`` repeats
this with the two-rename fallback used where ``renameat2`` is missing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_build_cli import SERVER_OPS, cli_env, leftovers, make_repo, run_cli, tree

from mcpbundle.emit import directory as emit
from support.processes import running

Tree = dict[str, tuple[int, bytes]]

pytestmark = pytest.mark.slow


def _kill_loop(repo: Path, extra_env: dict[str, str]) -> None:
    out = repo / "dist"
    run_cli(repo, "build")
    before = tree(out)
    # Change ops so a completed build is distinguishable; build only ops so that
    # web is carried over (hard links) and the manifest is merged.
    (repo / "ops/src/server.py").write_text(SERVER_OPS + "# new\n")
    observed: list[tuple[int, Tree | None]] = []
    for n in range(1, 200):
        env = cli_env(**extra_env, MCPBUNDLE_TEST_KILL_AFTER_WRITES=str(n))
        done = run_cli(repo, "build", "ops", check=False, env=env)
        if done.returncode == 0:
            break
        assert done.returncode == -signal.SIGKILL, done.stderr
        if out.exists():
            observed.append((n, tree(out)))
        else:
            # Only possible between the two fallback renames: the next build puts it back.
            assert extra_env.get(emit.NO_EXCHANGE_ENV) == "1"
            emit.clean_leftovers(out)
            assert tree(out) == before, f"killed after {n} writes: old output not restored"
            observed.append((n, None))
        # the dead build's staging dir is the only leftover (earlier ones were cleaned)
        assert len(leftovers(out)) <= 2, leftovers(out)
    else:
        pytest.fail("the build never finished")
    assert n > 10, "the kill hook did not fire at every write"
    after = tree(out)
    assert after != before
    assert leftovers(out) == []
    for n, seen in observed:
        assert seen in (before, after, None), f"killed after {n} writes: output is mixed"
    # Kills before the swap keep the old output; only the last steps can show the new one.
    assert observed[0][1] == before
    run_cli(repo, "build", "ops")
    assert tree(out) == after


def test_sigkill_at_every_write_keeps_previous_output(tmp_path: Path, wheelhouse: Path) -> None:
    _kill_loop(make_repo(tmp_path / "repo", wheelhouse), {})


def test_sigkill_with_rename_fallback(tmp_path: Path, wheelhouse: Path) -> None:
    _kill_loop(make_repo(tmp_path / "repo", wheelhouse), {emit.NO_EXCHANGE_ENV: "1"})


@pytest.mark.parametrize("delay", [0.05, 0.3, 0.6, 0.9, 1.2])
def test_external_sigkill_at_random_moments(tmp_path: Path, wheelhouse: Path, delay: float) -> None:
    """Kill the whole process group (the resolver too) from outside, mid-build."""
    repo = make_repo(tmp_path / "repo", wheelhouse)
    out = repo / "dist"
    run_cli(repo, "build")
    before = tree(out)
    (repo / "ops/src/server.py").write_text(SERVER_OPS + "# new\n")
    (repo / "web/app.py").write_text("from fastmcp import FastMCP\napp = FastMCP('w')\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mcpbundle", "build"],
        cwd=repo,
        env=cli_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(delay)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    seen = tree(out)
    run_cli(repo, "build")
    after = tree(out)
    assert seen in (before, after)
    assert leftovers(out) == []


def test_clean_leftovers_keeps_live_builds_and_restores_only_dead_ones(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    live = tmp_path / f".dist.mcpbundle-old-{os.getpid()}-0"
    live.mkdir()
    (live / "f").write_text("live")
    dead_pid = _dead_pid()
    dead_tmp = tmp_path / f".dist.mcpbundle-tmp-{dead_pid}-0"
    dead_tmp.mkdir()
    dead_old = tmp_path / f".dist.mcpbundle-old-{dead_pid}-1"
    dead_old.mkdir()
    (dead_old / "f").write_text("previous output")
    emit.clean_leftovers(out)
    assert (out / "f").read_text() == "previous output"
    assert not dead_tmp.exists()
    assert live.exists(), "a running build's directory was touched"


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# -- Ctrl-C and SIGTERM: one line, the right exit code, no child left behind ------------


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry)] = int(fields[1])
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, ppid in parents.items():
            if ppid == parent and child not in found:
                found.add(child)
                todo.append(child)
    return found


def _silent_index_repo(repo: Path, port: int) -> Path:
    """One server whose resolver waits on the index at ``port`` (that never answers)."""
    (repo / "srv").mkdir(parents=True)
    (repo / "mcpbundle.toml").write_text(
        f'[bundle]\nindex-url = "http://127.0.0.1:{port}/simple"\n'
        '[servers.srv]\npath = "srv"\nentrypoint = "server.py"\n'
    )
    (repo / "srv/server.py").write_text("mcp = object()\n")
    (repo / "srv/requirements.txt").write_text("alpha\n")
    return repo


@pytest.mark.parametrize(
    ("signum", "code", "line"),
    [
        (signal.SIGINT, 130, "error: interrupted"),
        (signal.SIGTERM, 143, "error: stopped by SIGTERM"),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_signal_stops_the_resolver_and_exits_with_one_line(
    tmp_path: Path, signum: int, code: int, line: str
) -> None:
    """The real pip-compile waits on an index that accepts connections and never answers."""
    with socket.socket() as index:
        index.bind(("127.0.0.1", 0))
        index.listen(64)  # connections complete in the backlog; no response ever comes
        port = index.getsockname()[1]
        repo = _silent_index_repo(tmp_path / "repo", port)
        scratch = tmp_path / "tmp"
        scratch.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcpbundle", "build", "--no-cache"],
            cwd=repo,
            env=cli_env(TMPDIR=str(scratch)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own group, as a shell gives a foreground job
        )
        children: set[int] = set()
        deadline = time.monotonic() + 60
        while not any("piptools" in _cmdline(pid) for pid in children):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the resolver never started"
            time.sleep(0.1)
            children = _descendants(proc.pid)
        time.sleep(1.0)  # let pip-compile reach the index
        children = _descendants(proc.pid)
        # Ctrl-C goes to the terminal's foreground group: mcpbundle's (children have their own).
        os.killpg(proc.pid, signum)
        _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == code, stderr
    assert "Traceback" not in stderr
    errors = [text for text in stderr.splitlines() if text.startswith("error:")]
    assert errors == [line], stderr
    left = [pid for pid in children if running(pid)]
    assert not left, f"children still running: {[_cmdline(pid) for pid in left]}"
    assert not (repo / "dist").exists()
    assert leftovers(repo / "dist") == []
    assert not [p.name for p in scratch.iterdir() if p.name.startswith("mcpbundle-")]


def test_kill_9_of_the_build_stops_the_resolver_too(tmp_path: Path) -> None:
    """No handler runs on SIGKILL, so the resolver asks the kernel for SIGTERM when its
    parent dies (PR_SET_PDEATHSIG): a pip-compile waiting on a silent index is gone soon
    after the build is killed, not left running under PID 1."""
    with socket.socket() as index:
        index.bind(("127.0.0.1", 0))
        index.listen(64)
        port = index.getsockname()[1]
        repo = _silent_index_repo(tmp_path / "repo", port)
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcpbundle", "build", "--no-cache"],
            cwd=repo, env=cli_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        resolvers: list[int] = []
        deadline = time.monotonic() + 60
        while not resolvers:
            assert proc.poll() is None, "the build ended before its resolver started"
            assert time.monotonic() < deadline, "the resolver never started"
            time.sleep(0.1)
            resolvers = [pid for pid in _descendants(proc.pid) if "piptools" in _cmdline(pid)]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 60
        while any(running(pid) for pid in resolvers) and time.monotonic() < deadline:
            time.sleep(0.1)
    left = [pid for pid in resolvers if running(pid)]
    assert not left, f"resolver still running: {[_cmdline(pid) for pid in left]}"


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_kill_9_of_build_branch_leaves_scratch_dirs_the_next_build_sweeps(
    tmp_path: Path, wheelhouse: Path
) -> None:
    repo = make_repo(tmp_path / "repo", wheelhouse)
    cache = Path(os.environ["MCPBUNDLE_CACHE_DIR"]) / "tmp"
    before = set(cache.iterdir()) if cache.is_dir() else set()
    killed = run_cli(
        repo, "build", "--branch", "deploy", check=False,
        env=cli_env(MCPBUNDLE_TEST_KILL_AFTER_WRITES="3"),
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    left = {p for p in cache.iterdir() if p not in before}
    assert any(p.name.startswith("mcpbundle-branch-") for p in left), left
    run_cli(repo, "build", "--branch", "deploy")
    assert not [p for p in left if p.exists()], "a dead build's scratch dir survived"
