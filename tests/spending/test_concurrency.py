"""Approvals at the same moment, on PostgreSQL (where they really run in parallel): a line's
remaining budget is spent once."""

from __future__ import annotations

import asyncio

import pytest

from funding.money import Money
from funding.spending.errors import SpendingError
from funding.spending.tables import ExpenseStatus
from tests.spending.test_service import submitted

pytestmark = pytest.mark.postgres_only

AT_ONCE = 10


async def test_simultaneous_approvals_never_spend_the_same_remaining_budget_twice(
    spending, staff, period, ledger, pool
):
    expenses = [
        await submitted(spending, staff["treasurer"], period, 1000, budget_line="magazine") for _ in range(AT_ONCE)
    ]
    deciders = [staff["approver"], staff["approver2"], staff["admin"]]
    outcomes = await asyncio.gather(
        *[spending.approve(e.id, deciders[n % 3]) for n, e in enumerate(expenses)], return_exceptions=True
    )
    approved = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(approved) == 5, "EUR 5,000 on the line: five of EUR 1,000"
    assert all(isinstance(r, SpendingError) and r.field == "override_by" for r in refused), refused
    assert await spending.remaining(period, "magazine") == Money.zero()
    assert len(await spending.awaiting_approval()) == AT_ONCE - 5
    assert sorted(e.approved_seq for e in approved) == list(range(1, 6))
    assert all(e.status is ExpenseStatus.approved for e in approved)
    assert (await ledger.verify()).ok
