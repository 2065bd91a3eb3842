"""A server's own extras: ``[servers.X] extras = ["housekeeping"]``.

One project can hold several servers and give each its dependencies as an extra
(``[project.optional-dependencies] housekeeping = [...]``), installed with
``pip install .[housekeeping]``. The bundle installs from ``requirements.txt``, so the
extras' entries join the server's requirements; an extra naming the project itself
(``all = ["mcp-servers[spotify,calendar]"]``) is followed.
"""

from __future__ import annotations

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.settings import Config, Server
from mcpbundle.plan.extras_names import canonical_extras
from mcpbundle.plan.pyproject import read_pyproject
from mcpbundle.plan.requirements import ReqLine


def own_extras(
    config: Config, server: Server, source: str | None, project_path: str | None
) -> list[ReqLine]:
    """The entries the server's ``extras`` add: from the pyproject its requirements come
    from, else its own ``pyproject.toml``."""
    if not server.extras:
        return []
    where = config.where(f"servers.{server.name}.extras")
    pyproject = source if source is not None and source.endswith(".toml") else project_path
    if pyproject is None:
        raise ConfigError(
            "extras are read from the server's pyproject.toml, and it has none",
            where=where,
            hint="remove extras, or point requirements at the pyproject.toml that defines them",
        )
    info = read_pyproject(config.root / pyproject, root=config.root)
    lines: list[ReqLine] = []
    pending = list(canonical_extras(list(server.extras)))
    seen: set[str] = set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        seen.add(extra)
        found = info.extras.get(extra)
        if found is None:
            known = ", ".join(sorted(info.extras)) or "none"
            raise ConfigError(
                f"{pyproject} has no extra {extra!r} (its extras: {known})",
                where=where,
                hint="name one of its [project.optional-dependencies]",
            )
        if isinstance(found, ConfigError):
            raise found
        for line in found:
            if info.name is not None and line.name == info.name:
                pending.extend(line.extras)  # the project itself: its other extras
            else:
                lines.append(line)
    return lines
