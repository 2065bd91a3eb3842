"""Which interpreter verify loads a server under: the target Python of its manifest entry
(else ``[bundle] python``, else the running one), in a release its ``requires-python`` allows.

Never another version, never a release the code rejects, never a download: when there is
none, the server fails with one line naming what was found and what to install.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mcpbundle.base.errors import BuildError
from mcpbundle.base.interpreters import RUNNING_PYTHON, allows, releases_of
from mcpbundle.verify.venvs import minor_version, python_info, target_interpreter


def entry_target(entry: Mapping[str, Any], default: str | None) -> str | None:
    value = entry.get("python")
    return value if isinstance(value, str) and value else default


def entry_requires_python(entry: Mapping[str, Any]) -> str | None:
    value = entry.get("requires-python")
    return value if isinstance(value, str) and value.strip() else None


def choose_interpreter(target: str | None, allowed: str | None, *, given: Path | None) -> Path:
    """The base interpreter of a server's loads: ``given`` when it is the ``target``
    version and ``allowed`` (its requires-python) takes its release, else the target
    found here in a release ``allowed`` takes; else a BuildError of one line."""
    if given is not None:
        release = python_info(given)[0].rpartition("-")[2]
        version = minor_version(release)
        if target is not None and version != target:
            raise BuildError(
                f"needs Python {target}, but the interpreter given ({given}) is Python {version}"
            )
        if not allows(allowed, release):
            raise BuildError(
                f"requires-python {allowed!r}, but the interpreter given "
                f"({given}) is Python {release}"
            )
        return given
    found = target_interpreter(target, allowed)
    if found is not None:
        return found
    version = target or RUNNING_PYTHON
    releases = releases_of(version)
    if releases and allowed:
        named = ", ".join(f"{release} ({exe})" for exe, release in releases)
        raise BuildError(
            f"requires-python {allowed!r}, which no Python {version} here allows "
            f"(found {named}); install a release it allows (the newest: `uv python install "
            f"{version}` or `pyenv install {version}`) and run verify again"
        )
    raise BuildError(
        f"needs Python {version}, which is not installed here; install Python "
        f"{version} (e.g. `uv python install {version}` or "
        f"`pyenv install {version}`) and run verify again"
    )
