"""Rewrite a server's ``pyproject.toml`` for the bundle, keeping everything else as written.

The bundle's pyproject must not point anywhere a PyPI-only host cannot follow:

* ``[project].dependencies`` becomes exactly the pinned lines of
  ``requirements.txt`` (``"dependencies"`` leaves ``[project].dynamic`` and
  ``[tool.setuptools.dynamic]``);
* ``[tool.uv.sources]``, ``[tool.uv.workspace]`` and uv's index settings go
  (``[tool.uv]`` too when nothing else is left in it, and ``[tool]`` likewise), as do
  Poetry's ``[[tool.poetry.source]]`` tables: an index is a resolver input, never part of
  the bundle, and its URL may carry credentials;
* Poetry ``path``/``git`` dependencies go, in the main table, in
  ``[tool.poetry.dev-dependencies]`` and in every ``[tool.poetry.group.*]``;
* ``[build-system]`` goes unless the bundle is meant to be installable, since a
  host that sees it runs ``pip install .``.

Comments, ordering and formatting of everything else are kept (tomlkit). The
result depends only on the input, and rewriting it again changes nothing.
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Array, String

from mcpbundle.base.errors import ConfigError

_POETRY_LOCAL_KEYS = ("path", "git")
_UV_INDEX_KEYS = ("index", "index-url", "extra-index-url", "find-links", "default-index")


def rewrite_pyproject(
    text: str, *, pins: Sequence[str], installable: bool = False, where: str | None = None
) -> str:
    """``text`` rewritten for the bundle (see the module docstring).

    A file without a ``[project]`` table (a Poetry-only project) keeps its
    dependency declarations apart from the path and git ones removed.
    """
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"invalid TOML: {exc}", where=where, hint="fix the syntax") from exc
    project = doc.get("project")
    if isinstance(project, MutableMapping):
        project["dependencies"] = _pin_array(pins)
        _drop_dynamic(project)
    tool = doc.get("tool")
    if isinstance(tool, MutableMapping):
        _rewrite_tool(tool)
        if not tool:
            del doc["tool"]
    if not installable and "build-system" in doc:
        del doc["build-system"]
    out = tomlkit.dumps(doc)
    return out.rstrip() + "\n" if out.strip() else ""


def _pin_array(pins: Sequence[str]) -> Array:
    array = tomlkit.array()
    for pin in pins:
        array.append(_string(pin.strip()))
    if pins:
        array.multiline(True)
    return array


def _string(value: str) -> String:
    # A marker's quotes read better in a literal string than escaped in a basic one.
    literal = '"' in value and "'" not in value
    return tomlkit.string(value, literal=literal)


def _drop_dynamic(project: MutableMapping[str, Any]) -> None:
    dynamic = project.get("dynamic")
    if isinstance(dynamic, list) and "dependencies" in dynamic:
        kept = [item for item in dynamic if item != "dependencies"]
        if kept:
            project["dynamic"] = kept
        else:
            del project["dynamic"]


def _rewrite_tool(tool: MutableMapping[str, Any]) -> None:
    uv = tool.get("uv")
    if isinstance(uv, MutableMapping):
        # index settings are resolver inputs (their URLs may carry credentials)
        for key in ("sources", "workspace", *_UV_INDEX_KEYS):
            if key in uv:
                del uv[key]
        if not uv:
            del tool["uv"]
    setuptools = tool.get("setuptools")
    if isinstance(setuptools, MutableMapping):
        dynamic = setuptools.get("dynamic")
        if isinstance(dynamic, MutableMapping) and "dependencies" in dynamic:
            del dynamic["dependencies"]
            if not dynamic:
                del setuptools["dynamic"]
        if not setuptools:
            del tool["setuptools"]
    poetry = tool.get("poetry")
    if isinstance(poetry, MutableMapping):
        if "source" in poetry:
            del poetry["source"]
        _drop_local(poetry.get("dependencies"))
        _drop_local(poetry.get("dev-dependencies"))
        groups = poetry.get("group")
        if isinstance(groups, MutableMapping):
            for group in groups.values():
                if isinstance(group, MutableMapping):
                    _drop_local(group.get("dependencies"))


def _drop_local(table: object) -> None:
    """Remove the path and git entries of a Poetry dependency table."""
    if not isinstance(table, MutableMapping):
        return
    for name in [name for name, spec in table.items() if _is_local(spec)]:
        del table[name]


def _is_local(spec: object) -> bool:
    if isinstance(spec, MutableMapping):
        return any(key in spec for key in _POETRY_LOCAL_KEYS)
    if isinstance(spec, list):  # multiple-constraint dependencies
        return any(_is_local(item) for item in spec)
    return False
