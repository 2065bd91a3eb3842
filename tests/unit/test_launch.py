"""The console script: a finished command leaves at once, as ``sys.exit`` would."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from mcpbundle.cli import launch


def test_objects_are_frozen_before_the_interpreter_exits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reference counting still frees them at exit; only the cyclic collector's pass over
    every object a command made (which cost check more than its rules) is skipped."""
    monkeypatch.setattr(sys, "argv", ["mcpbundle", "--version"])
    gc.unfreeze()
    try:
        with pytest.raises(SystemExit) as exited:
            launch.run()
        assert exited.value.code == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert "mcpbundle" in capsys.readouterr().out


LEAVE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('atexit ran', flush=True))\n"
    "sys.argv = ['mcpbundle', *sys.argv[1:]]\n"
    "from mcpbundle.cli.launch import main\n"
    "main()\n"
)


@pytest.mark.parametrize(
    ("args", "status"),
    [(["--version"], 0), (["check", "--select", "NOPE"], 2), (["no-such-command"], 2)],
)
def test_the_exit_keeps_status_output_and_atexit_handlers(args: list[str], status: int) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LEAVE, *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == status, done.stderr
    assert done.stdout.endswith("atexit ran\n")
    if status == 0:
        assert done.stdout.startswith("mcpbundle")
    else:
        assert done.stderr.strip(), "the error line was lost"


@pytest.mark.parametrize("how", ["sys.exit", "_leave"])
def test_output_that_cannot_be_flushed_fails_as_pythons_own_exit_does(how: str) -> None:
    """Output still buffered for a pipe nobody reads: exit 120, as Python's own exit."""
    code = (
        "import os, sys\n"
        "r, w = os.pipe(); os.close(r)\n"
        "sys.stdout = os.fdopen(w, 'w'); sys.stdout.write('lost')\n"
        "from mcpbundle.cli.launch import _leave\n"
        f"{how}(0)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert done.returncode == 120
