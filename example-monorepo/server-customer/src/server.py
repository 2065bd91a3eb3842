"""server-customer: customer-record helpers, built by a factory.

Deploy entrypoint: ``server-customer/src/server.py``. The server is built by
``create_server()`` and assigned at module level (``mcp = create_server()``), so
the hosted runtime finds it by name; ``fastmcp run src/server.py:create_server``
works too.
"""

from __future__ import annotations

from typing import Any

from fastmcp import FastMCP
from pydantic import ValidationError
from shared_utils.settings import env_float, env_str
from shared_utils.text import slugify
from shared_utils.validation import ContactInfo

SEGMENTS: dict[str, str] = {
    "new": "First order in the last 90 days",
    "loyal": "Five or more orders in the last year",
    "at-risk": "Churn score at or above the threshold",
    "dormant": "No order in the last 365 days",
}


def churn_score(days_since_last_order: int, orders_last_year: int, support_tickets: int) -> float:
    """A 0..1 heuristic: long silences and many tickets raise it, frequent orders lower it."""
    recency = min(days_since_last_order / 365.0, 1.0)
    frequency = 1.0 - min(orders_last_year / 12.0, 1.0)
    friction = min(support_tickets / 10.0, 1.0)
    return round(0.5 * recency + 0.3 * frequency + 0.2 * friction, 3)


def create_server() -> FastMCP:
    """Build the customer server from environment settings (all optional)."""
    region = env_str("CUSTOMER_DEFAULT_REGION", "eu")
    threshold = env_float("CUSTOMER_CHURN_THRESHOLD", 0.6)
    server = FastMCP(name="customer", instructions="Normalize customer records and score churn.")

    @server.tool()
    def list_segments() -> dict[str, str]:
        """The customer segments and what puts a customer in each."""
        return dict(SEGMENTS)

    @server.tool()
    def normalize_contact(name: str, email: str) -> dict[str, Any]:
        """Validate and normalize a contact; returns the cleaned record or the problems found."""
        try:
            contact = ContactInfo(name=name, email=email)
        except ValidationError as exc:
            return {"valid": False, "errors": [str(err["msg"]) for err in exc.errors()]}
        return {"valid": True, "region": region, **contact.model_dump()}

    @server.tool()
    def customer_handle(name: str, customer_id: int) -> str:
        """A stable, URL-safe handle such as 'ada-lovelace-1815'."""
        return f"{slugify(name, max_length=40)}-{customer_id}"

    @server.tool()
    def churn_risk(
        days_since_last_order: int, orders_last_year: int = 0, support_tickets: int = 0
    ) -> dict[str, Any]:
        """Churn score (0..1) and segment for one customer."""
        score = churn_score(days_since_last_order, orders_last_year, support_tickets)
        if days_since_last_order >= 365:
            segment = "dormant"
        elif score >= threshold:
            segment = "at-risk"
        elif orders_last_year >= 5:
            segment = "loyal"
        else:
            segment = "new"
        return {"score": score, "threshold": threshold, "segment": segment}

    @server.resource("customers://segments")
    def segments_resource() -> dict[str, str]:
        """The segment table as JSON."""
        return dict(SEGMENTS)

    @server.prompt()
    def welcome_email(name: str, segment: str = "new") -> str:
        """Ask for a welcome e-mail tailored to a customer's segment."""
        description = SEGMENTS.get(segment, "a customer")
        return f"Write a friendly two-paragraph e-mail to {name}, who is {description.lower()}."

    return server


mcp = create_server()


if __name__ == "__main__":
    mcp.run()
