"""The no-op stamp's code state covers every mcpbundle module, subpackages included:
an edit to an editable install changes what a build writes and warns, so a stamp from
before it must not be replayed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcpbundle.incremental import stamp


def test_an_edit_in_a_subpackage_changes_the_code_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "mcpbundle"
    for rel in ("__init__.py", "plan/__init__.py", "plan/closure.py", "incremental/stamp.py"):
        (package / rel).parent.mkdir(parents=True, exist_ok=True)
        (package / rel).write_text("x = 1\n")
    (package / "plan/__pycache__").mkdir()
    monkeypatch.setattr(stamp, "MCPBUNDLE_DIR", str(package))
    before = stamp.code_state()
    (package / "plan/__pycache__/closure.cpython-311.pyc").write_bytes(b"compiled")
    assert stamp.code_state() == before  # bytecode is not code
    os.utime(package / "plan/closure.py", ns=(1, 1))
    assert stamp.code_state() != before


def test_the_code_state_walks_the_whole_package() -> None:
    assert os.path.isfile(os.path.join(stamp.MCPBUNDLE_DIR, "plan", "closure.py"))
