"""Domain core: a tiny double-entry ledger and calendar maths."""

from shared_core.dates import add_months, fiscal_quarter, month_end
from shared_core.ledger import Entry, Ledger, account_id

__all__ = ["Entry", "Ledger", "account_id", "add_months", "fiscal_quarter", "month_end"]
__version__ = "0.5.0"
