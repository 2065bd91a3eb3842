"""pip-compile's annotated output as data: parse it, take a server's part, merge pins.

A shared lock is one resolver output for the union of all servers' inputs; each
server's ``requirements.txt`` is the part reachable from its own requirements
through the ``# via`` annotations, rendered in the same format.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from mcpbundle.base.errors import BuildError
from mcpbundle.plan.pinned_text import PinError, logical_lines, parse_pin

ROOT_SOURCE = "-r requirements.in"
SHARED_NAME = "shared lock"


@dataclass(frozen=True, kw_only=True)
class PinNode:
    """One package of an annotated ``requirements.txt``."""

    name: str  # canonical
    version: str
    lines: tuple[str, ...]  # the requirement line(s) as written: markers, ``\`` + ``--hash``
    sources: tuple[str, ...]  # the ``# via`` entries as written, in order
    via: frozenset[str]  # canonical names of the parents among ``sources``
    direct: bool  # ``-r requirements.in`` is among ``sources``


# -- annotated lock files --------------------------------------------------------------


def _is_requirement_start(line: str) -> bool:
    return bool(line.strip()) and not line[0].isspace() and not line.startswith("#")


@functools.lru_cache(maxsize=64)
def split_annotated(text: str) -> tuple[str, Mapping[str, PinNode]]:
    """``(header, nodes)``: the comment lines before the first pin, and every pin.

    Cached (a build reads the same lock once per server): callers must not mutate it."""
    lines = text.splitlines()
    index = 0
    while index < len(lines) and not _is_requirement_start(lines[index]):
        index += 1
    header = "".join(f"{line}\n" for line in lines[:index] if line.startswith("#"))
    nodes: dict[str, PinNode] = {}
    while index < len(lines):
        if not _is_requirement_start(lines[index]):
            index += 1
            continue
        req_lines = [lines[index]]
        index += 1
        while req_lines[-1].rstrip().endswith("\\") and index < len(lines):
            req_lines.append(lines[index])
            index += 1
        comments: list[str] = []
        while index < len(lines) and lines[index][:1].isspace() and lines[index].strip():
            comments.append(lines[index].strip().lstrip("#").strip())
            index += 1
        node = _node(req_lines, _via_sources(comments))
        nodes[node.name] = node
    return header, nodes


def parse_annotated(text: str) -> Mapping[str, PinNode]:
    """Every pin of a resolver's annotated output, by canonical name."""
    return split_annotated(text)[1]


def _via_sources(comments: list[str]) -> tuple[str, ...]:
    sources: list[str] = []
    in_via = False
    for comment in comments:
        if comment == "via":
            in_via = True
        elif comment.startswith("via "):
            sources.append(comment.removeprefix("via ").strip())
            in_via = False
        elif in_via and comment:
            sources.append(comment)
    return tuple(sources)


def _node(req_lines: list[str], sources: tuple[str, ...]) -> PinNode:
    return _cached_node(tuple(req_lines), sources)


@functools.lru_cache(maxsize=8192)
def _cached_node(req_lines: tuple[str, ...], sources: tuple[str, ...]) -> PinNode:
    logical = logical_lines("\n".join(req_lines))
    try:
        pin = parse_pin(logical[0][1])
    except (PinError, IndexError) as exc:
        raise BuildError(
            f"cannot read the shared lock line {req_lines[0]!r}: {exc}",
            where=SHARED_NAME,
            hint="report this as an mcpbundle bug; set lock = 'per-server' meanwhile",
        ) from None
    parents = frozenset(_source_name(source) for source in sources if not source.startswith("-"))
    return PinNode(
        name=pin.name,
        version=pin.version,
        lines=tuple(req_lines),
        sources=sources,
        via=parents,
        direct=ROOT_SOURCE in sources,
    )


def _render_node(node: PinNode, sources: Sequence[str]) -> str:
    text = "".join(f"{line}\n" for line in node.lines)
    if len(sources) == 1:
        return text + f"    # via {sources[0]}\n"
    if sources:
        return text + "    # via\n" + "".join(f"    #   {s}\n" for s in sources)
    return text


# -- union and derivation ------------------------------------------------------------------


def requirement_lines(text: str) -> list[str]:
    """The logical requirement lines of a ``requirements.in`` text (no comments)."""
    return [" ".join(line.split()) for _number, line in logical_lines(text)]


def union_input(server_inputs: Mapping[str, Sequence[str]]) -> str:
    """The ``requirements.in`` text for the union: deduplicated, sorted, no server names."""
    lines = {" ".join(line.split()) for reqs in server_inputs.values() for line in reqs}
    lines.discard("")
    return "".join(f"{line}\n" for line in sorted(lines, key=lambda x: (x.lower(), x)))


def marker_environment(python: str | None) -> dict[str, str]:
    """The environment markers are evaluated in: this machine, for ``python`` if given."""
    env = {key: str(value) for key, value in default_environment().items()}
    if python:
        env.update(python_version=python, python_full_version=f"{python}.0")
    return env


def direct_names(own_requirements: Iterable[str], environment: Mapping[str, str]) -> set[str]:
    """Canonical names of requirements whose markers hold in ``environment``."""
    names: set[str] = set()
    for line in own_requirements:
        req = Requirement(line)
        if req.marker is None or req.marker.evaluate(dict(environment)):
            names.add(canonicalize_name(req.name))
    return names


def derive(
    union_output: str,
    own_requirements: Sequence[str],
    *,
    environment: Mapping[str, str] | None = None,
) -> str:
    """A server's ``requirements.txt``: the union lock reachable from its own requirements.

    ``own_requirements`` are its ``requirements.in`` lines (PEP 508; requirements
    whose markers are false in ``environment`` are not roots, as the resolver
    would have dropped them). Header, line format and order are the union's; the
    ``# via`` annotations keep only what remains.
    """
    header, nodes = split_annotated(union_output)
    env = environment if environment is not None else marker_environment(None)
    roots = {name for name in direct_names(own_requirements, env) if name in nodes}
    children: dict[str, set[str]] = {}
    for node in nodes.values():
        for parent in node.via:
            children.setdefault(parent, set()).add(node.name)
    kept = set(roots)
    todo = sorted(roots)
    while todo:
        for child in sorted(children.get(todo.pop(), ())):
            if child not in kept:
                kept.add(child)
                todo.append(child)
    blocks = []
    for name, node in nodes.items():
        if name not in kept:
            continue
        sources = [
            source
            for source in node.sources
            if (source == ROOT_SOURCE and name in roots)
            or (not source.startswith("-") and _source_name(source) in kept)
        ]
        blocks.append(_render_node(node, sources))
    return header + "".join(blocks)


def _source_name(source: str) -> str:
    return canonicalize_name(source.split(maxsplit=1)[0].split("[", maxsplit=1)[0])


def merge_previous(texts: Iterable[str | None]) -> str | None:
    """One previous lock from several: each package's line(s), the highest version wins."""
    best: dict[str, PinNode] = {}
    for text in dict.fromkeys(texts):  # servers sharing a lock have the same text: once each
        if not text:
            continue
        try:
            nodes = parse_annotated(text)
        except BuildError:
            continue  # a hand-edited file: its pins are not kept
        for name, node in nodes.items():
            if name not in best or _version(node.version) > _version(best[name].version):
                best[name] = node
    if not best:
        return None
    return "".join(_render_node(best[name], ()) for name in sorted(best))


@functools.lru_cache(maxsize=4096)
def _version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")
