"""The subprocess wrapper: every child in its own process group, stopped with mcpbundle."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcpbundle.base import runner
from support.processes import running


def _gone(pid: int) -> bool:
    """True once ``pid`` no longer runs (a zombie left to init counts as gone)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not running(pid):
            return True
        time.sleep(0.05)
    return False


def test_children_lead_their_own_process_group() -> None:
    done = runner.run([sys.executable, "-c", "import os; print(os.getpgrp(), os.getpid())"])
    group, pid = done.stdout.split()
    assert group == pid
    assert int(group) != os.getpgrp()


def test_a_timeout_stops_the_grandchildren_too(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild"
    script = f"sleep 60 & echo $! > {pidfile}; wait"
    with pytest.raises(subprocess.TimeoutExpired):
        runner.run(["sh", "-c", script], timeout=1)
    assert _gone(int(pidfile.read_text()))


def test_a_long_running_child_is_stopped_with_its_block(tmp_path: Path) -> None:
    pidfile = tmp_path / "grandchild"
    script = f"trap '' TERM; sleep 60 & echo $! > {pidfile}; wait"  # ignores SIGTERM: SIGKILL
    with runner.child(["sh", "-c", script]) as process:
        deadline = time.monotonic() + 10
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    assert process.returncode is not None
    assert _gone(int(pidfile.read_text()))


def test_run_bytes_feeds_stdin_and_keeps_bytes(tmp_path: Path) -> None:
    data = tmp_path / "in"
    data.write_bytes(b"caf\xe9\n")
    with data.open("rb") as stdin:
        done = runner.run_bytes(["cat"], stdin=stdin)
    assert done.returncode == 0
    assert done.stdout == b"caf\xe9\n"


def test_the_exit_hook_returns_once_every_child_group_is_dead(tmp_path: Path) -> None:
    """At exit mcpbundle SIGKILLs the groups still registered (a thread that never got to
    stop its child) and waits for them: SIGKILL takes effect later, and a process still
    dying when mcpbundle has exited is left to init, running as far as anyone can see."""
    children = []
    for n in range(4):
        pidfile = tmp_path / f"grandchild-{n}"
        script = f"sleep 60 & echo $! > {pidfile}; wait"
        child = runner._spawn(["sh", "-c", script], stdin=subprocess.DEVNULL)
        children.append((child, pidfile))
    deadline = time.monotonic() + 10
    while not all(f.exists() and f.read_text().strip() for _, f in children):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pids = [c.pid for c, _ in children] + [int(f.read_text()) for _, f in children]
    try:
        runner.kill_children()
        assert [pid for pid in pids if running(pid)] == []
    finally:
        for child, _ in children:
            child.wait()
            runner._forget(child)
