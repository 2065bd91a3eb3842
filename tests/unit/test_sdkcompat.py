from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from mcpbundle.plan.sdk_compat import (
    fastmcp_addition,
    imports_mcp_server_fastmcp,
    mcp_cap_needed,
    old_fastmcp,
)


def test_imports_scan(tmp_path: Path) -> None:
    a = tmp_path / "a.py"
    a.write_text(
        "import os\n"
        "from mcp.server.fastmcp import FastMCP\n"
        "def f():\n"
        "    import mcp.server.fastmcp.utilities as u\n"
        "from mcp.server import fastmcp, lowlevel\n"
        "from mcp.server.fastmcp import Context; import mcp.server.fastmcp\n"
    )
    b = tmp_path / "b.py"
    b.write_text(
        "import fastmcp\nfrom fastmcp import FastMCP\nfrom mcp.server import lowlevel\n"
        "from .mcp.server.fastmcp import x\nimport mcp.server.fastmcpx\n"
        "s = 'from mcp.server.fastmcp import FastMCP'\n"
    )
    broken = tmp_path / "broken.py"
    broken.write_text("from mcp.server.fastmcp import (\n")
    assert imports_mcp_server_fastmcp([a, b, broken, tmp_path / "missing.py"]) == [
        (a, 2),
        (a, 4),
        (a, 5),
        (a, 6),
    ]


@pytest.mark.parametrize(
    ("pins", "expected"),
    [
        ({"fastmcp": "2.12.0", "mcp": "1.20.0"}, None),
        ({"FastMCP": "4.1.2"}, None),
        ({"mcp": "2.3.0"}, "fastmcp>=4"),
        ({"mcp": "2.0.0"}, "fastmcp>=4"),
        ({"MCP": "1.26.0"}, "fastmcp>=3,<4"),
        ({"mcp": "1.24.0"}, "fastmcp>=3,<4"),
        ({"mcp": "1.9.4"}, "fastmcp<3"),
        ({"httpx": "0.28.1"}, "fastmcp"),
        ({"mcp": "garbage"}, "fastmcp"),
    ],
)
def test_fastmcp_addition(pins: dict[str, str], expected: str | None) -> None:
    assert fastmcp_addition(pins) == expected


def test_fastmcp_addition_matches_installed_metadata() -> None:
    """The installed fastmcp 4 (via fastmcp-slim) accepts the installed mcp 2."""
    fastmcp = Version(importlib.metadata.version("fastmcp"))
    mcp = importlib.metadata.version("mcp")
    if fastmcp.major != 4:
        pytest.skip("facts recorded for fastmcp 4")
    slim = [Requirement(r) for r in importlib.metadata.requires("fastmcp-slim") or ()]
    mcp_reqs = [r for r in slim if r.name == "mcp"]
    assert mcp_reqs
    assert all(not r.specifier.contains("1.26.0") for r in mcp_reqs)
    assert all(r.specifier.contains(mcp) for r in mcp_reqs)
    assert fastmcp_addition({"mcp": mcp}) == "fastmcp>=4"


@pytest.mark.parametrize(
    ("requirements", "lock", "expected"),
    [
        (["mcp"], None, True),
        (["fastmcp>=2.12"], None, True),  # no mcp requirement: the newest comes in
        ([], None, True),
        (["mcp>=1.10"], None, True),
        (["mcp>=1.10,<2"], None, False),
        (["mcp<2.0"], None, False),
        (["mcp~=1.20"], None, False),
        (["mcp==1.26.0"], None, False),
        (["MCP[cli]>=1.2"], None, True),
        (["mcp>=1.10", "mcp<1.30"], None, False),
        (["mcp>=1.10"], {"mcp": "1.26.0"}, False),
        (["mcp>=1.10"], {"MCP": "2.3.0"}, True),
        (["mcp>=1.10"], {"httpx": "1"}, True),
        (["not a req (", "mcp<2"], None, False),
        (["mcp>=2"], None, True),
    ],
)
def test_mcp_cap_needed(
    requirements: list[str], lock: dict[str, str] | None, expected: bool
) -> None:
    assert mcp_cap_needed(requirements, lock) is expected


@pytest.mark.parametrize(
    ("requirements", "expected"),
    [
        (["fastmcp==2.10.6"], "fastmcp==2.10.6"),
        (["fastmcp>=2.3,<3"], "fastmcp<3,>=2.3"),
        (["fastmcp~=2.12"], "fastmcp~=2.12"),
        (["fastmcp"], None),
        (["fastmcp>=2.10"], None),  # fastmcp 3 and 4 set their own mcp bounds
        (["fastmcp==3.1.0"], None),
        (["fastmcp==4.0.0b2"], None),  # a pre-release of 4 is no fastmcp 2
        (["fastmcp==3.0.0rc1"], None),
        (["fastmcp==3.*"], None),
        (["fastmcp==2.14.0rc2"], "fastmcp==2.14.0rc2"),
        (["httpx"], None),
        (["fastmcp==2.10.6", "mcp>=2"], None),  # asked for mcp 2: not ours to cap
        (["fastmcp==2.10.6", "mcp<2"], None),  # capped already
    ],
)
def test_fastmcp_2_needs_the_mcp_cap(requirements: list[str], expected: str | None) -> None:
    # fastmcp 2.x was published before MCP SDK 2 and does not cap mcp: a resolver picks
    # mcp 2, under which fastmcp 2 cannot import
    assert old_fastmcp(requirements, None) == expected


def test_a_lock_holding_mcp_below_2_needs_no_cap() -> None:
    assert old_fastmcp(["fastmcp==2.10.6"], {"mcp": "1.12.2"}) is None
    assert old_fastmcp(["fastmcp==2.10.6"], {"mcp": "2.3.0"}) == "fastmcp==2.10.6"
