"""How two JSON schemas of one tool differ, each difference with its level.

For an *input* schema (what a caller sends) a change that refuses a call the old
schema accepted is **breaking** (a parameter removed, renamed or made required; a
type narrowed; an enum value or a looser constraint taken away), one that accepts
more is **compatible** (an optional parameter added, a type widened), and a new
description, title or default is **info**. For an *output* schema (what a caller
reads) the directions turn round: a field removed, or one that may now be missing,
or a type widened is breaking; a field added or a type narrowed is compatible.
Objects are compared property by property, arrays by their items, both to any depth
(``addr.zip``, ``tags[]``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

Found = tuple[str, str]  # (level, what)
_TEXT = ("title", "description")
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_OTHER = ("pattern", "format", "multipleOf", "uniqueItems")
_ALL_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})


def input_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Found]:
    """What changed in a tool's parameters (its input schema's properties)."""
    return list(_properties(old, new, "", output=False))


def output_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Found]:
    """What changed in a tool's output schema (None: the tool declares none)."""
    if old is None and new is None:
        return []
    if old is None:
        return [("compatible", "output schema added")]
    if new is None:
        return [("breaking", "output schema removed")]
    return list(_properties(old, new, "", output=True))


def _name(path: str, output: bool) -> str:
    return f"{'output field' if output else 'parameter'} '{path}'"


def _props(schema: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
    part = _object_part(schema)
    if part is None:
        return {}, set()
    props = part.get("properties")
    required = part.get("required")
    return (
        {k: v for k, v in props.items() if isinstance(v, Mapping)} if isinstance(props, Mapping)
        else {},
        {r for r in required if isinstance(r, str)} if isinstance(required, list) else set(),
    )  # fmt: skip


def _object_part(schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The schema itself when it has properties, or its one union member that does."""
    if isinstance(schema.get("properties"), Mapping):
        return schema
    members = [m for m in _members(schema) if isinstance(m.get("properties"), Mapping)]
    return members[0] if len(members) == 1 else None


def _members(schema: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = []
    for key in ("anyOf", "oneOf"):
        value = schema.get(key)
        if isinstance(value, list):
            found += [m for m in value if isinstance(m, Mapping)]
    return found


def _properties(
    old: Mapping[str, Any], new: Mapping[str, Any], prefix: str, *, output: bool
) -> Iterator[Found]:
    (before, was_required), (after, required) = _props(old), _props(new)
    removed = [p for p in before if p not in after]
    added = [p for p in after if p not in before]
    renamed = _renames(before, after, removed, added) if not output else []
    for gone, came in renamed:
        removed.remove(gone)
        added.remove(came)
        yield "breaking", f"{_name(prefix + gone, output)} renamed to '{prefix + came}'"
    for gone in removed:
        yield "breaking", f"{_name(prefix + gone, output)} removed"
    for came in added:
        if output:
            yield "compatible", f"{_name(prefix + came, output)} added"
        elif came in required:
            yield "breaking", f"required {_name(prefix + came, output)} added"
        else:
            yield "compatible", f"optional {_name(prefix + came, output)} added"
    for name in (p for p in after if p in before):
        label = _name(prefix + name, output)
        if name in required and name not in was_required:
            yield ("compatible", f"{label} is now always present") if output else (
                "breaking", f"{label} made required"
            )  # fmt: skip
        elif name in was_required and name not in required:
            yield ("breaking", f"{label} may now be missing") if output else (
                "compatible", f"{label} made optional"
            )  # fmt: skip
        yield from _schema(before[name], after[name], prefix + name, output=output)


def _renames(
    before: Mapping[str, Any], after: Mapping[str, Any], removed: list[str], added: list[str]
) -> list[tuple[str, str]]:
    """Removed parameters paired with added ones of the same shape (or the one left of each)."""
    pairs, free = [], list(added)
    for gone in removed:
        match = next((c for c in free if _shape(before[gone]) == _shape(after[c])), None)
        if match is not None:
            pairs.append((gone, match))
            free.remove(match)
    rest = [g for g in removed if g not in {p[0] for p in pairs}]
    if len(rest) == 1 and len(free) == 1:
        pairs.append((rest[0], free[0]))
    return pairs


def _shape(schema: Mapping[str, Any]) -> str:
    """A schema less its words: what decides the values it accepts."""

    def strip(node: Any) -> Any:
        if isinstance(node, Mapping):
            return {k: strip(v) for k, v in node.items() if k not in _TEXT}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(schema), sort_keys=True)


def _schema(
    old: Mapping[str, Any], new: Mapping[str, Any], path: str, *, output: bool
) -> Iterator[Found]:
    label = _name(path, output)
    yield from _types(old, new, label, output=output)
    yield from _enum(old, new, label, output=output)
    yield from _constraints(old, new, label, output=output)
    if _object_part(old) is not None and _object_part(new) is not None:
        yield from _properties(old, new, path + ".", output=output)
    items_old, items_new = old.get("items"), new.get("items")
    if isinstance(items_old, Mapping) and isinstance(items_new, Mapping):
        yield from _schema(items_old, items_new, path + "[]", output=output)
    for key in _TEXT:
        if old.get(key) != new.get(key):
            yield "info", f"{label}: {key} changed"
    if old.get("default") != new.get("default"):
        yield (
            "info",
            f"{label}: default changed from {_show(old.get('default'))} to "
            + _show(new.get("default")),
        )


def _type_set(schema: Mapping[str, Any]) -> frozenset[str]:
    """The JSON types a schema allows (all of them when it names none)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return frozenset({kind})
    if isinstance(kind, list):
        return frozenset(k for k in kind if isinstance(k, str))
    members = _members(schema)
    if members:
        found: set[str] = set()
        for member in members:
            found |= _type_set(member)
        return frozenset(found)
    values = schema.get("enum")
    if not isinstance(values, list):
        values = [schema["const"]] if "const" in schema else None
    if values is not None:
        return frozenset(_json_type(v) for v in values)
    return _ALL_TYPES


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else "string"


def _accepts(types: frozenset[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


def _types(
    old: Mapping[str, Any], new: Mapping[str, Any], label: str, *, output: bool
) -> Iterator[Found]:
    before, after = _type_set(old), _type_set(new)
    if before == after:
        return
    wider = all(_accepts(after, k) for k in before)
    narrower = all(_accepts(before, k) for k in after)
    change = f"from {_kinds(before)} to {_kinds(after)}"
    if wider and not narrower:
        yield ("breaking" if output else "compatible"), f"{label}: type widened {change}"
    elif narrower and not wider:
        yield ("compatible" if output else "breaking"), f"{label}: type narrowed {change}"
    else:
        yield "breaking", f"{label}: type changed {change}"


def _kinds(types: frozenset[str]) -> str:
    return "any" if types == _ALL_TYPES else "|".join(sorted(types))


def _enum(
    old: Mapping[str, Any], new: Mapping[str, Any], label: str, *, output: bool
) -> Iterator[Found]:
    def values(schema: Mapping[str, Any]) -> set[str] | None:
        found = schema.get("enum")
        if isinstance(found, list):
            return {json.dumps(v, sort_keys=True) for v in found}
        if "const" in schema:
            return {json.dumps(schema["const"], sort_keys=True)}
        members = [values(m) for m in _members(schema)]
        if members and any(m is not None for m in members):
            return set().union(*(m for m in members if m is not None))
        return None

    before, after = values(old), values(new)
    if before == after:
        return
    fewer, more = ("compatible", "breaking") if output else ("breaking", "compatible")
    if before is not None and after is not None:
        if gone := sorted(before - after):
            yield fewer, f"{label}: value{'s' if len(gone) > 1 else ''} {', '.join(gone)} removed"
        if came := sorted(after - before):
            yield more, f"{label}: value{'s' if len(came) > 1 else ''} {', '.join(came)} added"
    elif after is not None:
        yield fewer, f"{label}: now limited to {', '.join(sorted(after))}"
    else:
        yield more, f"{label}: no longer limited to a list of values"


def _constraints(
    old: Mapping[str, Any], new: Mapping[str, Any], label: str, *, output: bool
) -> Iterator[Found]:
    """Bounds and formats: tightened is breaking for input; for output only info."""
    for key in (*_LOWER, *_UPPER, *_OTHER):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        what = f"{label}: {key} " + (
            f"added ({_show(b)})" if a is None else
            f"removed (was {_show(a)})" if b is None else f"changed from {_show(a)} to {_show(b)}"
        )  # fmt: skip
        if output:
            yield "info", what
            continue
        tighter = _tighter(key, a, b)
        yield ("breaking" if tighter else "compatible"), what


def _tighter(key: str, a: Any, b: Any) -> bool:
    if b is None:
        return False
    if a is None:
        return True
    numbers: Callable[[Any], bool] = lambda v: isinstance(v, int | float)  # noqa: E731
    if numbers(a) and numbers(b):
        return bool(b > a) if key in _LOWER else bool(b < a) if key in _UPPER else True
    return True


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
