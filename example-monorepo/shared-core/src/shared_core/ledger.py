"""A tiny in-memory ledger with exact decimal arithmetic."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from shared_utils.text import slugify

CENT = Decimal("0.01")


def account_id(name: str) -> str:
    """Stable account identifier: ``"Accounts Receivable"`` -> ``"accounts_receivable"``."""
    return slugify(name, separator="_")


def to_money(value: float | int | str | Decimal) -> Decimal:
    """``value`` as a Decimal rounded half-even to cents (floats go through ``str``)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Entry:
    """One posting: ``amount`` moves from ``credit`` to ``debit``."""

    debit: str
    credit: str
    amount: Decimal
    memo: str = ""


class Ledger:
    """Double-entry postings; every balance sums to zero across accounts."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []

    def post(
        self, debit: str, credit: str, amount: float | int | str | Decimal, memo: str = ""
    ) -> Entry:
        money = to_money(amount)
        if money <= 0:
            raise ValueError(f"amount must be positive, got {amount}")
        if account_id(debit) == account_id(credit):
            raise ValueError("debit and credit accounts must differ")
        entry = Entry(account_id(debit), account_id(credit), money, memo)
        self.entries.append(entry)
        return entry

    def balances(self) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for entry in self.entries:
            totals[entry.debit] += entry.amount
            totals[entry.credit] -= entry.amount
        return dict(sorted(totals.items()))

    def trial_balance_ok(self) -> bool:
        return sum(self.balances().values(), Decimal("0")) == 0
