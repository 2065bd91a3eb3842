"""The changes between two surfaces of one server, each classified.

* **breaking**: a tool, resource, template or prompt removed; a parameter (or prompt
  argument) removed, renamed or made required; a required one added; a parameter's
  type narrowed; an output schema field removed; a resource's mime type changed;
* **compatible**: something added; an optional parameter added; a type widened;
* **info**: a description, title, name, default or annotation changed.

A server that only one side has is one change: ``new server`` (compatible) or
``server removed`` (breaking). Schemas are compared by
:mod:`mcpbundle.compare.schema_changes`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcpbundle.compare.schema_changes import Found, input_changes, output_changes

LEVELS = ("info", "compatible", "breaking")  # lowest first
KIND_ORDER = ("server", "tool", "resource", "resource template", "prompt")


@dataclass(frozen=True)
class Change:
    level: str  # one of LEVELS
    kind: str  # one of KIND_ORDER
    name: str  # the tool's or prompt's name, the resource's uri ("" for the server)
    what: str  # e.g. "parameter 'city' renamed to 'town'"

    def describe(self) -> str:
        return self.what if self.kind == "server" else f"{self.kind} '{self.name}': {self.what}"

    def to_json(self) -> dict[str, str]:
        return {"level": self.level, "kind": self.kind, "name": self.name, "change": self.what}


def rank(level: str) -> int:
    return LEVELS.index(level)


def compare(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[Change]:
    """Every change from ``old`` to ``new`` (None: the server is not there), most severe first."""
    if old is None and new is None:
        return []
    if old is None:
        return [Change("compatible", "server", "", "new server")]
    if new is None:
        return [Change("breaking", "server", "", "server removed")]
    found = [
        *_items("tool", old, new, "tools", "name", _tool),
        *_items("resource", old, new, "resources", "uri", _resource),
        *_items("resource template", old, new, "resource_templates", "uri_template", _resource),
        *_items("prompt", old, new, "prompts", "name", _prompt),
    ]
    order = {change: number for number, change in enumerate(found)}
    return sorted(found, key=lambda c: (-rank(c.level), KIND_ORDER.index(c.kind), c.name, order[c]))


def _by(items: Any, key: str) -> dict[str, Mapping[str, Any]]:
    if not isinstance(items, list):
        return {}
    return {
        str(item[key]): item
        for item in items
        if isinstance(item, Mapping) and isinstance(item.get(key), str)
    }


def _items(
    kind: str,
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    field: str,
    key: str,
    details: Any,
) -> Iterator[Change]:
    before, after = _by(old.get(field), key), _by(new.get(field), key)
    for name in sorted(before.keys() - after.keys()):
        yield Change("breaking", kind, name, "removed")
    for name in sorted(after.keys() - before.keys()):
        yield Change("compatible", kind, name, "added")
    for name in sorted(before.keys() & after.keys()):
        for level, what in details(before[name], after[name]):
            yield Change(level, kind, name, what)


def _words(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Found]:
    for key in ("title", "description"):
        if old.get(key) != new.get(key):
            yield "info", f"{key} changed"


def _tool(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Found]:
    yield from _words(old, new)
    yield from input_changes(_mapping(old.get("input_schema")), _mapping(new.get("input_schema")))
    before, after = _optional(old.get("output_schema")), _optional(new.get("output_schema"))
    yield from output_changes(before, after)
    notes_old, notes_new = _mapping(old.get("annotations")), _mapping(new.get("annotations"))
    for key in sorted(notes_old.keys() | notes_new.keys()):
        if notes_old.get(key) != notes_new.get(key):
            yield (
                "info",
                f"annotation {key} changed from {_show(notes_old.get(key))} to "
                + _show(notes_new.get(key)),
            )


def _resource(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Found]:
    if old.get("name") != new.get("name"):
        yield "info", f"name changed from {_show(old.get('name'))} to {_show(new.get('name'))}"
    yield from _words(old, new)
    if old.get("mime_type") != new.get("mime_type"):
        before, after = _show(old.get("mime_type")), _show(new.get("mime_type"))
        yield "breaking", f"mime type changed from {before} to {after}"


def _prompt(old: Mapping[str, Any], new: Mapping[str, Any]) -> Iterator[Found]:
    yield from _words(old, new)
    before = {a["name"]: a for a in _arguments(old)}
    after = {a["name"]: a for a in _arguments(new)}
    removed = [n for n in before if n not in after]
    added = [n for n in after if n not in before]
    if len(removed) == 1 and len(added) == 1:
        yield "breaking", f"argument '{removed[0]}' renamed to '{added[0]}'"
        removed, added = [], []
    for name in removed:
        yield "breaking", f"argument '{name}' removed"
    for name in added:
        if after[name].get("required"):
            yield "breaking", f"required argument '{name}' added"
        else:
            yield "compatible", f"optional argument '{name}' added"
    for name in (n for n in after if n in before):
        was, now = bool(before[name].get("required")), bool(after[name].get("required"))
        if now and not was:
            yield "breaking", f"argument '{name}' made required"
        elif was and not now:
            yield "compatible", f"argument '{name}' made optional"
        if before[name].get("description") != after[name].get("description"):
            yield "info", f"argument '{name}': description changed"


def _arguments(prompt: Mapping[str, Any]) -> Sequence[Mapping[str, Any]]:
    found = prompt.get("arguments")
    if not isinstance(found, list):
        return []
    return [a for a in found if isinstance(a, Mapping) and isinstance(a.get("name"), str)]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _optional(value: Any) -> Mapping[str, Any] | None:
    return value if isinstance(value, Mapping) else None


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def worst(changes: Sequence[Change]) -> str | None:
    """The most severe level among ``changes`` (None: no change)."""
    return max((c.level for c in changes), key=rank, default=None)
