"""The extras a server asks of the libraries it vendors, and what they add.

pip installs ``-e ../core[table]`` (or a ``core[table]`` workspace dependency) with
``[project.optional-dependencies].table`` of ``core``. The bundle vendors ``core``
instead of installing it, so what the extra needs has to be merged into the
server's requirements: its PyPI entries, the libraries it names (vendored too),
and the extras those ask in turn (``protect = ["core[table]", ...]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mcpbundle.plan.closure import LibGraph
from mcpbundle.plan.requirements import ReqLine


@dataclass(frozen=True, kw_only=True)
class WithExtras:
    """A library closure grown by the extras a server asks for."""

    closure: tuple[str, ...]  # the libraries to vendor, the extras' ones included, sorted
    pypi: tuple[ReqLine, ...]  # what the extras add for PyPI, in the order they were met


def with_extras(
    graph: LibGraph, closure: tuple[str, ...], asked: Mapping[str, Mapping[str, str]]
) -> WithExtras:
    """``closure`` and the PyPI entries grown by the extras ``asked`` (library -> extra ->
    where it was asked) and by those the vendored libraries ask of each other.

    An extra the library does not define is a warning (pip warns and installs the
    library without it)."""
    libs = set(closure)
    pending: dict[tuple[str, str], str] = {}
    for name in sorted(closure):
        _ask(pending, graph.extras_asked.get(name, {}))
    _ask(pending, asked)
    done: set[tuple[str, str]] = set()
    pypi: list[ReqLine] = []
    while pending:
        key = min(pending)  # sorted: the same inputs add the same entries in the same order
        origin = pending.pop(key)
        if key in done:
            continue
        done.add(key)
        lib, extra = key
        found = graph.extra(lib, extra)
        if found is None:
            _unknown(graph, lib, extra, origin)
            continue
        pypi.extend(found.pypi)
        for name in graph.closure(found.libs):
            if name not in libs:
                libs.add(name)
                _ask(pending, graph.extras_asked.get(name, {}))
        _ask(pending, found.extras)
    return WithExtras(closure=tuple(sorted(libs)), pypi=tuple(pypi))


def _ask(pending: dict[tuple[str, str], str], asked: Mapping[str, Mapping[str, str]]) -> None:
    for lib, extras in asked.items():
        for extra, origin in extras.items():
            pending.setdefault((lib, extra), origin)


def _unknown(graph: LibGraph, lib: str, extra: str, origin: str) -> None:
    info = graph.libs[lib]
    known = ", ".join(sorted(info.extras)) or "none"
    message = (
        f"{origin}: shared lib {lib!r} ({info.distribution}) has no extra {extra!r} "
        f"(its extras: {known}); vendored without it, as pip installs it"
    )
    if message not in graph.warnings:
        graph.warnings.append(message)
