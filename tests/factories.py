"""Small builders that read like the domain (Liberapay-style `make_*` helpers)."""

from __future__ import annotations

from datetime import date

from funding.demo import ACCOUNTS
from funding.ledger.chain import EntryRecord
from funding.ledger.service import Leg, LedgerService
from funding.money import Money

STAFF_TOKEN = "staff-token-for-tests"
STAFF_AUTH = {"Authorization": f"Bearer {STAFF_TOKEN}"}


async def open_chart(ledger: LedgerService) -> None:
    for name, label in ACCOUNTS.items():
        await ledger.open_account(name, label)
    await ledger.open_account("expenses:salaries", "Salarissen")


async def book_contribution(
    ledger: LedgerService,
    euros: int | str = 1000,
    *,
    occurred_on: date = date(2026, 3, 1),
    description: str = "Bijdrage Gemeente Utrecht",
    **kwargs,
) -> EntryRecord:
    amount = Money.euros(euros)
    return await ledger.append(
        kind="bank_transfer",
        description=description,
        occurred_on=occurred_on,
        legs=[Leg("assets:bank", amount), Leg("income:contributions", -amount)],
        **kwargs,
    )


async def book_salary(ledger: LedgerService, euros: int | str = 6250, **kwargs) -> EntryRecord:
    amount = Money.euros(euros)
    return await ledger.append(
        kind="expense",
        description="Salaris",
        occurred_on=kwargs.pop("occurred_on", date(2026, 3, 25)),
        legs=[Leg("expenses:salaries", amount), Leg("assets:bank", -amount)],
        **kwargs,
    )
