"""Typed readers for TOML values, each failing with the value's key path, and the types
of the table of keys.

:mod:`mcpbundle.config.settings` declares every table as a :class:`Table` of :class:`Key`
(name, :class:`Kind`, default, what it is for); :func:`read_keys` checks a table against
it for :mod:`mcpbundle.config.validate`, and :mod:`mcpbundle.config.json_schema` turns the
same tables into ``schema/mcpbundle.schema.json``. The readers check one value and raise a
one-line :class:`ConfigError` such as
``mcpbundle.toml: servers.ops.shared: must be a list of strings, got a string``.
Unknown keys are rejected with a "did you mean" suggestion (as cibuildwheel does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mcpbundle.base.errors import ConfigError
from mcpbundle.base.suggest import closest

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
            close = closest(key, allowed)
            hint = f"did you mean '{close}'?" if close else f"known keys: {', '.join(allowed)}"
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
            close = closest(text, choices, cutoff=0.5)
            hint = f"did you mean '{close}'?" if close else None
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


# ------------------------------------------------------------- the table of keys


Read = Callable[[Reader, str, Any, "Key"], Any]


@dataclass(frozen=True)
class Kind:
    """A key's type: how :func:`read_keys` reads it and what JSON Schema says of it."""

    name: str
    read: Read
    json: Mapping[str, Any]


@dataclass(frozen=True)
class Key:
    """One key of a table: its type, its default, what it is for.

    ``default`` None: the key is unset unless given (no default in the schema).
    ``pattern``: a JSON Schema pattern the value must match; :mod:`mcpbundle.config.validate`
    checks the same in code (with a better message), the schema lets an editor say it first.
    """

    name: str
    kind: Kind
    doc: str
    default: Any = None
    choices: tuple[str, ...] = ()
    pattern: str | None = None
    required: bool = False
    hint: str | None = None  # how to fix a missing required key
    table: Table | None = None  # for kind TABLE: the nested table's keys
    each: Table | None = None  # for kind TABLE: a table of these tables, by name

    @property
    def attr(self) -> str:
        """The settings dataclass field this key fills."""
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Table:
    """The keys one TOML table may hold."""

    keys: tuple[Key, ...]
    doc: str = ""

    def __getitem__(self, name: str) -> Key:
        for key in self.keys:
            if key.name == name:
                return key
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(key.name for key in self.keys)

    def default(self, name: str) -> Any:
        return self[name].default


def read_keys(
    reader: Reader, key_path: str, raw: Mapping[str, Any], table: Table
) -> dict[str, Any]:
    """Check ``raw`` against ``table``: unknown keys, required keys, each value's type.

    Returns the values read, by TOML key, in the file's order."""
    reader.reject_unknown(key_path, raw, table.names)
    for key in table.keys:
        if key.required and key.name not in raw:
            raise reader.fail(join(key_path, key.name), "is required", key.hint)
    return {
        name: table[name].kind.read(reader, join(key_path, name), value, table[name])
        for name, value in raw.items()
    }


TEXT_PATTERN = r"\S"  # Reader.string: not empty, not only blanks
_TEXT = {"type": "string", "pattern": TEXT_PATTERN}

STRING = Kind("string", lambda r, path, value, _key: r.string(path, value), _TEXT)
STRINGS = Kind(
    "strings",
    lambda r, path, value, _key: r.strings(path, value),
    {"type": "array", "items": _TEXT},
)
BOOLEAN = Kind("boolean", lambda r, path, value, _key: r.boolean(path, value), {"type": "boolean"})
CHOICE = Kind(
    "choice", lambda r, path, value, key: r.choice(path, value, key.choices), {"type": "string"}
)
STRING_MAP = Kind(
    "string-map",
    lambda r, path, value, _key: r.string_map(path, value),
    {"type": "object", "additionalProperties": {"type": "string"}},
)
CHOICE_MAP = Kind(
    "choice-map",
    lambda r, path, value, key: {
        name: r.choice(join(path, name), item, key.choices)
        for name, item in sorted(r.table(path, value).items())
    },
    {"type": "object"},
)


def _read_table(reader: Reader, key_path: str, value: object, key: Key) -> dict[str, Any]:
    assert key.table is not None, key.name  # a TABLE key names its table
    return read_keys(reader, key_path, reader.table(key_path, value), key.table)


TABLE = Kind("table", _read_table, {"type": "object"})
