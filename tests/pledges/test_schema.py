"""The pledge tables say the service's rules themselves, on both backends (migration 0007):
a direct write that breaks one is refused, whoever sends it."""

from __future__ import annotations

from datetime import date

import pytest

from funding.organisations.tables import Organisation
from funding.pledges.tables import FundingRound, Pledge, PledgeCover, PledgeEvent, RoundEvent
from tests.pledges.conftest import cash, make_round

REFUSED = r"(?i)check constraint|violates check|constraint failed"


@pytest.fixture
async def pledged(pledges, year, orgs):
    await make_round(pledges, year)
    return await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))


@pytest.mark.parametrize(
    ("column", "value"),
    [("amount_cents", 0), ("amount_cents", -5), ("paid_cents", -1), ("reference", "12345")],
)
async def test_a_pledge_row_that_breaks_a_rule_is_refused(pledged, column, value):
    with pytest.raises(Exception, match=REFUSED):
        await Pledge.update({column: value}).where(Pledge.id == pledged.id)
    assert (await Pledge.select(Pledge.amount_cents).first())["amount_cents"] == 100_000


async def test_an_in_kind_pledge_must_name_its_budget_line(pledged):
    with pytest.raises(Exception, match=REFUSED):
        await Pledge.update({Pledge.form: "goods"}).where(Pledge.id == pledged.id)


async def test_a_round_needs_a_positive_target_and_closes_after_it_opens(pledged):
    for change in ({FundingRound.target_cents: 0}, {FundingRound.closes_on: date(2025, 12, 31)}):
        with pytest.raises(Exception, match=REFUSED):
            await FundingRound.update(change).where(FundingRound.slug == "2026")


async def test_an_organisation_is_covered_once_per_round_by_the_database_too(pledged, orgs):
    with pytest.raises(Exception, match=r"(?i)unique"):
        await PledgeCover.insert(
            PledgeCover(round=pledged.round_id, organisation=orgs["amsterdam"], pledge=pledged.id, share_cents=0)
        )


@pytest.mark.parametrize("table", [PledgeEvent, RoundEvent])
async def test_history_is_append_only(pledged, table):
    with pytest.raises(Exception, match=r"(?i)append-only"):
        await table.update({table.reason if table is RoundEvent else table.note: "rewritten"}).where(table.id > 0)
    with pytest.raises(Exception, match=r"(?i)append-only"):
        await table.delete().where(table.id > 0)
    assert await table.count() >= 1


@pytest.mark.parametrize(
    ("column", "value"),
    [("cbs_code", "0363"), ("cbs_code", "GM363"), ("oin", "1234"), ("kvk", "1234567X"), ("population", -1)],
)
async def test_registry_identifiers_have_their_official_shapes(database, column, value):
    with pytest.raises(Exception, match=REFUSED):
        await Organisation.insert(Organisation(kind="gemeente", name="Gemeente X", is_public=True, **{column: value}))
    assert await Organisation.count() == 0
