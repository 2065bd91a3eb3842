"""The texts inside an MCP Bundle: ``manifest.json``, the uv runtime's ``pyproject.toml``
and the launcher that starts the server over stdio.

All pure functions of their arguments (deterministic: sorted keys, no timestamps, no
paths of this machine). The manifest follows the MCP Bundle manifest spec (0.4 for the
``uv`` runtime, 0.3 for ``python``); ``[bundle.mcpb]`` then ``[servers.x.mcpb]`` are
merged over what mcpbundle derived (tables merge key by key, anything else replaces).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from mcpbundle.emit.mcpb_facts import Facts, Setting
from mcpbundle.plan.pinned_text import parse_pins

SERVER_DIR = "server"  # the server's folder inside the bundle
LIB_DIR = "server/lib"  # the python runtime's installed requirements
LAUNCHER = "mcpbundle_main.py"  # in the server's folder: starts it over stdio
MANIFEST_VERSIONS = {"uv": "0.4", "python": "0.3"}


@dataclass(frozen=True, kw_only=True)
class Prompt:
    name: str
    description: str | None = None
    arguments: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Surface:
    """The tools and prompts a load of the server lists (verify's), for the manifest."""

    tools: tuple[tuple[str, str | None], ...] = ()  # (name, description)
    prompts: tuple[Prompt, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "tools": [[name, text] for name, text in self.tools],
            "prompts": [[p.name, p.description, list(p.arguments)] for p in self.prompts],
        }


@dataclass(frozen=True, kw_only=True)
class Launch:
    """How the bundle starts: the runtime, the target Python, the entry inside ``server/``."""

    runtime: str  # "uv" | "python"
    python: str  # "3.12"
    entry: str  # the entry file (the shim when there is one), relative to the server folder
    object: str
    platforms: tuple[str, ...] = ()


def python_range(python: str) -> str:
    """``3.12`` -> ``>=3.12,<3.13``: the pins are for that minor version."""
    major, _, minor = python.partition(".")
    return f">={major}.{minor},<{major}.{int(minor) + 1}"


def manifest(
    facts: Facts,
    launch: Launch,
    *,
    version: str,
    surface: Surface | None,
    overrides: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The manifest of one server's bundle: derived fields, then ``overrides`` merged in."""
    launcher = f"{SERVER_DIR}/{LAUNCHER}"
    env = {s.name: f"${{user_config.{s.name}}}" for s in facts.settings}
    if launch.runtime == "uv":
        config: dict[str, Any] = {
            "command": "uv",
            "args": ["run", "--directory", "${__dirname}", launcher],
        }
    else:
        env["PYTHONPATH"] = f"${{__dirname}}/{LIB_DIR}"
        config = {"command": "python", "args": [f"${{__dirname}}/{launcher}"]}
    if env:
        config["env"] = env
    document: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSIONS[launch.runtime],
        "name": facts.name,
        "version": version,
        "description": facts.description or f"The {facts.name} MCP server.",
        "server": {"type": launch.runtime, "entry_point": launcher, "mcp_config": config},
        "compatibility": {
            "platforms": list(launch.platforms),
            "runtimes": {"python": python_range(launch.python)},
        },
    }
    if facts.author:
        document["author"] = dict(facts.author)
    if facts.license:
        document["license"] = facts.license
    if facts.keywords:
        document["keywords"] = list(facts.keywords)
    for key in ("homepage", "documentation", "support"):
        if key in facts.urls:
            document[key] = facts.urls[key]
    if "repository" in facts.urls:
        document["repository"] = {"type": "git", "url": facts.urls["repository"]}
    if facts.settings:
        document["user_config"] = {s.name: user_config(s) for s in facts.settings}
    if surface is not None:
        document["tools"] = [_tool(name, text) for name, text in surface.tools]
        document["prompts"] = [_prompt(p) for p in surface.prompts]
    for table in overrides:
        document = merge(document, table)
    return document


def user_config(setting: Setting) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": "string",
        "title": setting.name,
        "description": f"Environment variable {setting.name} (read in {setting.read_at}).",
        "required": setting.required,
        "sensitive": setting.sensitive,
    }
    if setting.default is not None:
        entry["default"] = setting.default
    return entry


def _tool(name: str, description: str | None) -> dict[str, str]:
    tool = {"name": name}
    if description:
        tool["description"] = description
    return tool


def _prompt(prompt: Prompt) -> dict[str, Any]:
    """A prompt entry; ``text`` (required by the spec) is its description and arguments as
    ``${arguments.NAME}`` placeholders: the server renders the real text on prompts/get."""
    lines = [prompt.description or prompt.name]
    if prompt.arguments:
        lines += ["", *(f"{arg}: ${{arguments.{arg}}}" for arg in prompt.arguments)]
    entry: dict[str, Any] = {"name": prompt.name}
    if prompt.description:
        entry["description"] = prompt.description
    if prompt.arguments:
        entry["arguments"] = list(prompt.arguments)
    entry["text"] = "\n".join(lines)
    return entry


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """``over`` on ``base``: tables merge key by key, other values replace."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = _plain(value)
    return merged


def _plain(value: Any) -> Any:
    """TOML values as JSON ones (a tomllib datetime becomes its ISO text)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def render_json(document: Mapping[str, Any]) -> bytes:
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def pyproject(name: str, version: str, python: str, requirements_txt: str) -> bytes:
    """The uv runtime's ``pyproject.toml``: the pinned requirements, nothing to build."""
    pins = [
        f"{pin.name}=={pin.version}" + (f"; {pin.marker}" if pin.marker else "")
        for pin in parse_pins(requirements_txt)
    ]
    try:
        project_version = str(Version(version))
    except InvalidVersion:
        project_version = "0"  # the manifest keeps the real one; uv needs PEP 440 here
    lines = [
        "# Generated by mcpbundle: the pinned requirements of this MCP Bundle's server,",
        "# installed by the client's uv (`uv run` in this directory). Do not edit.",
        "[project]",
        f"name = {json.dumps(name)}",
        f"version = {json.dumps(project_version)}",
        f"requires-python = {json.dumps(python_range(python))}",
        "dependencies = [",
        *(f"    {json.dumps(pin)}," for pin in pins),
        "]",
        "",
        "[tool.uv]",
        "package = false",
        "",
    ]
    return "\n".join(lines).encode()


def launcher(entry: str, obj: str) -> bytes:
    """``server/mcpbundle_main.py``: load ``entry:obj`` by FastMCP's file-loader rules and
    run it over stdio, so a server without a ``__main__`` guard starts too."""
    parts = tuple(p for p in entry.split("/") if p)
    text = f'''"""Generated by mcpbundle: start this MCP Bundle's server over stdio. Do not edit.

Loads {entry}:{obj} by the rules of FastMCP's file loader (the file's directory first
on sys.path, the module as ``server_module``, then the object; a factory is called)
and runs it with the stdio transport.
"""

import asyncio
import importlib.util
import inspect
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ENTRY = os.path.join(HERE, *{parts!r})
OBJECT = {obj!r}


def load():
    directory = os.path.dirname(ENTRY)
    if directory in sys.path:
        sys.path.remove(directory)
    sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location("server_module", ENTRY)
    module = importlib.util.module_from_spec(spec)
    sys.modules["server_module"] = module
    spec.loader.exec_module(module)
    server = getattr(module, OBJECT)
    if inspect.isfunction(server) or inspect.iscoroutinefunction(server):
        server = server()
        if inspect.isawaitable(server):
            server = asyncio.run(server)
    return server


if __name__ == "__main__":
    load().run()
'''
    return text.encode()
