"""Extra names as requirements give them: ``name[a, b]``, and a path's ``../core[a,b]``."""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

from mcpbundle.base.errors import ConfigError


def canonical_extras(extras: object) -> tuple[str, ...]:
    """Extra names as pip compares them (PEP 685), sorted, once each."""
    names = extras if isinstance(extras, list | set | frozenset | tuple) else ()
    return tuple(sorted({canonicalize_name(str(e).strip()) for e in names if str(e).strip()}))


_PATH_EXTRAS = re.compile(r"^(?P<path>[^\[\]]+)\[(?P<extras>[^\[\]]*)\]$")


def path_extras(entry: str, origin: str) -> tuple[str, tuple[str, ...]]:
    """``../core[table, protect]`` -> ``("../core", ("protect", "table"))``, as pip reads a
    directory with extras; a bracket that does not close such a list is an error."""
    if "[" not in entry and "]" not in entry:
        return entry, ()
    match = _PATH_EXTRAS.match(entry.strip())
    names = match.group("extras").split(",") if match else []
    if match is None or not all(re.fullmatch(r"\s*[A-Za-z0-9][\w.-]*\s*", n) for n in names):
        raise ConfigError(
            f"cannot read the extras of path requirement {entry!r}",
            where=origin,
            hint="write extras after the directory as pip does: ../lib[extra1,extra2]",
        )
    return match.group("path").strip(), canonical_extras(names)
