"""``[servers.NAME] verify-timeout`` and ``verify-memory``: defaults, units, bad values."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.validate import validate

SERVER = {"path": "srv", "entrypoint": "server.py"}


def config_of(tmp_path: Path, **keys: object) -> dict[str, object]:
    (tmp_path / "srv").mkdir(exist_ok=True)
    (tmp_path / "srv" / "server.py").write_text("mcp = None\n", encoding="utf-8")
    return {"servers": {"a": {**SERVER, **keys}}}


def test_defaults(tmp_path: Path) -> None:
    server = validate(config_of(tmp_path), tmp_path / "mcpbundle.toml").servers["a"]
    assert server.verify_timeout == 120.0
    assert server.verify_memory == 2 << 30


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("512MiB", 512 << 20),
        ("2GiB", 2 << 30),
        ("2 GB", 2 << 30),
        ("1.5G", 3 << 29),
        (3 << 30, 3 << 30),
    ],
)
def test_memory_sizes(tmp_path: Path, value: object, expected: int) -> None:
    data = config_of(tmp_path, **{"verify-memory": value, "verify-timeout": 30})
    server = validate(data, tmp_path / "mcpbundle.toml").servers["a"]
    assert server.verify_memory == expected
    assert server.verify_timeout == 30.0


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("verify-timeout", "120", "servers.a.verify-timeout: must be a number of seconds"),
        ("verify-timeout", 0, "servers.a.verify-timeout: must be more than 0 seconds, got 0"),
        ("verify-timeout", True, "must be a number of seconds, got a boolean"),
        ("verify-memory", "lots", "servers.a.verify-memory: 'lots' is not a size; write bytes"),
        ("verify-memory", 1024, "servers.a.verify-memory: 1024 is less than 64 MiB"),
        ("verify-memory", [1], "servers.a.verify-memory: must be a size, got a list"),
    ],
)
def test_bad_values(tmp_path: Path, key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate(config_of(tmp_path, **{key: value}), tmp_path / "mcpbundle.toml")
    assert message in str(info.value)
    assert str(info.value).startswith("mcpbundle.toml: servers.a.verify-")
