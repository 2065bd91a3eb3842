"""The requirements a server's ``fastmcp.json`` declares for its environment.

fastmcp's project file builds the server's environment from ``environment.dependencies``
(PEP 508 lines), ``environment.requirements`` (a requirements file),
``environment.project`` (a project whose dependencies to install) and
``environment.editable`` (directories installed with ``--with-editable``: the shared
libraries of a monorepo, vendored like ``-e ../shared``), and a server
developed with ``fastmcp run fastmcp.json`` may declare its dependencies nowhere else.
The bundle's ``fastmcp.json`` points at the pinned ``requirements.txt`` instead, so
those entries join the server's requirements; a requirement read twice is harmless.

Only files in the server's directory that name its entrypoint (``source.path``, or
the legacy ``entrypoint``) count: another one configures another server. A file that is
not readable JSON is left to :mod:`mcpbundle.plan.fastmcp_json`, which does not ship it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError
from mcpbundle.plan.fastmcp_json import is_fastmcp_json, normal_path, source_of
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.requirements import (
    ReqLine,
    parse_requirement_text,
    path_line,
    read_requirements_file,
)
from mcpbundle.plan.shipped_files import join


def environment_requirements(root: Path, server_path: str, entry_file: str) -> list[ReqLine]:
    """The entries of every ``fastmcp.json`` of ``server_path`` naming ``entry_file``
    (both repository-relative POSIX: ``servers/a``, ``server.py`` inside it)."""
    lines: list[ReqLine] = []
    for rel, environment in _environments(root, server_path, entry_file):
        lines += _entries(root, rel, environment)
    return lines


def environment_python(root: Path, server_path: str, entry_file: str) -> tuple[str, str] | None:
    """``(3.Y, where)`` of the ``environment.python`` (``"3.12"``, ``"3.12.4"``) of a
    ``fastmcp.json`` of ``server_path`` naming ``entry_file``: ``fastmcp run fastmcp.json``
    runs the server on it (``uv run --python``). None when none names one."""
    for rel, environment in _environments(root, server_path, entry_file):
        python = environment.get("python")
        match = _PYTHON.match(python.strip()) if isinstance(python, str) else None
        if match:
            return f"3.{match.group(1)}", f"{rel}: environment.python"
    return None


def _environments(
    root: Path, server_path: str, entry_file: str
) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(repo-relative file, its environment table)`` of each ``fastmcp.json`` of
    ``server_path`` that names ``entry_file``, in file-name order."""
    entry = normal_path(server_path, entry_file)
    if entry is None:
        return
    try:
        names = sorted(n for n in os.listdir(root / server_path) if is_fastmcp_json(n))
    except OSError:
        return
    for name in names:
        rel = join(server_path, name)
        document = _document(root / rel)
        if document is None:
            continue
        named = source_of(document)[0]
        if named is None or normal_path(server_path, named) != entry:
            continue
        environment = document.get("environment")
        if isinstance(environment, dict):
            yield rel, environment


_PYTHON = re.compile(r"^(?:==)?3\.(\d{1,2})(?:\.\d+)?$")


def _document(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def _strings(
    environment: dict[str, Any], key: str, rel: str, what: str, hint: str
) -> list[tuple[int, str]]:
    """``environment[key]``'s items with their indexes when it is a list (else none); an
    item that is not a non-empty string fails as ``not WHAT``."""
    items = environment.get(key)
    found = []
    for index, text in enumerate(items if isinstance(items, list) else []):
        if not isinstance(text, str) or not text.strip():
            raise BuildError(
                f"environment.{key}[{index}] is not {what}: {text!r}", where=rel, hint=hint
            )
        found.append((index, text))
    return found


def _entries(root: Path, rel: str, environment: dict[str, Any]) -> list[ReqLine]:
    base = (root / rel).parent
    lines: list[ReqLine] = []
    for index, text in _strings(
        environment, "dependencies", rel, "a requirement",
        'write each dependency as a PEP 508 string, e.g. "httpx>=0.27"',
    ):  # fmt: skip
        origin = f"{rel}: environment.dependencies[{index}]"
        lines.append(parse_requirement_text(text, origin=origin, base=base))
    requirements = environment.get("requirements")
    if isinstance(requirements, str) and requirements:
        path = base / requirements
        display = os.path.relpath(path, root).replace(os.sep, "/")
        if not path.resolve().is_relative_to(root.resolve()):
            raise BuildError(
                f"environment.requirements names {requirements!r}, outside the repository",
                where=rel,
                hint="point it at a requirements file inside the repository",
            )
        if not path.is_file():
            raise BuildError(
                f"environment.requirements names {requirements!r}, which is not a file",
                where=rel,
                hint="fix the path (relative to the fastmcp.json) or remove the key",
            )
        lines += read_requirements_file(path, root=root, display=display)
    for index, entry in _strings(
        environment, "editable", rel, "a path",
        'list directories relative to the fastmcp.json, e.g. "../shared"',
    ):  # fmt: skip
        origin = f"{rel}: environment.editable[{index}]"
        path = base / entry  # fastmcp installs each with --with-editable: always a directory
        lines.append(path_line(f"-e {entry}", origin, path, True, False, None))
    project = environment.get("project")
    if isinstance(project, str) and project:
        pyproject = base / project / "pyproject.toml"
        if pyproject.is_file():
            lines += read_pyproject(pyproject, root=root).dependencies
    return lines
