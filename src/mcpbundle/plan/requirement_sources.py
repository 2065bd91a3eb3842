"""Where a server's (or a project's) requirements come from, and reading them.

The one rule ``build`` and ``init`` share: a named file is read by its kind (a ``.toml``
is a pyproject, a ``Pipfile`` is Pipenv's, anything else a requirements file); without
one, ``requirements.txt``, else ``pyproject.toml`` (unless it declares no dependencies
and a ``Pipfile`` does), else the ``Pipfile``; with the file (or in its place, when there
is none) what the server declares for its development tool (:func:`declared_requirements`).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from mcpbundle.plan.constructor_deps import constructor_requirements
from mcpbundle.plan.fastmcp_env import environment_requirements
from mcpbundle.plan.pipfile import PIPFILE, read_pipfile
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.requirements import ReqLine, read_requirements_file
from mcpbundle.plan.script_metadata import script_requirements
from mcpbundle.plan.shipped_files import join


def read_source(root: Path, rel: str) -> list[ReqLine]:
    """The entries of the requirement file ``rel`` (repository-relative), by its kind."""
    path = root / rel
    if rel.endswith(".toml"):
        return list(read_pyproject(path, root=root).dependencies)
    if PurePosixPath(rel).name == PIPFILE:
        return read_pipfile(path, root=root)
    return read_requirements_file(path, root=root, display=rel)


def default_source(root: Path, directory: str) -> tuple[str, list[ReqLine]] | None:
    """``(file, entries)`` of ``directory`` by the default rule; None when it has none."""
    requirements = join(directory, "requirements.txt")
    if (root / requirements).is_file():
        return requirements, read_requirements_file(
            root / requirements, root=root, display=requirements
        )
    pyproject, pipfile = join(directory, "pyproject.toml"), join(directory, PIPFILE)
    has_pipfile = (root / pipfile).is_file()
    if (root / pyproject).is_file():
        info = read_pyproject(root / pyproject, root=root)
        if info.has_dependencies or not has_pipfile:
            return pyproject, list(info.dependencies)
    if has_pipfile:
        return pipfile, read_pipfile(root / pipfile, root=root)
    return None


def declared_requirements(
    root: Path, directory: str, entry: str, python: str | None = None
) -> list[ReqLine]:
    """What a server declares where its development tool reads it, joined to its
    requirements by the default rule: its ``fastmcp.json`` environment, its entrypoint's
    ``# /// script`` block and its constructor's ``dependencies=`` (``entry``: relative
    to ``directory``; ``python``: the grammar the entrypoint is read with)."""
    rel = join(directory, entry)
    return [
        *environment_requirements(root, directory, entry),
        *script_requirements(root, rel),
        *constructor_requirements(root, rel, python),
    ]
