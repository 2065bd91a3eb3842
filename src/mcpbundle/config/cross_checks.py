"""Rules across tables of ``mcpbundle.toml``: cycles among shared libraries, two entries
naming one directory, servers nested in one another."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from mcpbundle.base.real_paths import resolved
from mcpbundle.config.paths import (
    find_cycle,
)
from mcpbundle.config.schema import Reader, join
from mcpbundle.config.settings import (
    Server,
    SharedLib,
)


def reject_cycles(reader: Reader, shared: Mapping[str, SharedLib]) -> None:
    graph = {name: tuple(lib.requires or ()) for name, lib in shared.items()}
    cycle = find_cycle(graph)
    if cycle:
        raise reader.fail(
            join("shared", cycle[0]) + ".requires",
            f"shared libraries form a cycle: {' -> '.join(cycle)}",
            "remove one of these requires",
        )


def reject_same_directory(
    reader: Reader, table: str, paths: Mapping[str, str], root: Path, what: str, hint: str
) -> None:
    """Two entries of ``table`` may not name one directory, however it is spelled."""
    seen: dict[Path, str] = {}
    for name, path in paths.items():
        real = resolved(root / path)
        if real in seen:
            raise reader.fail(
                join(join(table, name), "path"),
                f"same directory {path!r} as {what} {seen[real]!r}",
                hint,
            )
        seen[real] = name


def reject_shared_duplicates(reader: Reader, shared: Mapping[str, SharedLib], root: Path) -> None:
    paths = {name: lib.path for name, lib in shared.items()}
    reject_same_directory(
        reader, "shared", paths, root, "shared library", "declare each library once"
    )


def reject_overlapping_servers(reader: Reader, servers: Mapping[str, Server], root: Path) -> None:
    paths = {name: server.path for name, server in servers.items()}
    reject_same_directory(
        reader, "servers", paths, root, "server", "give each server its own directory"
    )
    # Every server's path by its parts: a server is inside another when one of its
    # prefixes is that server's path. O(servers x depth), not O(servers^2).
    by_parts: dict[tuple[str, ...], list[tuple[int, str]]] = {}
    for index, (name, server) in enumerate(servers.items()):
        if server.path != ".":
            by_parts.setdefault(Path(server.path).parts, []).append((index, name))
    for name, server in servers.items():
        if server.path == ".":
            continue
        parts = Path(server.path).parts
        inside = [
            (index, other)
            for depth in range(len(parts) + 1)
            for index, other in by_parts.get(parts[:depth], ())
            if other != name
        ]
        if inside:
            other = min(inside)[1]
            raise reader.fail(
                join(join("servers", name), "path"),
                f"{server.path!r} is inside server {other!r} ({servers[other].path!r})",
                "servers must not nest; move one of them",
            )
