"""Session-wide hermetic settings and shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.gitrepo import FIXED_ENV


@pytest.fixture(autouse=True, scope="session")
def _hermetic_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Fixed git identity and dates, no update checks, a private mcpbundle cache."""
    saved = dict(os.environ)
    os.environ.update(FIXED_ENV)
    os.environ["FASTMCP_CHECK_FOR_UPDATES"] = "off"
    os.environ["UV_PYTHON_DOWNLOADS"] = "never"
    os.environ["MCPBUNDLE_CACHE_DIR"] = str(tmp_path_factory.mktemp("mcpbundle-cache"))
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of tiny wheels to resolve against with ``--no-index --find-links``."""
    from support.wheelhouse import build_wheelhouse

    return build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))
