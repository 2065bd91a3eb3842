"""Fixtures shared by the CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.monorepo import make_monorepo, mcpbundle


@pytest.fixture
def repo(tmp_path: Path, wheelhouse: Path) -> Path:
    """The tiny monorepo of :mod:`support.monorepo`, built once into ``dist/``."""
    root = make_monorepo(tmp_path / "repo", wheelhouse)
    done = mcpbundle(root, "build")
    assert done.returncode == 0, done.stderr
    return root
