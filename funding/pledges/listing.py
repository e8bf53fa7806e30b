"""Rounds as lists show them: where each stands today, and its totals without reading its pledges.

`PledgeService.summary` reads one round's pledges one by one (it names contributors); a list of
rounds (the overview, `/rounds`, the API) needs only sums, so `round_figures` asks the database
for them grouped by round: two queries however many rounds and pledges there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from piccolo.query.functions.aggregate import Count, Sum

from funding.money import Money
from funding.pledges.service import Round, RoundTotals
from funding.pledges.tables import BOOKED_STATUSES, LIVE_STATUSES, ContributionForm, Pledge, PledgeCover, RoundStatus


class RoundPhase(StrEnum):
    """Where a round stands on a given day, as its page and the API say it."""

    upcoming = "upcoming"
    """Not open yet: pledges are taken from `opens_on`."""
    open = "open"
    awaiting_decision = "awaiting_decision"
    """Past its close date, not decided yet (`funding rounds close` decides it)."""
    succeeded = "succeeded"
    failed = "failed"
    closed = "closed"

    @property
    def decided(self) -> bool:
        return self in (RoundPhase.succeeded, RoundPhase.failed, RoundPhase.closed)


def phase(fund: Round, today: date) -> RoundPhase:
    if fund.status is not RoundStatus.open:
        return RoundPhase(fund.status.value)
    if today < fund.opens_on:
        return RoundPhase.upcoming
    if today > fund.closes_on:
        return RoundPhase.awaiting_decision
    return RoundPhase.open


@dataclass(frozen=True)
class RoundFigures(RoundTotals):
    """A round's totals, as `RoundSummary` has them, without the names."""

    pledges: int = 0
    """Standing pledges (cash and in kind)."""


async def round_figures(rounds: Sequence[Round]) -> list[RoundFigures]:
    """The figures of each of `rounds`, in their order: two grouped queries in all."""
    ids = [fund.id for fund in rounds]
    if not ids:
        return []
    sums = await (
        Pledge.select(
            Pledge.round,
            Pledge.status,
            Pledge.form,
            Count(alias="pledges"),
            Sum(Pledge.amount_cents, alias="amount"),
            Sum(Pledge.paid_cents, alias="paid"),
        )
        .where(Pledge.round.is_in(ids) & Pledge.status.is_in([s.value for s in LIVE_STATUSES]))
        .group_by(Pledge.round, Pledge.status, Pledge.form)
    )
    covers = await (
        PledgeCover.select(PledgeCover.round, Count(alias="covered"))
        .where(PledgeCover.round.is_in(ids))
        .group_by(PledgeCover.round)
    )
    covered = {row["round"]: row["covered"] for row in covers}
    booked = {s.value for s in BOOKED_STATUSES}
    # round id -> [conditional, due, received, in kind, pledges]; PostgreSQL sums bigints as numeric.
    totals: dict[int, list[int]] = {round_id: [0, 0, 0, 0, 0] for round_id in ids}
    for row in sums:
        found = totals[row["round"]]
        amount, paid = int(row["amount"] or 0), int(row["paid"] or 0)
        found[4] += row["pledges"]
        if row["form"] != ContributionForm.cash.value:
            found[3] += amount
        elif row["status"] in booked:
            found[1] += amount
            found[2] += paid
        else:
            found[0] += amount
            found[2] += paid
    return [
        RoundFigures(
            round=fund,
            pledged_conditional=Money(totals[fund.id][0]),
            pledged_due=Money(totals[fund.id][1]),
            received=Money(totals[fund.id][2]),
            in_kind=Money(totals[fund.id][3]),
            pledges=totals[fund.id][4],
            covered_count=covered.get(fund.id, 0),
        )
        for fund in rounds
    ]


def dated(figures: Iterable[RoundFigures], today: date) -> list[tuple[RoundFigures, RoundPhase]]:
    """Each round's figures with where it stands `today`."""
    return [(f, phase(f.round, today)) for f in figures]


def compact_history(
    history: Sequence[tuple[int, Money]], head: int = 10, tail: int = 3
) -> list[tuple[int, Money] | None]:
    """An equal-split round's share history as its page shows it: the first `head` steps and the
    last `tail`, with None where steps are left out (a round of 400 joiners has 400 steps).

    >>> [step and step[0] for step in compact_history([(n, Money(100 // n)) for n in range(1, 21)], 3, 2)]
    [1, 2, 3, None, 19, 20]
    """
    if len(history) <= head + tail + 1:  # leaving out one step would save nothing
        return list(history)
    return [*history[:head], None, *history[-tail:]]
