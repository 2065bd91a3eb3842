"""The surface's normalization (refs, order, hostile shapes) and the schema comparisons
that real fastmcp output does not reach (nested objects, arrays, bounds, outputs)."""

from __future__ import annotations

import json
from typing import Any

from mcpbundle.compare.schema_changes import input_changes, output_changes
from mcpbundle.compare.surface_diff import compare
from mcpbundle.verify.surface import bundle_hash, normalize, normalize_schema


def test_refs_are_resolved_definitions_dropped_and_lists_sorted() -> None:
    schema = {
        "$defs": {
            "Addr": {"type": "object", "properties": {"zip": {"type": ["null", "integer"]}},
                     "required": ["zip"]},
            "Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}},
        },
        "type": "object",
        "properties": {
            "addr": {"$ref": "#/$defs/Addr", "description": "where"},
            "tree": {"$ref": "#/$defs/Node"},
            "kind": {"enum": ["b", "a"]},
        },
        "required": ["tree", "addr"],
    }  # fmt: skip
    found = normalize_schema(schema)
    assert "$defs" not in found
    assert found["required"] == ["addr", "tree"]
    assert found["properties"]["addr"] == {
        "description": "where", "type": "object", "required": ["zip"],
        "properties": {"zip": {"type": ["integer", "null"]}},
    }  # fmt: skip
    recursive = found["properties"]["tree"]["properties"]["next"]
    assert recursive == {"$ref": "#/$defs/Node"}, "a recursive ref stays a name"
    assert found["properties"]["kind"]["enum"] == ["a", "b"]


def test_normalize_keeps_only_the_expected_shapes() -> None:
    raw = {
        "tools": [
            {"name": "b", "inputSchema": {"type": "object"}, "_meta": {"v": "1.2.3"},
             "annotations": {"title": "B tool", "readOnlyHint": True}},
            {"name": "a", "inputSchema": "nonsense", "outputSchema": 3},
            {"name": 7},
            "not a tool",
        ],
        "resources": [{"uri": "x://a", "mimeType": "text/plain", "size": 12}],
        "resource_templates": None,
        "prompts": [{"name": "p", "arguments": [{"name": "z"}, {"name": "y", "required": True},
                                                 {"required": True}]}],
    }  # fmt: skip
    found = normalize(raw)
    assert [t["name"] for t in found["tools"]] == ["a", "b"]
    a, b = found["tools"]
    assert a["input_schema"] == {} and a["output_schema"] is None
    assert b["title"] == "B tool" and b["annotations"] == {"readOnlyHint": True}
    assert "_meta" not in json.dumps(found) and "1.2.3" not in json.dumps(found)
    assert found["resources"] == [
        {
            "uri": "x://a",
            "name": None,
            "title": None,
            "description": None,
            "mime_type": "text/plain",
        }
    ]
    assert found["resource_templates"] == []
    assert found["prompts"][0]["arguments"] == [
        {"name": "y", "description": None, "required": True},
        {"name": "z", "description": None, "required": False},
    ]
    assert normalize("garbage") == {
        "tools": [], "resources": [], "resource_templates": [], "prompts": []
    }  # fmt: skip


def _obj(props: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required or []}


def test_nested_objects_and_arrays_are_compared_to_any_depth() -> None:
    old = _obj({"addr": _obj({"zip": {"type": "integer"}, "city": {"type": "string"}}),
                "tags": {"type": "array", "items": {"type": "string"}}})  # fmt: skip
    new = _obj({"addr": _obj({"zip": {"type": "integer"}}, ["zip"]),
                "tags": {"type": "array", "items": {"type": "integer"}}})  # fmt: skip
    assert input_changes(old, new) == [
        ("breaking", "parameter 'addr.city' removed"),
        ("breaking", "parameter 'addr.zip' made required"),
        ("breaking", "parameter 'tags[]': type changed from string to integer"),
    ]


def test_an_optional_union_member_is_followed() -> None:
    addr = _obj({"zip": {"type": "integer"}})
    old = _obj({"addr": {"anyOf": [addr, {"type": "null"}]}})
    new = _obj({"addr": {"anyOf": [_obj({"zip": {"type": "number"}}), {"type": "null"}]}})
    assert input_changes(old, new) == [
        ("compatible", "parameter 'addr.zip': type widened from integer to number")
    ]
    narrowed = _obj({"addr": addr})
    assert input_changes(old, narrowed) == [
        ("breaking", "parameter 'addr': type narrowed from null|object to object")
    ]


def test_bounds_tightened_break_and_loosened_do_not() -> None:
    old = _obj({"n": {"type": "integer", "maximum": 10}, "s": {"type": "string"}})
    new = _obj({"n": {"type": "integer", "maximum": 20}, "s": {"type": "string", "maxLength": 5}})
    assert input_changes(old, new) == [
        ("compatible", "parameter 'n': maximum changed from 10 to 20"),
        ("breaking", "parameter 's': maxLength added (5)"),
    ]


def test_two_removed_and_two_added_pair_by_shape() -> None:
    old = _obj({"a": {"type": "string"}, "b": {"type": "integer"}}, ["a", "b"])
    new = _obj({"x": {"type": "integer"}, "y": {"type": "string"}}, ["x", "y"])
    assert input_changes(old, new) == [
        ("breaking", "parameter 'a' renamed to 'y'"),
        ("breaking", "parameter 'b' renamed to 'x'"),
    ]


def test_output_directions_turn_round() -> None:
    old = _obj({"total": {"type": "integer"}, "note": {"type": "string"}}, ["total", "note"])
    new = _obj({"total": {"type": ["integer", "string"]}, "extra": {"type": "string"}}, ["total"])
    assert output_changes(old, new) == [
        ("breaking", "output field 'note' removed"),
        ("compatible", "output field 'extra' added"),
        ("breaking", "output field 'total': type widened from integer to integer|string"),
    ]
    assert output_changes(None, old) == [("compatible", "output schema added")]
    assert output_changes(old, None) == [("breaking", "output schema removed")]
    optional = _obj({"total": {"type": "integer"}, "note": {"type": "string"}}, ["total"])
    assert output_changes(old, optional) == [("breaking", "output field 'note' may now be missing")]


def test_annotations_and_titles_are_info() -> None:
    tool = {"name": "t", "title": "T", "description": "d", "input_schema": {},
            "output_schema": None, "annotations": {"readOnlyHint": True}}  # fmt: skip
    changed = {**tool, "title": "Tee", "annotations": {"readOnlyHint": False}}
    old = {"tools": [tool], "resources": [], "resource_templates": [], "prompts": []}
    new = {**old, "tools": [changed]}
    assert [(c.level, c.what) for c in compare(old, new)] == [
        ("info", "title changed"),
        ("info", "annotation readOnlyHint changed from true to false"),
    ]


def test_bundle_hash_is_content_not_location(tmp_path: Any) -> None:
    for root in (tmp_path / "one", tmp_path / "two" / "deeper"):
        (root / "srv" / "src").mkdir(parents=True)
        (root / "srv" / "src" / "server.py").write_text("x = 1\n")
        (root / "srv" / "requirements.txt").write_text("fastmcp==4.0\n")
    entry = {"path": "srv", "entrypoint": "srv/src/server.py", "python": "3.12"}
    first = bundle_hash(tmp_path / "one", entry)
    assert first == bundle_hash(tmp_path / "two" / "deeper", entry)
    split = {"path": ".", "entrypoint": "src/server.py", "python": "3.12"}
    assert bundle_hash(tmp_path / "one" / "srv", split) == first, "a split branch's root"
    (tmp_path / "one" / "srv" / "requirements.txt").write_text("fastmcp==4.1\n")
    assert bundle_hash(tmp_path / "one", entry) != first
    assert bundle_hash(tmp_path / "one", {**entry, "python": "3.13"}) != bundle_hash(
        tmp_path / "one", entry
    )
