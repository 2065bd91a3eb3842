"""Shapes of values whose format another spec defines, each read and described once.

The MCP Bundle manifest's fields (``[bundle.mcpb]``, ``[servers.x.mcpb]``) have the
shapes the manifest spec gives them. A :class:`Shape` checks a TOML value with the same
one-line errors as :class:`~mcpbundle.config.schema.Reader` (``mcpbundle.toml:
servers.ops.mcpb.keywords: must be a list of strings, got a string``) and writes the
JSON Schema of the same shape for ``schema/mcpbundle.schema.json``: ``validate`` and the
schema read one definition, so they cannot disagree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from mcpbundle.config.schema import TEXT_PATTERN, Reader, join, type_name


class Shape:
    """The shape of a value whose format another spec defines (the MCP Bundle manifest's
    fields): :meth:`read` checks a TOML value with one-line errors, :meth:`json` is the
    JSON Schema of the same shape, so ``validate`` and the schema cannot disagree."""

    def noun(self) -> str:
        """What the value must be: "a string" ("must be a string, got ...")."""
        return "a value"

    def plural(self) -> str:
        """Of a list of them: "strings" ("must be a list of strings, got ...")."""
        return "values"

    def accepts(self, value: object) -> bool:
        """``value`` has this shape's TOML type (what :class:`AnyOf` picks an option by)."""
        raise NotImplementedError

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        raise NotImplementedError

    def json(self) -> dict[str, Any]:
        raise NotImplementedError


def _python_pattern(pattern: str) -> re.Pattern[str]:
    """A JSON Schema (ECMAScript) pattern as Python reads it alike: a final ``$`` does not
    match before a trailing line break, as it would in Python."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


@dataclass(frozen=True)
class Text(Shape):
    """A string: not blank (unless ``blank``), one of ``choices``, or matching
    ``pattern`` (written for ECMAScript and Python alike; it must reject blanks)."""

    pattern: str | None = None
    problem: str = ""  # "is not a URL": what the value is when the pattern fails
    hint: str | None = None
    choices: tuple[str, ...] = ()
    blank: bool = False

    def noun(self) -> str:
        return "a string"

    def plural(self) -> str:
        return "strings"

    def accepts(self, value: object) -> bool:
        return isinstance(value, str)

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        if self.choices:
            reader.choice(key_path, value, self.choices)
            return
        text = reader.string(key_path, value, allow_empty=self.blank or self.pattern is not None)
        if self.pattern is not None and not _python_pattern(self.pattern).search(text):
            raise reader.fail(key_path, f"{text!r} {self.problem}", self.hint)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.choices:
            out["enum"] = list(self.choices)
        elif self.pattern is not None:
            out["pattern"] = self.pattern
        elif not self.blank:
            out["pattern"] = TEXT_PATTERN
        return out


@dataclass(frozen=True)
class Flag(Shape):
    """A boolean value."""

    def noun(self) -> str:
        return "true or false"

    def plural(self) -> str:
        return "booleans"

    def accepts(self, value: object) -> bool:
        return isinstance(value, bool)

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        reader.boolean(key_path, value)

    def json(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class Number(Shape):
    """A finite number, integer or float (a boolean is not one)."""

    def noun(self) -> str:
        return "a number"

    def plural(self) -> str:
        return "numbers"

    def accepts(self, value: object) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        if not self.accepts(value):
            raise reader.fail(key_path, f"must be a number, got {type_name(value)}")
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise reader.fail(key_path, "must be a finite number (JSON has no inf or nan)")

    def json(self) -> dict[str, Any]:
        return {"type": "number"}


@dataclass(frozen=True)
class ListOf(Shape):
    """A list whose every item has the shape ``item``."""

    item: Shape

    def noun(self) -> str:
        return f"a list of {self.item.plural()}"

    def plural(self) -> str:
        return "lists"

    def accepts(self, value: object) -> bool:
        return isinstance(value, list)

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        if not isinstance(value, list):
            raise reader.fail(key_path, f"must be {self.noun()}, got {type_name(value)}")
        for index, item in enumerate(value):
            self.item.read(reader, f"{key_path}[{index}]", item)

    def json(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.json()}


class _Table(Shape):
    """What every table shape is, whatever its keys."""

    def noun(self) -> str:
        return "a table"

    def plural(self) -> str:
        return "tables"

    def accepts(self, value: object) -> bool:
        return isinstance(value, dict)


@dataclass(frozen=True)
class Fields(_Table):
    """A table of these keys (no others), ``required`` among them."""

    fields: tuple[tuple[str, Shape], ...]
    required: tuple[str, ...] = ()
    hint: str | None = None  # how to give a missing required key

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        table = reader.table(key_path, value)
        shapes = dict(self.fields)
        reader.reject_unknown(key_path, table, shapes)
        for name in self.required:
            if name not in table:
                raise reader.fail(join(key_path, name), "is required", self.hint)
        for name, item in table.items():
            shapes[name].read(reader, join(key_path, name), item)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "properties": {name: shape.json() for name, shape in self.fields},
            "additionalProperties": False,
        }
        if self.required:
            out["required"] = list(self.required)
        return out


@dataclass(frozen=True)
class MapOf(_Table):
    """A table of any keys, each value of shape ``value`` (None: anything)."""

    value: Shape | None = None

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        table = reader.table(key_path, value)
        if self.value is not None:
            for name, item in table.items():
                self.value.read(reader, join(key_path, name), item)

    def json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "object"}
        if self.value is not None:
            out["additionalProperties"] = self.value.json()
        return out


@dataclass(frozen=True)
class AnyOf(Shape):
    """One of ``options``, picked by the value's type (each option a different type)."""

    options: tuple[Shape, ...]

    def noun(self) -> str:
        nouns = [option.noun() for option in self.options]
        return ", ".join(nouns[:-1]) + ", or " + nouns[-1]

    def accepts(self, value: object) -> bool:
        return any(option.accepts(value) for option in self.options)

    def read(self, reader: Reader, key_path: str, value: object) -> None:
        for option in self.options:
            if option.accepts(value):
                option.read(reader, key_path, value)
                return
        raise reader.fail(key_path, f"must be {self.noun()}, got {type_name(value)}")

    def json(self) -> dict[str, Any]:
        return {"anyOf": [option.json() for option in self.options]}
