"""Where a round stands on a day, and how its page shortens a long share history (pure)."""

from __future__ import annotations

import doctest
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from funding.money import Money
from funding.pledges import listing
from funding.pledges.keys import CostSharingKey, KeyKind
from funding.pledges.listing import RoundPhase, compact_history, phase
from funding.pledges.service import Round
from funding.pledges.tables import RoundModel, RoundStatus

ROUND = Round(
    id=1,
    slug="2026",
    period_id=1,
    name="Bijdragen 2026",
    name_en="",
    description="",
    target=Money.euros(10_000),
    opens_on=date(2026, 1, 1),
    closes_on=date(2026, 6, 30),
    model=RoundModel.all_or_nothing,
    key=CostSharingKey(kind=KeyKind.flat, amount_cents=100_000),
    status=RoundStatus.open,
    decided_at=None,
)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2025, 12, 31), RoundPhase.upcoming),
        (date(2026, 1, 1), RoundPhase.open),
        (date(2026, 6, 30), RoundPhase.open),  # the close date is the last day pledges are taken
        (date(2026, 7, 1), RoundPhase.awaiting_decision),
    ],
)
def test_an_undecided_round_is_upcoming_open_or_awaiting_its_decision(today, expected):
    assert phase(ROUND, today) is expected
    assert (expected is RoundPhase.open) == ROUND.accepts_pledges(today)
    assert not expected.decided


@pytest.mark.parametrize("status", [RoundStatus.succeeded, RoundStatus.failed, RoundStatus.closed])
def test_a_decided_round_says_its_outcome_whatever_the_day(status):
    decided = replace(ROUND, status=status, decided_at=datetime(2026, 7, 1, tzinfo=UTC))
    for today in (date(2026, 3, 1), date(2027, 1, 1)):
        assert phase(decided, today) == status.value and phase(decided, today).decided


def test_a_short_history_is_shown_whole_and_a_long_one_by_its_start_and_end():
    steps = [(n, Money(1000 // n)) for n in range(1, 401)]
    assert compact_history(steps[:14]) == steps[:14], "leaving out one step saves nothing"
    shortened = compact_history(steps)
    assert shortened == [*steps[:10], None, *steps[-3:]]
    assert compact_history([]) == []


def test_the_listing_examples_hold():
    assert doctest.testmod(listing).failed == 0
