"""Rounds as lists show them: where each stands today, and its totals without reading its pledges.

A list of rounds (the overview, `/rounds`, the API) needs only sums: `PledgeService.figures`
asks the database for every round with its sums grouped by round, in one query however many
rounds and pledges there are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum

from funding.money import Money
from funding.pledges.service import Round, RoundTotals
from funding.pledges.tables import RoundStatus


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


RoundFigures = RoundTotals
"""A round's totals as lists show them (`PledgeService.figures`: one query for every round)."""


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
