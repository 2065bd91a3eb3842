"""server-finance: loan schedules, due dates, fiscal quarters and ledger balances.

Deploy entrypoint: ``server-finance/src/server.py:app`` (the server object is
named ``app``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from fastmcp import FastMCP
from pydantic import BaseModel, Field
from shared_core.dates import add_months, fiscal_quarter, month_end, parse_day
from shared_core.ledger import Ledger, to_money
from shared_utils.settings import env_int, env_str

CURRENCY = env_str("FINANCE_CURRENCY", "EUR")
FISCAL_YEAR_START_MONTH = env_int("FINANCE_FISCAL_YEAR_START_MONTH", 1)
MAX_SCHEDULE_MONTHS = env_int("FINANCE_MAX_SCHEDULE_MONTHS", 360)

CURRENCIES = {"EUR": "Euro", "USD": "US dollar", "GBP": "Pound sterling", "CHF": "Swiss franc"}

app = FastMCP(name="finance", instructions="Deterministic finance maths; amounts are decimals.")


class Posting(BaseModel):
    """One ledger posting: ``amount`` moves from ``credit`` to ``debit``."""

    debit: str = Field(description="Account receiving the amount, e.g. 'Cash'")
    credit: str = Field(description="Account giving the amount, e.g. 'Revenue'")
    amount: float = Field(gt=0)
    memo: str = ""


@app.tool()
def list_currencies() -> dict[str, Any]:
    """Supported currencies and the default one (FINANCE_CURRENCY)."""
    return {"default": CURRENCY, "currencies": CURRENCIES}


@app.tool()
def amortization_schedule(
    principal: float, annual_rate_percent: float, months: int, start_date: str = "2025-01-31"
) -> dict[str, Any]:
    """Fixed-payment loan schedule: the payment, then one row per month with its due date."""
    if not 0 < months <= MAX_SCHEDULE_MONTHS:
        raise ValueError(f"months must be in 1..{MAX_SCHEDULE_MONTHS}")
    balance = to_money(principal)
    rate = Decimal(str(annual_rate_percent)) / Decimal(1200)
    if rate == 0:
        payment = to_money(balance / months)
    else:
        payment = to_money(balance * rate / (1 - (1 + rate) ** -months))
    start = parse_day(start_date)
    rows = []
    for index in range(1, months + 1):
        interest = to_money(balance * rate)
        principal_part = payment - interest if index < months else balance
        balance = to_money(balance - principal_part)
        rows.append(
            {
                "month": index,
                "due": add_months(start, index).isoformat(),
                "interest": str(interest),
                "principal": str(principal_part),
                "balance": str(balance),
            }
        )
    return {"currency": CURRENCY, "payment": str(payment), "schedule": rows}


@app.tool()
def due_dates(start_date: str, count: int = 3, interval_months: int = 1) -> list[str]:
    """The next ``count`` due dates every ``interval_months``, clamped to month ends."""
    start = parse_day(start_date)
    return [add_months(start, interval_months * step).isoformat() for step in range(1, count + 1)]


@app.tool()
def fiscal_period(day: str) -> dict[str, Any]:
    """Fiscal year, quarter and month end of a date (FINANCE_FISCAL_YEAR_START_MONTH)."""
    parsed = parse_day(day)
    year, quarter = fiscal_quarter(parsed, FISCAL_YEAR_START_MONTH)
    quarter_start = add_months(parsed, -((parsed.month - FISCAL_YEAR_START_MONTH) % 3))
    return {
        "fiscal_year": year,
        "quarter": quarter,
        "month_end": month_end(parsed).isoformat(),
        "quarter_start_month": quarter_start.replace(day=1).isoformat(),
        "days_to_month_end": (month_end(parsed) - parsed).days,
        "next_year_same_day": (parsed + relativedelta(years=1)).isoformat(),
    }


@app.tool()
def ledger_balances(postings: list[Posting]) -> dict[str, Any]:
    """Post the entries to a fresh ledger and return each account's balance."""
    ledger = Ledger()
    for posting in postings:
        ledger.post(posting.debit, posting.credit, posting.amount, posting.memo)
    return {
        "currency": CURRENCY,
        "balances": {name: str(value) for name, value in ledger.balances().items()},
        "balanced": ledger.trial_balance_ok(),
    }


@app.resource("finance://currencies")
def currencies_resource() -> dict[str, str]:
    """Supported currency codes and names."""
    return dict(CURRENCIES)


@app.prompt()
def explain_schedule(principal: float, annual_rate_percent: float, months: int) -> str:
    """Ask for a plain-language explanation of a loan schedule."""
    return (
        f"Explain to a customer how a {months}-month loan of {principal} {CURRENCY} at "
        f"{annual_rate_percent}% a year is repaid, and what the monthly payment covers."
    )


if __name__ == "__main__":
    app.run()
