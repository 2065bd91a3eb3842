"""``[servers.NAME] verify-timeout`` and ``verify-memory``: read and checked.

``verify-timeout`` is a number of seconds for all of one server's loads together
(bundle, source tree and ``--http``; the venv install is not counted).
``verify-memory`` is the address-space limit of each load: an integer number of
bytes or a string with a unit, ``"512MiB"``, ``"2GiB"`` (``K``/``M``/``G`` and
``KB``/``MB``/``GB`` are read as powers of 1024 too).
"""

from __future__ import annotations

import re

from mcpbundle.config.schema import Reader, type_name

DEFAULT_TIMEOUT = 120.0
DEFAULT_MEMORY = 2 << 30
MIN_MEMORY = 64 << 20  # below this no interpreter starts: surely a unit slip
UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def read_timeout(reader: Reader, key_path: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise reader.fail(key_path, f"must be a number of seconds, got {type_name(value)}")
    if value <= 0:
        raise reader.fail(key_path, f"must be more than 0 seconds, got {value}")
    return float(value)


def read_memory(reader: Reader, key_path: str, value: object) -> int:
    hint = 'write bytes or a size such as "512MiB" or "2GiB"'
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise reader.fail(key_path, f"must be a size, got {type_name(value)}", hint)
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(value)
        if match is None:
            raise reader.fail(key_path, f"{value!r} is not a size", hint)
        size = int(float(match.group(1)) * UNITS[match.group(2).lower()])
    if size < MIN_MEMORY:
        raise reader.fail(key_path, f"{value!r} is less than 64 MiB", hint)
    return size
