"""The public API of funding rounds: rounds with their totals, a round's fair-share table, and
totals per organisation kind.

Every amount is an `Amount`: integer euro cents to compute with, and the same amount as a
decimal string in euros (`"12.50"`, Mollie's notation) to show or compare with invoices.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, cast

import msgspec
from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter

from funding.money import CURRENCY, Money
from funding.pledges.keys import CostSharingKey, KeyKind
from funding.pledges.listing import RoundFigures, RoundPhase, phase
from funding.pledges.service import FAIR_SHARE_PAGE, FairSharePage, FairShareRow, KindTotals, PledgeService
from funding.pledges.tables import RoundModel, RoundStatus
from funding.web.errors import error_responses

FairShareStatus = Literal["conditional", "due", "partially_paid", "paid", "covered", "none", "anonymous"]


class Amount(msgspec.Struct, frozen=True):
    cents: int
    """Euro cents."""
    value: str
    """The same in euros, two decimals: `"12.50"`."""
    currency: str = CURRENCY

    @classmethod
    def of(cls, money: Money) -> Amount:
        return cls(cents=money.cents, value=f"{money.to_decimal():.2f}")


class RoundTotals(msgspec.Struct, frozen=True):
    pledged: Amount
    """Cash pledged, conditional and due together."""
    pledged_conditional: Amount
    """Cash pledged to an all-or-nothing round that is not decided yet: not booked."""
    pledged_due: Amount
    """Cash pledged and due (booked), paid or not."""
    received: Amount
    in_kind: Amount
    """The value of what is given in kind, hours or goods."""
    pledges: int
    """Standing pledges (not cancelled or released), cash and in kind."""
    organisations: int
    """Organisations the standing pledges cover, an umbrella pledge's members included."""
    percent: int
    """Cash pledged as a whole percentage of the target, at most 100."""
    target_met: bool


class RoundOut(msgspec.Struct, frozen=True):
    slug: str
    name: str
    """The round's name in Dutch."""
    name_en: str
    """Its name in English; empty if it has none."""
    target: Amount
    opens_on: date
    closes_on: date
    """The last day pledges are taken."""
    model: RoundModel
    key_kind: KeyKind
    key: CostSharingKey
    """The cost-sharing key, as the round stores it."""
    status: RoundStatus
    """As stored: open until it is decided."""
    phase: RoundPhase
    """Where it stands today: upcoming, open, awaiting_decision (past its close date), or decided."""
    accepts_pledges: bool
    decided_at: datetime | None
    totals: RoundTotals


class FairShareOut(msgspec.Struct, frozen=True):
    organisation_id: int | None
    """Null for the one row that counts together the contributors who are not named."""
    name: str
    """The organisation's name; `anonieme bijdrager` (as in the journal) for the aggregated row."""
    kind: str | None
    suggested: Amount | None
    """What the key asks; null for the aggregated row (the round does not ask those it counts)."""
    pledged: Amount
    """Cash pledged by the organisation itself."""
    in_kind: Amount
    paid: Amount
    status: FairShareStatus
    """Its pledge's status; `covered` by an umbrella pledge; `none` if not pledged yet."""
    covered_by: str | None
    """For `covered`: the umbrella body's public name."""
    count: int
    """How many organisations the row stands for: 1, more only for the aggregated row."""


class FairShareTable(msgspec.Struct, frozen=True):
    round: str
    """The round's slug."""
    rows: list[FairShareOut]
    """A page of the organisations the table names, by name (then id): every public body the
    round asks (gemeenten, provincies, ministeries, waterschappen), pledged or not, and each
    other contributor that pledged and agreed to be named."""
    anonymous: FairShareOut | None
    """The one row that counts together the contributors who are not named (null if none); it
    is not part of the name order, so every page has it."""
    after: int | None
    """The organisation id this page starts after (`?after=`), null for the first page."""
    next_after: int | None
    """Pass as `?after=` for the next page; null on the last page."""
    limit: int


class KindTotalsOut(msgspec.Struct, frozen=True):
    kind: str
    pledges: int
    pledged: Amount
    """Cash."""
    in_kind: Amount
    paid: Amount


class KindTotalsTable(msgspec.Struct, frozen=True):
    round: str | None
    """The round's slug, or null for all rounds together."""
    kinds: list[KindTotalsOut]


RoundQuery = Annotated[
    str | None, QueryParameter(description="A funding round's slug; leave out for all rounds", max_length=80)
]


AfterQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="Start after this organisation's row: the `next_after` of a page"),
]
LimitQuery = Annotated[int, QueryParameter(ge=1, le=500, description="Organisations per page")]


class RoundsApiController(Controller):
    path = "/api/v1"
    tags = ("rounds API",)

    @get("/rounds", name="api_rounds", cache=True)
    async def rounds(self, pledges: NamedDependency[PledgeService]) -> list[RoundOut]:
        """Every funding round with its totals, the latest to close first."""
        today = pledges.today()
        return [_round(figures, today) for figures in await pledges.figures()]

    @get("/rounds/{slug:str}", name="api_round", cache=True, responses=error_responses(404))
    async def round(self, slug: FromPath[str], pledges: NamedDependency[PledgeService]) -> RoundOut:
        """One funding round with its totals."""
        [figures] = await pledges.figures(slug)
        return _round(figures, pledges.today())

    @get("/rounds/{slug:str}/fair-shares", name="api_fair_shares", cache=True, responses=error_responses(404))
    async def fair_shares(
        self,
        slug: FromPath[str],
        pledges: NamedDependency[PledgeService],
        after: AfterQuery = None,
        limit: LimitQuery = FAIR_SHARE_PAGE,
    ) -> FairShareTable:
        """The round's fair-share table, a page at a time (keyset: `?after=` the last id of the
        page before): suggested against pledged against paid, per organisation."""
        view = await pledges.round_view(slug, after=after, limit=limit)
        return _table(slug, view.page, limit)

    @get("/totals/kinds", name="api_totals_kinds", cache=True, responses=error_responses(404))
    async def kinds(self, pledges: NamedDependency[PledgeService], round: RoundQuery = None) -> KindTotalsTable:
        """Pledged, in kind and paid per organisation kind, of one round (`round`) or all of them."""
        return KindTotalsTable(round=round, kinds=[_kind(totals) for totals in await pledges.totals_by_kind(round)])


def _round(figures: RoundFigures, today: date) -> RoundOut:
    fund = figures.round
    return RoundOut(
        slug=fund.slug,
        name=fund.name,
        name_en=fund.name_en,
        target=Amount.of(fund.target),
        opens_on=fund.opens_on,
        closes_on=fund.closes_on,
        model=fund.model,
        key_kind=fund.key.kind,
        key=fund.key,
        status=fund.status,
        phase=phase(fund, today),
        accepts_pledges=fund.accepts_pledges(today),
        decided_at=fund.decided_at,
        totals=RoundTotals(
            pledged=Amount.of(figures.pledged),
            pledged_conditional=Amount.of(figures.pledged_conditional),
            pledged_due=Amount.of(figures.pledged_due),
            received=Amount.of(figures.received),
            in_kind=Amount.of(figures.in_kind),
            pledges=figures.pledges,
            organisations=figures.covered_count,
            percent=figures.percent,
            target_met=figures.target_met,
        ),
    )


def _table(slug: str, page: FairSharePage, limit: int) -> FairShareTable:
    return FairShareTable(
        round=slug,
        rows=[_fair_share(row) for row in page.rows],
        anonymous=_fair_share(page.anonymous) if page.anonymous else None,
        after=page.after,
        next_after=page.next_after,
        limit=limit,
    )


def _fair_share(row: FairShareRow) -> FairShareOut:
    return FairShareOut(
        organisation_id=row.organisation_id,
        name=row.name,
        kind=row.kind or None,
        suggested=Amount.of(row.suggested) if row.suggested is not None else None,
        pledged=Amount.of(row.pledged),
        in_kind=Amount.of(row.in_kind),
        paid=Amount.of(row.paid),
        status=cast(FairShareStatus, row.status),  # as FairShareRow documents; the schema check holds it to that
        covered_by=row.covered_by or None,
        count=row.count,
    )


def _kind(totals: KindTotals) -> KindTotalsOut:
    return KindTotalsOut(
        kind=totals.kind,
        pledges=totals.pledges,
        pledged=Amount.of(totals.pledged),
        in_kind=Amount.of(totals.in_kind),
        paid=Amount.of(totals.paid),
    )
