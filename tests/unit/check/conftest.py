"""Fixtures for the ``check`` tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from checkcases import TargetFactory, build_target

from mcpbundle.check.model import CheckTarget


@pytest.fixture
def make_target(tmp_path: Path) -> TargetFactory:
    def factory(files: Mapping[str, str], **kwargs: object) -> CheckTarget:
        return build_target(tmp_path, files, **kwargs)  # type: ignore[arg-type]

    return factory
