"""The nested-servers check gives the error the pairwise comparison gives, in O(n log n)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpbundle.base.errors import ConfigError
from mcpbundle.config.cross_checks import reject_overlapping_servers
from mcpbundle.config.schema import Reader
from mcpbundle.config.settings import Server

ROOT = Path("/nonexistent-mcpbundle-root")


def pairwise(servers: dict[str, Server]) -> str | None:
    """The check as it was: every server against every other, in config order."""
    for name, server in servers.items():
        for other, other_server in servers.items():
            if other == name or other_server.path == ".":
                continue
            if server.path != "." and Path(server.path).is_relative_to(other_server.path):
                return f"servers.{name}.path: {server.path!r} is inside server {other!r}"
    return None


def configured(*paths: tuple[str, str]) -> dict[str, Server]:
    return {name: Server(name=name, path=path, entrypoint="server.py") for name, path in paths}


PARTS = st.sampled_from(["a", "b", "a b"])
PATHS = st.one_of(
    st.just("."),
    st.just("./"),
    st.lists(PARTS, min_size=1, max_size=4).map("/".join),
    st.lists(PARTS, min_size=1, max_size=3).map(lambda p: "/".join(p) + "/"),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(PATHS, min_size=1, max_size=7))
def test_same_verdict_as_the_pairwise_check(paths: list[str]) -> None:
    servers = configured(*((f"s{i}", p) for i, p in enumerate(paths)))
    resolved = [(ROOT / p).resolve() for p in paths]
    if len(set(resolved)) != len(resolved):
        return  # one directory named twice: the check before this one reports it
    expected = pairwise(servers)
    if expected is None:
        reject_overlapping_servers(Reader("mcpbundle.toml"), servers, ROOT)
    else:
        with pytest.raises(ConfigError, match=re.escape(expected)):
            reject_overlapping_servers(Reader("mcpbundle.toml"), servers, ROOT)


def test_the_first_outer_server_in_config_order_is_named() -> None:
    servers = configured(("deep", "a/b/c"), ("top", "a"), ("mid", "a/b"))
    expected = "servers.deep.path: 'a/b/c' is inside server 'top' ('a')"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        reject_overlapping_servers(Reader("mcpbundle.toml"), servers, ROOT)


def test_two_hundred_nested_servers_name_the_first_outer_one() -> None:
    servers = configured(("outer", "srv"), *((f"s{i:03d}", f"srv/s{i:03d}") for i in range(200)))
    expected = "servers.s000.path: 'srv/s000' is inside server 'outer' ('srv')"
    with pytest.raises(ConfigError, match=re.escape(expected)):
        reject_overlapping_servers(Reader("mcpbundle.toml"), servers, ROOT)
