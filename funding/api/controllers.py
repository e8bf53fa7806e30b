from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from funding import db
from funding.ledger.chain import EntryRecord
from funding.ledger.service import MAX_PAGE, LedgerService
from funding.programme.service import ProgrammeService
from funding.web.errors import error_responses


class LedgerPage(msgspec.Struct):
    entries: list[EntryRecord]
    next_after: int | None
    """Pass as `after` for the next page; null on the last page."""


class ChainHead(msgspec.Struct):
    seq: int
    hash: str


class Health(msgspec.Struct):
    status: str


class LineTotals(msgspec.Struct):
    code: str
    name: str
    budget: int
    spent: int
    spent_in_kind: int


class PeriodTotals(msgspec.Struct):
    """One budget period in euro cents: budget, what came in, what went out."""

    programme: str
    period: str
    starts_on: date
    ends_on: date
    budget: int
    contributions: int
    in_kind: int
    spent: int
    cash: int
    lines: list[LineTotals]


class LedgerApiController(Controller):
    path = "/api/v1"
    tags = ["ledger API"]

    @get("/ledger", name="api_ledger", cache=True)
    async def ledger(
        self,
        ledger: NamedDependency[LedgerService],
        after: Annotated[int, QueryParameter(ge=0, le=2**53, description="Return entries after this seq")] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Entries per page")] = 100,
    ) -> LedgerPage:
        """Journal entries in seq order, a page at a time (keyset pagination)."""
        entries = await ledger.entries_after(after, limit)
        return LedgerPage(entries=entries, next_after=entries[-1].seq if len(entries) == limit else None)

    @get("/ledger/head", name="api_ledger_head", cache=True)
    async def head(self, ledger: NamedDependency[LedgerService]) -> ChainHead:
        """The newest entry's seq and hash: publish it, and anyone can check the chain ends there."""
        head = await ledger.head()
        return ChainHead(seq=head.seq, hash=head.hash)


class TotalsApiController(Controller):
    path = "/api/v1/totals"
    tags = ["ledger API"]

    @get("/", name="api_totals", cache=True, responses=error_responses(404))
    async def totals(
        self,
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        budget: NamedDependency[list[dict]],
    ) -> PeriodTotals:
        """The current budget period's totals, as on the overview page."""
        overview = await programmes.overview(date.today(), budget)
        if overview is None or programme is None:  # no programme, so no period either
            raise NotFoundException("there is no budget period yet")
        return PeriodTotals(
            programme=programme["name"],
            period=overview.period["name"],
            starts_on=overview.period["starts_on"],
            ends_on=overview.period["ends_on"],
            budget=overview.budget.cents,
            contributions=overview.contributions.cents,
            in_kind=overview.in_kind.cents,
            spent=overview.spent.cents,
            cash=overview.cash.cents,
            lines=[
                LineTotals(line.code, line.name, line.budget.cents, line.spent.cents, line.spent_in_kind.cents)
                for line in overview.lines
            ],
        )


class HealthController(Controller):
    path = "/health"
    tags = ["health"]

    @get("/", name="health")
    async def live(self) -> Health:
        """Liveness: the process answers (no I/O)."""
        return Health(status="ok")

    @get(
        "/ready",
        name="ready",
        responses={503: ResponseSpec(data_container=Health, description="The database does not answer")},
    )
    async def ready(self) -> Response[Health]:
        """Readiness: the database answers."""
        try:
            await db.ping()
        except Exception:  # any failure to reach the database means "not ready", never a 500
            return Response(Health(status="database unavailable"), status_code=HTTP_503_SERVICE_UNAVAILABLE)
        return Response(Health(status="ok"))
