"""server-ops: operational maths for on-call engineers.

Deploy entrypoint: ``server-ops/src/server.py`` (module-level ``mcp``).
"""

from __future__ import annotations

from fastmcp import FastMCP
from ops_durations import parse_duration
from shared_utils.settings import env_float, env_str
from shared_utils.text import slugify, truncate

ENVIRONMENT = env_str("OPS_ENVIRONMENT", "development")
SLA_TARGET = env_float("OPS_SLA_TARGET", 99.9)
SERVICE_PREFIX = env_str("OPS_SERVICE_PREFIX", "svc")

mcp = FastMCP(
    name="ops",
    instructions="Operational helpers: SLA and error-budget maths, service naming, durations.",
)


@mcp.tool()
def health_check() -> dict[str, str | float]:
    """Report that the server is up, with its environment and SLA target."""
    return {"status": "ok", "environment": ENVIRONMENT, "sla_target": SLA_TARGET}


@mcp.tool()
def uptime_percentage(downtime_minutes: float, period_days: int = 30) -> float:
    """Uptime in percent over a period of ``period_days`` given the total downtime."""
    if period_days <= 0:
        raise ValueError("period_days must be positive")
    total = period_days * 24 * 60
    return round(100.0 * max(total - downtime_minutes, 0.0) / total, 4)


@mcp.tool()
def error_budget(period_days: int = 30, sla_target: float | None = None) -> dict[str, float | int]:
    """Allowed downtime (minutes) for the period at the SLA target (default: OPS_SLA_TARGET)."""
    target = SLA_TARGET if sla_target is None else sla_target
    if not 0 < target <= 100:
        raise ValueError("sla_target must be in (0, 100]")
    minutes = period_days * 24 * 60 * (100.0 - target) / 100.0
    return {"sla_target": target, "period_days": period_days, "budget_minutes": round(minutes, 2)}


@mcp.tool()
def duration_seconds(duration: str) -> int:
    """Parse a duration such as '1h30m' or '2d 4h' into seconds."""
    return parse_duration(duration)


@mcp.tool()
def service_name(display_name: str) -> str:
    """Canonical service identifier, e.g. 'Billing API (EU)' -> 'svc-billing-api-eu'."""
    return f"{SERVICE_PREFIX}-{slugify(display_name)}"


@mcp.resource("ops://environment")
def environment() -> str:
    """The environment this server runs in."""
    return ENVIRONMENT


@mcp.prompt()
def incident_summary(service: str, impact: str) -> str:
    """Draft an incident summary request for a service."""
    return (
        f"Write a short incident summary for {service_name(service)} in {ENVIRONMENT}. "
        f"Impact: {truncate(impact, 280)}"
    )


if __name__ == "__main__":
    mcp.run()
