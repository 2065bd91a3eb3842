"""Concurrent builds of one output never interleave (:mod:`mcpbundle.emit.output_lock`)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from test_build_cli import SERVER_OPS, SERVER_WEB, cli_env, leftovers, make_repo, run_cli, tree

from mcpbundle.base.errors import BuildError
from mcpbundle.emit.output_lock import lock_path, output_lock


def test_lock_file_sits_beside_the_output(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    with output_lock(out, wait=False) as path:
        assert path == lock_path(out) == tmp_path / ".dist.lock"
        assert path.exists()
        assert not out.exists()
    assert not path.exists(), "the lock file is removed on release"


def test_second_holder_fails_without_wait(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    with (
        output_lock(out, wait=False),
        pytest.raises(BuildError, match="another build"),
        output_lock(out, wait=False),
    ):
        pass  # pragma: no cover
    with output_lock(out, wait=False):  # released: free again
        pass


def test_second_holder_waits_with_a_message(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    events: list[str] = []
    stream = io.StringIO()

    def second() -> None:
        with output_lock(out, wait=True, stream=stream):
            events.append("second")

    with output_lock(out, wait=False):
        thread = threading.Thread(target=second)
        thread.start()
        deadline = time.monotonic() + 10
        while "waiting" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        events.append("first done")
    thread.join(timeout=10)
    assert events == ["first done", "second"]
    assert stream.getvalue() == f"waiting for another build of {out}…\n"


def test_many_threads_take_turns(tmp_path: Path) -> None:
    """Mutual exclusion survives the holder removing the lock file on release."""
    out = tmp_path / "dist"
    inside: list[int] = []
    overlaps: list[int] = []
    stream = io.StringIO()

    def worker(n: int) -> None:
        for _ in range(20):
            with output_lock(out, wait=True, stream=stream):
                inside.append(n)
                if len(inside) > 1:
                    overlaps.append(n)
                time.sleep(0.001)
                inside.remove(n)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert overlaps == []
    assert not lock_path(out).exists()


def test_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    code = (
        "import sys, time\nfrom pathlib import Path\n"
        "from mcpbundle.emit.output_lock import output_lock\n"
        f"with output_lock(Path({str(out)!r}), wait=False):\n"
        "    print('locked', flush=True)\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(BuildError), output_lock(out, wait=False):
            pass  # pragma: no cover
    finally:
        proc.kill()
        proc.wait()
    with output_lock(out, wait=False):
        pass


def test_cli_waits_for_a_held_lock(tmp_path: Path, wheelhouse: Path) -> None:
    repo = make_repo(tmp_path / "repo", wheelhouse)
    out = (repo / "dist").resolve()
    with output_lock(out, wait=False):
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcpbundle", "build"],
            cwd=repo,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Read stderr until the build says it waits (no fixed sleep: a loaded machine may
        # take any time to get there); EOF first means it never waited.
        assert proc.stderr is not None
        seen: list[str] = []
        while not any(f"waiting for another build of {out}" in line for line in seen):
            line = proc.stderr.readline()
            assert line, f"the build ended without waiting for the lock: {''.join(seen)}"
            seen.append(line)
        assert proc.poll() is None, "the build did not wait for the lock"
        assert not out.exists()
    _, rest = proc.communicate(timeout=300)
    stderr = "".join(seen) + rest
    assert proc.returncode == 0, stderr
    assert (out / "mcpbundle-manifest.json").exists()


def test_four_concurrent_builds_equal_one_clean_build(tmp_path: Path, wheelhouse: Path) -> None:
    """Partial and full builds at once: without the lock, a partial build that read the
    old manifest can swap in last and drop another build's update."""
    repo = make_repo(tmp_path / "repo", wheelhouse)
    run_cli(repo, "build")
    (repo / "ops/src/server.py").write_text(SERVER_OPS + "# v2\n")
    (repo / "web/app.py").write_text(SERVER_WEB + "# v2\n")
    reference = tmp_path / "reference"
    shutil.copytree(repo, reference, symlinks=True, ignore=shutil.ignore_patterns("dist"))
    run_cli(reference, "build")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "mcpbundle", "build", *args],
            cwd=repo,
            env=cli_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in (["ops"], ["web"], [], ["web"])
    ]
    results = [p.communicate(timeout=300) for p in procs]
    for proc, (_, stderr) in zip(procs, results, strict=True):
        assert proc.returncode == 0, stderr
    assert tree(repo / "dist") == tree(reference / "dist")
    assert leftovers(repo / "dist") == []
