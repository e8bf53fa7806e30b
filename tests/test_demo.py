"""The demo: a registry of demo organisations, the demo year's keep-it-all round decided and
booked once per pledge, next year's all-or-nothing round open with pledges in every state, and
a journal that verifies with nothing dated after the day it was loaded, whatever that day."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime

import pytest

from funding.db import as_datetime
from funding.demo import demo_year, load_demo, round_slug, top_up_slug
from funding.ledger.chain import EntryRecord
from funding.ledger.service import LedgerService
from funding.money import Money, total
from funding.organisations.tables import Organisation, OrganisationKind
from funding.pledges.service import ANONYMOUS, PledgeRecord, PledgeService
from funding.pledges.tables import (
    BOOKED_STATUSES,
    ContributionForm,
    FundingRound,
    PledgeEvent,
    PledgeStatus,
    RoundEvent,
    RoundModel,
    RoundStatus,
)
from funding.programme.service import ProgrammeService

TODAY = date(2026, 11, 29)
"""The `demo` fixture's day."""


async def entries(ledger: LedgerService) -> list[EntryRecord]:
    return [entry async for entry in ledger.iter_entries()]


async def round_pledges(slug: str) -> list[PledgeRecord]:
    pledges = PledgeService()
    return [await pledges.pledge_by_token(p.token) for p in await pledges.pledges((await pledges.round(slug)).id)]


async def test_the_demo_loads_once(demo, ledger):
    head = await ledger.head()
    assert await load_demo(TODAY) is False
    assert await load_demo(date(2026, 3, 1)) is False
    assert await ledger.head() == head


async def test_every_organisation_is_a_demo_registry_row_of_its_real_kind(demo):
    rows = await Organisation.select()
    assert 40 <= len(rows) <= 60 and all(row["is_demo"] for row in rows)
    kinds = Counter(row["kind"] for row in rows)
    assert set(kinds) == set(OrganisationKind) and kinds["gemeente"] >= 20 and kinds["provincie"] == 12
    for row in rows:
        assert "(GM" not in row["name"] and "demo" in row["billing_email"]
        if row["kind"] == "gemeente":
            assert row["cbs_code"].startswith("GM") and row["population"] > 0
    amsterdam = next(row for row in rows if row["cbs_code"] == "GM0363")
    assert amsterdam["name"] == "Gemeente Amsterdam" and amsterdam["population"] > 800_000
    [umbrella] = [row for row in rows if row["kind"] == "other_public"]
    assert umbrella["name"] == "Vereniging van Nederlandse Gemeenten"
    assert not any(row["is_public"] for row in rows if row["kind"] in ("company", "individual"))


async def test_the_demo_years_round_is_decided_and_each_pledge_booked_exactly_once(demo, ledger):
    pledges = PledgeService(ledger)
    fund = await pledges.round(round_slug(2026))
    assert fund.model is RoundModel.keep_it_all and fund.status is RoundStatus.closed
    assert fund.closes_on < TODAY and fund.decided_at is not None
    assert [e["to_status"] for e in await pledges.round_events(fund.id)] == ["open", "closed"]
    made = await round_pledges(fund.slug)
    booked = [p for p in made if p.status in BOOKED_STATUSES]
    assert booked == made, "a keep-it-all round's pledges are all due from the start"
    references = {p.reference for p in made}
    journal = [e for e in await entries(ledger) if e.reference in references]
    due_entries = [e for e in journal if e.kind == "pledge_due"]
    assert len(due_entries) == len(booked) == len({p.booked_seq for p in booked})
    by_seq = {e.seq: e for e in journal}
    for pledge in booked:
        assert by_seq[pledge.booked_seq].reference == pledge.reference
    assert not [e for e in journal if e.reverses is not None]
    statuses = Counter(p.status for p in made if not p.is_in_kind)
    assert statuses[PledgeStatus.paid] > 30 and statuses[PledgeStatus.partially_paid] == 1
    assert 1 <= statuses[PledgeStatus.due] <= 2, "one or two are still unpaid"
    assert {p.form for p in made if p.is_in_kind} == {ContributionForm.goods, ContributionForm.hours}
    transfers = [e for e in journal if e.kind == "bank_transfer"]
    assert len(transfers) == sum(len([h for h in p.history if h.action == "payment_received"]) for p in made)
    summary = await pledges.summary(fund.slug)
    assert summary.received == total(p.paid for p in made) and summary.received < summary.pledged_due
    assert Money.euros(180_000) < summary.pledged_due <= fund.target


async def test_the_top_up_round_is_open_and_its_pledges_due_so_a_visitor_can_pledge_and_pay(demo, ledger):
    pledges = PledgeService(ledger)
    fund = await pledges.round(top_up_slug(2026))
    assert fund.model is RoundModel.keep_it_all and fund.status is RoundStatus.open
    assert fund.accepts_pledges(TODAY)
    made = await round_pledges(fund.slug)
    assert {p.status for p in made} == {PledgeStatus.paid, PledgeStatus.due}
    assert all(p.amount == Money.euros(500) for p in made)


async def test_next_years_round_is_open_with_pledges_in_every_state_and_none_booked(demo, ledger):
    pledges = PledgeService(ledger)
    fund = await pledges.round(round_slug(2027))
    assert fund.model is RoundModel.all_or_nothing and fund.status is RoundStatus.open
    assert fund.accepts_pledges(TODAY) and fund.opens_on < TODAY < fund.closes_on
    made = await round_pledges(fund.slug)
    assert 25 <= len(made) <= 40
    statuses = Counter(p.status for p in made)
    assert set(statuses) == {PledgeStatus.conditional, PledgeStatus.cancelled}
    assert statuses[PledgeStatus.conditional] > 20 and 1 <= statuses[PledgeStatus.cancelled] <= 2
    for cancelled in (p for p in made if p.status is PledgeStatus.cancelled):
        assert cancelled.history[-1].action == "cancelled" and cancelled.history[-1].note
    assert {p.form for p in made if p.is_in_kind} == {ContributionForm.goods, ContributionForm.hours}
    [umbrella] = [p for p in made if p.members]
    assert umbrella.organisation_name == "Vereniging van Nederlandse Gemeenten" and len(umbrella.members) >= 3
    assert [p for p in made if not p.publish_name]
    assert any(action == "amount_changed" for p in made for action in (h.action for h in p.history))
    assert all(p.booked_seq is None for p in made)
    references = {p.reference for p in made}
    assert not [e for e in await entries(ledger) if e.reference in references]
    summary = await pledges.summary(fund.slug)
    assert not summary.target_met and summary.pledged_due.cents == 0 and summary.anonymous_count >= 1
    table = await pledges.fair_share(fund.slug)
    assert table[-1].name == ANONYMOUS and table[-1].count >= 1
    assert {row.status for row in table} >= {"conditional", "covered", "none", "anonymous"}


async def test_the_demo_tells_no_real_persons_contact(demo):
    pledges = PledgeService()
    for fund in await pledges.rounds():
        for pledge in await pledges.pledges(fund.id):
            assert pledge.contact_name == "Demo Contactpersoon"
            assert pledge.contact_email.startswith("demo+") and pledge.contact_email.endswith("@example.org")
        made = await pledges.pledges(fund.id)
        if fund.slug != top_up_slug(fund.opens_on.year):  # the two big rounds show every kind of pledger
            assert len({p.payment_preference for p in made}) == 2 and len({p.buyer_reference for p in made}) > 3


async def check_demo(today: date) -> None:
    """What holds whatever day the demo is loaded on."""
    ledger = LedgerService()
    assert (await ledger.verify()).ok
    journal = await entries(ledger)
    days = [e.occurred_on for e in journal]
    assert days == sorted(days), "the journal is in date order"
    assert max(days) <= today
    year = demo_year(today)
    overview = await ProgrammeService(ledger).overview(date(year, 12, 31))
    assert overview is not None and overview.contributions.cents > 100_000_00 and overview.spent.cents > 0
    pledges = PledgeService(ledger)
    closed, open_ = await pledges.round(round_slug(year)), await pledges.round(round_slug(year + 1))
    assert closed.status is RoundStatus.closed and closed.closes_on < today
    assert open_.accepts_pledges(today) and not (await pledges.summary(open_.slug)).target_met
    top_up = await pledges.round(top_up_slug(year))
    assert top_up.accepts_pledges(today), "a round whose pledges are due at once: a visitor can pay online"
    booked = [p for fund in (closed, top_up) for p in await pledges.pledges(fund.id) if p.status in BOOKED_STATUSES]
    assert len([e for e in journal if e.kind == "pledge_due"]) == len(booked)
    assert PledgeStatus.partially_paid in {p.status for p in booked}
    assert [p for p in await pledges.pledges(open_.id) if p.status is PledgeStatus.cancelled]
    moments: list[datetime] = [
        *(as_datetime(row["at"]) for row in await PledgeEvent.select(PledgeEvent.at)),
        *(as_datetime(row["at"]) for row in await RoundEvent.select(RoundEvent.at)),
        *(
            as_datetime(row["decided_at"])
            for row in await FundingRound.select(FundingRound.decided_at)
            if row["decided_at"]
        ),
    ]
    assert max(moment.date() for moment in moments) <= today


@pytest.mark.parametrize("today", [date(2026, 1, 15), date(2026, 6, 1), date(2026, 9, 30), date(2026, 12, 1)])
async def test_the_demo_works_whatever_day_it_is_loaded(database, today):
    assert await load_demo(today)
    await check_demo(today)


async def test_the_demo_fixture_holds_too(demo):
    await check_demo(TODAY)
