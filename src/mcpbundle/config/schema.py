"""Typed readers for TOML values, each failing with the value's key path.

:mod:`mcpbundle.config.settings` declares every table as a mapping of key -> field; the
helpers here check one value and raise a one-line :class:`ConfigError` such as
``mcpbundle.toml: servers.ops.shared: must be a list of strings, got a string``.
Unknown keys are rejected with a "did you mean" suggestion (as cibuildwheel does).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from mcpbundle.base.errors import ConfigError

_TYPE_NAMES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "a list",
    dict: "a table",
}


def type_name(value: object) -> str:
    for kind, name in _TYPE_NAMES.items():
        if type(value) is kind:
            return name
    return type(value).__name__


class Reader:
    """Reads typed values out of one config file, naming key paths in errors."""

    def __init__(self, display: str):
        self.display = display

    def fail(self, key_path: str, message: str, hint: str | None = None) -> ConfigError:
        where = f"{self.display}: {key_path}" if key_path else self.display
        return ConfigError(message, where=where, hint=hint)

    def reject_unknown(self, key_path: str, table: Mapping[str, Any], known: Iterable[str]) -> None:
        allowed = sorted(known)
        for key in table:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(allowed)}"
            raise self.fail(join(key_path, key), "unknown key", hint)

    def table(self, key_path: str, value: object) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key_path, f"must be a table, got {type_name(value)}")
        return value

    def string(self, key_path: str, value: object, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.fail(key_path, f"must be a string, got {type_name(value)}")
        if not allow_empty and not value.strip():
            raise self.fail(key_path, "must not be empty")
        return value

    def boolean(self, key_path: str, value: object) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key_path, f"must be true or false, got {type_name(value)}")
        return value

    def strings(self, key_path: str, value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail(key_path, f"must be a list of strings, got {type_name(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.fail(f"{key_path}[{index}]", f"must be a string, got {type_name(item)}")
            if not item.strip():
                raise self.fail(f"{key_path}[{index}]", "must not be empty", "remove the entry")
        return tuple(value)

    def choice(self, key_path: str, value: object, choices: tuple[str, ...]) -> str:
        text = self.string(key_path, value)
        if text not in choices:
            close = difflib.get_close_matches(text, choices, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'?" if close else None
            raise self.fail(
                key_path,
                f"must be one of {', '.join(repr(c) for c in choices)}, got {text!r}",
                hint,
            )
        return text

    def string_map(self, key_path: str, value: object) -> dict[str, str]:
        table = self.table(key_path, value)
        for key, item in table.items():
            self.string(join(key_path, key), item, allow_empty=True)
        return dict(sorted(table.items()))


def join(key_path: str, key: str) -> str:
    """Append ``key`` to a dotted key path, quoting keys that are not bare."""
    shown = key if key and all(c.isalnum() or c in "-_" for c in key) else repr(key)
    return f"{key_path}.{shown}" if key_path else shown
