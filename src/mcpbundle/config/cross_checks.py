"""Rules across tables of ``mcpbundle.toml``: cycles among shared libraries, two entries
naming one directory, servers nested in one another."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

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
        resolved = (root / path).resolve()
        if resolved in seen:
            raise reader.fail(
                join(join(table, name), "path"),
                f"same directory {path!r} as {what} {seen[resolved]!r}",
                hint,
            )
        seen[resolved] = name


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
    for name, server in servers.items():
        for other, other_server in servers.items():
            if other == name or other_server.path == ".":
                continue
            if server.path != "." and Path(server.path).is_relative_to(other_server.path):
                raise reader.fail(
                    join(join("servers", name), "path"),
                    f"{server.path!r} is inside server {other!r} ({other_server.path!r})",
                    "servers must not nest; move one of them",
                )
