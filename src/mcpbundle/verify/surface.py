"""A server's MCP surface: what a load exposes, normalized so two loads can be compared.

:mod:`mcpbundle.verify.load_probe` reports what FastMCP's client lists (each item as
the MCP types dump it, camelCase keys); :func:`normalize` turns that into the
surface: ``tools`` (name, title, description, input and output schema,
annotations), ``resources`` (uri, name, title, description, mime type),
``resource_templates`` (uri template, the same) and ``prompts`` (name, title,
description, arguments), each list sorted by its key. Schemas have every local
``$ref`` resolved (a recursive one is left as ``{"$ref": ...}``) and their
definitions dropped, unordered lists (``required``, ``type``, ``enum``, ``anyOf``)
sorted; nothing carries a version, timestamp or path (``_meta`` is dropped).

The probe's verdict comes from a process running untrusted code: anything that is not
the expected shape is left out, never trusted.

:class:`SurfaceCache` keeps each surface under ``CACHE/venvs/.surfaces/`` keyed by
:func:`bundle_hash` (the contents of the server's folder as it ships, its entrypoint
and target Python) and how it was loaded, so the surface of a bundle already seen
is read, not loaded again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpbundle import __version__
from mcpbundle.verify.probe_runner import PROBE

KINDS = ("tools", "resources", "resource_templates", "prompts")
_KEY = {
    "tools": "name", "resources": "uri", "resource_templates": "uri_template", "prompts": "name"
}  # fmt: skip
_UNORDERED = ("required", "type", "enum", "anyOf", "oneOf")
_DEFINITIONS = ("$defs", "definitions")
_SKIP_DIRS = frozenset({"__pycache__"})


def empty() -> dict[str, list[Any]]:
    return {kind: [] for kind in KINDS}


def normalize(raw: Any) -> dict[str, list[Any]]:
    """The surface of a probe's raw ``surface`` (see the module doc)."""
    raw = raw if isinstance(raw, Mapping) else {}
    surface = {
        "tools": [_tool(t) for t in _items(raw.get("tools"))],
        "resources": [_resource(r, "uri") for r in _items(raw.get("resources"))],
        "resource_templates": [
            _resource(r, "uriTemplate") for r in _items(raw.get("resource_templates"))
        ],
        "prompts": [_prompt(p) for p in _items(raw.get("prompts"))],
    }
    for kind in KINDS:
        key = _KEY[kind]
        kept = {item[key]: item for item in surface[kind] if isinstance(item.get(key), str)}
        surface[kind] = [kept[name] for name in sorted(kept)]
    result: dict[str, list[Any]] = json.loads(json.dumps(surface, sort_keys=True))
    return result


def is_surface(value: Any) -> bool:
    """A document :func:`normalize` produced (read back from a cache or a report)."""
    return isinstance(value, dict) and all(isinstance(value.get(k), list) for k in KINDS)


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _tool(item: Mapping[str, Any]) -> dict[str, Any]:
    annotations = item.get("annotations")
    notes = dict(annotations) if isinstance(annotations, Mapping) else {}
    title = _text(item.get("title")) or _text(notes.get("title"))
    notes.pop("title", None)
    output = item.get("outputSchema")
    return {
        "name": _text(item.get("name")),
        "title": title,
        "description": _text(item.get("description")),
        "input_schema": normalize_schema(item.get("inputSchema")),
        "output_schema": normalize_schema(output) if isinstance(output, Mapping) else None,
        "annotations": {k: v for k, v in notes.items() if v is not None and isinstance(k, str)},
    }


def _resource(item: Mapping[str, Any], key: str) -> dict[str, Any]:
    return {
        "uri" if key == "uri" else "uri_template": _text(item.get(key)),
        "name": _text(item.get("name")),
        "title": _text(item.get("title")),
        "description": _text(item.get("description")),
        "mime_type": _text(item.get("mimeType")),
    }


def _prompt(item: Mapping[str, Any]) -> dict[str, Any]:
    arguments = []
    for argument in _items(item.get("arguments")):
        name = _text(argument.get("name"))
        if name is not None:
            arguments.append({
                "name": name,
                "description": _text(argument.get("description")),
                "required": argument.get("required") is True,
            })  # fmt: skip
    return {
        "name": _text(item.get("name")),
        "title": _text(item.get("title")),
        "description": _text(item.get("description")),
        "arguments": sorted(arguments, key=lambda a: str(a["name"])),
    }


def normalize_schema(schema: Any) -> dict[str, Any]:
    """``schema`` with local ``$ref``s resolved, definitions dropped, unordered lists sorted."""
    if not isinstance(schema, Mapping):
        return {}
    resolved = _resolve(schema, schema, ())
    return resolved if isinstance(resolved, dict) else {}


def _resolve(node: Any, root: Mapping[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, root, seen) for item in node]
    if not isinstance(node, Mapping):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        target = _pointer(root, ref)
        if target is not None and ref not in seen:
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            merged = {**_resolve(target, root, (*seen, ref)), **_resolve(siblings, root, seen)}
            return merged
        return {"$ref": ref}  # recursive (or dangling): kept as a name
    result: dict[str, Any] = {}
    for key, value in node.items():
        if not isinstance(key, str) or (key in _DEFINITIONS and node is root):
            continue
        result[key] = _resolve(value, root, seen)
        if key in _UNORDERED and isinstance(result[key], list):
            result[key] = sorted(result[key], key=lambda v: json.dumps(v, sort_keys=True))
    return result


def _pointer(root: Mapping[str, Any], ref: str) -> Mapping[str, Any] | None:
    node: Any = root
    for part in ref.removeprefix("#").split("/")[1:] if ref != "#" else []:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, Mapping) else None


# -- the cache ------------------------------------------------------------------------


def bundle_hash(output_dir: Path, entry: Mapping[str, Any]) -> str | None:
    """The hash of one built server as it ships: every file in its folder (the ones its
    manifest entry lists, or all of them) by path within the folder, content and
    executable bit, plus its entrypoint and target Python. None: the folder is unreadable.

    The same bundle in a directory output and in a deploy branch (split or not) hashes
    the same."""
    path = entry.get("path")
    if not isinstance(path, str):
        return None
    folder = output_dir / path
    prefix = "" if path in ("", ".") else path.rstrip("/") + "/"
    listed = entry.get("files")
    if isinstance(listed, dict) and listed:
        rels = sorted(rel[len(prefix) :] for rel in listed if rel.startswith(prefix))
    else:
        rels = sorted(_walk(folder))
    digest = hashlib.sha256()
    entrypoint = str(entry.get("entrypoint", ""))
    for part in (entrypoint.removeprefix(prefix), str(entry.get("python"))):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    try:
        for rel in rels:
            file = folder / rel
            mode = "x" if os.access(file, os.X_OK) else "-"
            data = os.readlink(file).encode() if file.is_symlink() else file.read_bytes()
            digest.update(f"{rel}\0{mode}\0".encode("utf-8", "surrogateescape"))
            digest.update(hashlib.sha256(data).digest())
    except OSError:
        return None
    return f"sha256:{digest.hexdigest()}"


def _walk(folder: Path) -> list[str]:
    found = []
    for here, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS]
        for name in files:
            if not name.endswith((".pyc", ".pyo")):
                found.append((Path(here) / name).relative_to(folder).as_posix())
    return found


def surface_key(
    output_dir: Path, entry: Mapping[str, Any], python: str, external: Path | None,
    env: Mapping[str, str],
) -> str | None:  # fmt: skip
    """The cache key of a built server's surface (None: its bundle cannot be hashed)."""
    bundle = bundle_hash(output_dir, entry)
    return None if bundle is None else SurfaceCache.key(
        bundle, python=python, external=external, env=env
    )  # fmt: skip


def cache_path(cache_dir: Path) -> Path:
    return cache_dir / "venvs" / ".surfaces"


class SurfaceCache:
    """Surfaces by bundle hash and interpreter (the venv stands for the requirements)."""

    def __init__(self, cache_dir: Path) -> None:
        self.root = cache_path(cache_dir)

    @staticmethod
    def key(bundle: str, *, python: str, external: Path | None, env: Mapping[str, str]) -> str:
        """``python``: the base interpreter's version (the venv is made from it and the
        bundle's ``requirements.txt``); ``external``: an interpreter used as is instead."""
        digest = hashlib.sha256()
        probe = hashlib.sha256(PROBE.read_bytes()).hexdigest()
        settings = json.dumps(sorted(env.items()))
        for part in (__version__, probe, bundle, python, str(external), settings):
            digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
        return digest.hexdigest()

    def prepare(self) -> None:
        """Make the directory (a load is kept from writing a directory that exists)."""
        with contextlib.suppress(OSError):
            self.root.mkdir(parents=True, exist_ok=True)

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            document = json.loads((self.root / f"{key}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return document if is_surface(document) else None

    def put(self, key: str, surface: Mapping[str, Any]) -> None:
        """Keep a surface (written whole, then renamed: readers never see half a file)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            partial = self.root / f".{key}.{os.getpid()}.{threading.get_ident()}"
            partial.write_text(json.dumps(surface, sort_keys=True), encoding="utf-8")
            partial.replace(self.root / f"{key}.json")
        except OSError:
            return  # a cache that cannot be written only costs the next run a load
