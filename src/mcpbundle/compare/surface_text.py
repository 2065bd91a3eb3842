"""``mcpbundle surface SERVER`` as text: one line per tool (its parameters, ``?`` for an
optional one, and what it returns), resource, template and prompt."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def format_surface(name: str, surface: Mapping[str, Any]) -> str:
    tools, resources = surface.get("tools", []), surface.get("resources", [])
    templates, prompts = surface.get("resource_templates", []), surface.get("prompts", [])
    lines = [
        f"{name}: {_count(tools, 'tool')}, {_count(resources, 'resource')}, "
        f"{_count(templates, 'resource template')}, {_count(prompts, 'prompt')}"
    ]
    if tools:
        lines.append("tools:")
        for tool in tools:
            lines.append(f"  {tool['name']}({_params(tool.get('input_schema') or {})})"
                         + _returns(tool.get("output_schema")))  # fmt: skip
            if tool.get("description"):
                lines.append(f"      {_first(tool['description'])}")
    for label, items, key in (("resources", resources, "uri"),
                              ("resource templates", templates, "uri_template")):  # fmt: skip
        if items:
            lines.append(f"{label}:")
            for item in items:
                facts = [v for v in (item.get("name"), item.get("mime_type")) if v]
                lines.append(f"  {item[key]}" + (f"  ({', '.join(facts)})" if facts else ""))
    if prompts:
        lines.append("prompts:")
        for prompt in prompts:
            args = ", ".join(
                a["name"] + ("" if a.get("required") else "?") for a in prompt.get("arguments", [])
            )
            lines.append(f"  {prompt['name']}({args})")
    return "\n".join(lines)


def _count(items: Any, noun: str) -> str:
    number = len(items) if isinstance(items, list) else 0
    return f"{number} {noun}{'s' if number != 1 else ''}"


def _first(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def _type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, str):
        return kind
    if isinstance(kind, list):
        return "|".join(str(k) for k in kind)
    members = schema.get("anyOf") or schema.get("oneOf")
    if isinstance(members, list):
        return "|".join(_type(m) for m in members if isinstance(m, Mapping))
    return "any"


def _params(schema: Mapping[str, Any]) -> str:
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return ""
    required = set(schema.get("required") or [])
    return ", ".join(
        f"{name}{'' if name in required else '?'}: {_type(value)}"
        for name, value in props.items()
        if isinstance(value, Mapping)
    )


def _returns(schema: Any) -> str:
    if not isinstance(schema, Mapping):
        return ""
    return f" -> {_type(schema)}"
