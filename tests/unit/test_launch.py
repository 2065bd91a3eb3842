"""The console script: whatever the command, the exit spares the collector's last pass."""

from __future__ import annotations

import gc
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
            launch.main()
        assert exited.value.code == 0
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    assert "mcpbundle" in capsys.readouterr().out
