"""The project-root placeholders real projects write in local dependencies.

A project cannot name a sibling directory by a relative ``file:`` URL in PEP 621
``dependencies``, so its build tool offers a placeholder for its own directory:

- PDM (and what ``pdm export`` writes): ``shared @ file:///${PROJECT_ROOT}/../shared``;
- Hatch's context formatting: ``shared @ {root:uri}/../shared``, with modifiers chained
  as ``{root:parent:uri}`` (``parent`` one directory up, ``uri`` as a ``file:`` URL,
  ``real`` with links resolved).

Each is expanded against the directory of the file that declares it, as those tools do,
so the dependency reads as the path it stands for.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

# ``file:///${PROJECT_ROOT}``, ``file://${PROJECT_ROOT}`` or a bare ``${PROJECT_ROOT}``
_PDM = re.compile(r"(?:file:/{0,3})?\$\{PROJECT_ROOT\}")
# ``{root}``, ``{root:uri}``, ``{root:parent:parent:uri}``, ``{root:real:uri}``
_HATCH = re.compile(r"\{root((?::(?:parent|uri|real))*)\}")


def expand_root_references(entry: str, base: Path) -> str:
    """``entry`` with each project-root placeholder replaced for the project at ``base``."""
    if "{" not in entry:
        return entry
    entry = _PDM.sub(lambda m: _render(base, uri=m.group(0).startswith("file:")), entry)
    return _HATCH.sub(lambda m: _hatch(base, m.group(1)), entry)


def _hatch(base: Path, modifiers: str) -> str:
    path, uri = base, False
    for modifier in modifiers.split(":")[1:]:
        if modifier == "parent":
            path = path.parent
        elif modifier == "real":
            path = Path(os.path.realpath(path))
        else:
            uri = True
    return _render(path, uri=uri)


def _render(path: Path, *, uri: bool) -> str:
    absolute = Path(os.path.abspath(path))
    return absolute.as_uri() if uri else absolute.as_posix()
