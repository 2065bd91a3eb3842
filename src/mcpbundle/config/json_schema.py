"""``schema/mcpbundle.schema.json``, made from the table of keys ``validate`` reads.

:func:`schema_document` walks :data:`mcpbundle.config.settings.ROOT` (every key's type,
default, choices, pattern and purpose) into a JSON Schema (draft-07, what TOML editors
such as Taplo / Even Better TOML read). The schema says what a type can say: unknown
keys, types, choices, required keys, name and path shapes. What needs the file system
(a path exists, stays inside the repository) only ``mcpbundle validate`` checks, so a
config the schema accepts may still fail there, never the other way round. The ``mcpb``
tables' manifest fields are their :class:`~mcpbundle.config.shapes.Shape`'s JSON, the
shapes ``validate`` reads them with.

``python -m mcpbundle.config.json_schema [FILE]`` writes it (``make schema``); a test
fails when the committed file is not what this module makes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from mcpbundle.config.schema import CHOICE, CHOICE_MAP, TABLE, Key, Table
from mcpbundle.config.settings import MAX_NAME, NAME_PATTERN, ROOT

SCHEMA_ID = (
    "https://raw.githubusercontent.com/mcpbundle/mcpbundle/main/schema/mcpbundle.schema.json"
)
DRAFT = "http://json-schema.org/draft-07/schema#"


def schema_document() -> dict[str, Any]:
    """The JSON Schema of ``mcpbundle.toml`` (and of ``[tool.mcpbundle]``)."""
    document = {
        "$schema": DRAFT,
        "$id": SCHEMA_ID,
        "title": "mcpbundle.toml",
        **_table(ROOT),
    }
    document["properties"]["servers"]["minProperties"] = 1  # "no servers declared"
    return document


def schema_text() -> str:
    return json.dumps(schema_document(), indent=2, ensure_ascii=False) + "\n"


def _table(table: Table) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    if table.doc:
        out["description"] = table.doc
    out["properties"] = {key.name: _key(key) for key in table.keys}
    out["additionalProperties"] = False
    required = [key.name for key in table.keys if key.required]
    if required:
        out["required"] = required
    return out


def _key(key: Key) -> dict[str, Any]:
    if key.kind is TABLE and key.table is not None:
        out = _table(key.table)
        out["description"] = key.doc
        return out
    out = {"description": key.doc, **_copy(key.kind.json)}
    if key.each is not None:
        out["propertyNames"] = {"pattern": NAME_PATTERN, "maxLength": MAX_NAME}
        out["additionalProperties"] = _table(key.each)
    if key.kind is CHOICE:
        out["enum"] = list(key.choices)
    if key.kind is CHOICE_MAP:
        out["additionalProperties"] = {"enum": list(key.choices)}
    if key.pattern is not None:
        out.setdefault("allOf", []).append({"pattern": key.pattern})
    if key.default is not None:
        out["default"] = _json_value(key.default)
    return out


def _copy(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {name: _copy(item) for name, item in value.items()}
    if isinstance(value, list | tuple):
        return [_copy(item) for item in value]
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Mapping):
        return dict(value)
    return value


def main(argv: list[str]) -> int:
    text = schema_text()
    if argv:
        with open(argv[0], "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
