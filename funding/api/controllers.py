from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from funding import db
from funding.ledger.chain import EntryRecord
from funding.ledger.service import MAX_PAGE, LedgerService


class LedgerPage(msgspec.Struct):
    entries: list[EntryRecord]
    next_after: int | None
    """Pass as `after` for the next page; null on the last page."""


class ChainHead(msgspec.Struct):
    seq: int
    hash: str


class Health(msgspec.Struct):
    status: str


class LedgerApiController(Controller):
    path = "/api/v1"
    tags = ["ledger API"]

    @get("/ledger", name="api_ledger")
    async def ledger(
        self,
        ledger: NamedDependency[LedgerService],
        after: Annotated[int, QueryParameter(ge=0, le=2**53, description="Return entries after this seq")] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="Entries per page")] = 100,
    ) -> LedgerPage:
        """Journal entries in seq order, a page at a time (keyset pagination)."""
        entries = await ledger.entries_after(after, limit)
        return LedgerPage(entries=entries, next_after=entries[-1].seq if len(entries) == limit else None)

    @get("/ledger/head", name="api_ledger_head")
    async def head(self, ledger: NamedDependency[LedgerService]) -> ChainHead:
        """The newest entry's seq and hash: publish it, and anyone can check the chain ends there."""
        head = await ledger.head()
        return ChainHead(seq=head.seq, hash=head.hash)


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
