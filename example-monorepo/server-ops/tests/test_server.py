"""Tests for server-ops, run from the source tree: ``pytest server-ops/tests``."""

from __future__ import annotations

import asyncio

import pytest
import server
from fastmcp import Client
from ops_durations import parse_duration


def test_parse_duration() -> None:
    assert parse_duration("1h30m") == 5400
    assert parse_duration("2d 4h") == 187200
    assert parse_duration("45") == 45
    with pytest.raises(ValueError, match="cannot parse"):
        parse_duration("soon")


def test_tools_over_the_in_memory_client() -> None:
    async def scenario() -> None:
        async with Client(server.mcp) as client:
            names = {tool.name for tool in await client.list_tools()}
            assert {"health_check", "uptime_percentage", "service_name"} <= names
            result = await client.call_tool("service_name", {"display_name": "Billing API (EU)"})
            assert result.data == "svc-billing-api-eu"
            result = await client.call_tool("uptime_percentage", {"downtime_minutes": 43.2})
            assert result.data == pytest.approx(99.9)

    asyncio.run(scenario())
