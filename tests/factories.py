"""Small builders that read like the domain (Liberapay-style `make_*` helpers)."""

from __future__ import annotations

import asyncio
from datetime import date

from funding.demo import ACCOUNTS
from funding.ledger.chain import EntryRecord
from funding.ledger.service import LedgerService, Leg
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


async def caching_is_on(client) -> None:
    """On PostgreSQL pages are cached once the change listener is connected."""
    version = client.app.state.data_version
    for _ in range(200):
        if version.trusted:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the cache invalidation listener did not connect")
