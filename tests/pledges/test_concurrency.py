"""Pledges arriving at the same moment, on PostgreSQL (where they really run in parallel)."""

from __future__ import annotations

import asyncio

import pytest

from funding.money import Money, total
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.keys import equal_shares
from funding.pledges.service import AlreadyCovered, PledgeService
from funding.pledges.tables import PledgeCover, PledgeStatus, RoundModel
from tests.pledges.conftest import EQUAL, cash, make_round

pytestmark = pytest.mark.postgres_only

AT_ONCE = 50


async def test_fifty_simultaneous_pledges_to_an_equal_split_leave_every_share_consistent(ledger, year, pool, clock):
    pledges = PledgeService(ledger, clock=clock)
    await make_round(pledges, year, model=RoundModel.all_or_nothing, key=EQUAL, target=200_000)
    registry = OrganisationService()
    organisations = [
        await registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {n}", cbs_code=f"GM{n:04d}")
        for n in range(1, AT_ONCE + 1)
    ]
    # Every organisation at once, and five of them twice more: those must be refused.
    attempts = [cash(org) for org in organisations] + [cash(org) for org in organisations[:5] * 2]
    outcomes = await asyncio.gather(*[pledges.pledge("2026", a) for a in attempts], return_exceptions=True)
    made = [o for o in outcomes if not isinstance(o, BaseException)]
    refused = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(made) == AT_ONCE and {p.organisation_id for p in made} == set(organisations)
    assert len(refused) == 10 and all(isinstance(r, AlreadyCovered) for r in refused), refused

    fund = await pledges.round("2026")
    standing = await pledges.pledges(fund.id)
    assert len(standing) == AT_ONCE and all(p.status is PledgeStatus.conditional for p in standing)
    covers = await PledgeCover.select().where(PledgeCover.round == fund.id).order_by(PledgeCover.id)
    expected = equal_shares(Money.euros(200_000), AT_ONCE)
    assert [Money(c["share_cents"]) for c in covers] == expected, "shares in join order, a cent apart at most"
    amounts = {p.id: p.amount for p in standing}
    assert {c["pledge"]: Money(c["share_cents"]) for c in covers} == amounts
    assert total(amounts.values()) == Money.euros(200_000)
    summary = await pledges.summary("2026")
    assert summary.pledged_conditional == Money.euros(200_000) and summary.covered_count == AT_ONCE
    assert len(summary.share_history) == AT_ONCE and summary.share_history[-1][1] == expected[0]
    assert (await ledger.head()).seq == 0, "conditional pledges are not booked"


async def test_simultaneous_changes_and_cancellations_of_due_pledges_book_each_once(ledger, year, orgs, pool, clock):
    pledges = PledgeService(ledger, clock=clock)
    await make_round(pledges, year)
    made = [await pledges.pledge("2026", cash(orgs[name], 1000)) for name in ("amsterdam", "utrecht", "vlieland")]
    cancels = [pledges.cancel(p.token, reason="tegelijk") for p in made for _ in range(3)]
    outcomes = await asyncio.gather(*cancels, return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    kinds = [e.kind for e in await ledger.entries_after(0)]
    assert kinds.count("pledge_due") == 3 and kinds.count("reversal") == 3
    assert {k: v for k, v in (await ledger.balances()).items() if v} == {}
    assert (await ledger.verify()).ok
