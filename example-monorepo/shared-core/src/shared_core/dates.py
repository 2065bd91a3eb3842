"""Calendar maths on top of python-dateutil."""

from __future__ import annotations

from datetime import date

from dateutil.parser import isoparse
from dateutil.relativedelta import relativedelta


def parse_day(text: str) -> date:
    """An ISO-8601 date (``2024-01-31``) or date-time, as a date."""
    return isoparse(text).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, clamped to the month's end (Jan 31 + 1 = Feb 29)."""
    return day + relativedelta(months=months)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return day + relativedelta(day=31)


def fiscal_quarter(day: date, year_start_month: int = 1) -> tuple[int, int]:
    """``(fiscal_year, quarter)`` for a fiscal year starting in ``year_start_month``.

    The fiscal year is named after the calendar year in which it ends.
    """
    if not 1 <= year_start_month <= 12:
        raise ValueError("year_start_month must be 1..12")
    offset = (day.month - year_start_month) % 12
    quarter = offset // 3 + 1
    fiscal_year = (
        day.year if year_start_month == 1 or day.month < year_start_month else day.year + 1
    )
    return fiscal_year, quarter
