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


async def programme_year(ledger: LedgerService, year: int = 2026) -> int:
    """A programme's budget period for `year`, with two budget lines, the chart of accounts open."""
    from funding.programme.service import ProgrammeService

    await open_chart(ledger)
    programmes = ProgrammeService(ledger)
    programme = await programmes.create_programme(slug="kennisnetwerk", name="Kennisnetwerk")
    period = await programmes.add_period(
        programme, name=str(year), starts_on=date(year, 1, 1), ends_on=date(year, 12, 31)
    )
    await programmes.add_budget_line(
        period, code="events", name="Bijeenkomsten", name_en="Events", amount=Money.euros(18_000)
    )
    await programmes.add_budget_line(
        period, code="magazine", name="Magazine", name_en="Magazine", amount=Money.euros(5_000)
    )
    return period


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
