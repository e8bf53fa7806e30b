from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from litestar import Controller, MediaType, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import QueryParameter
from litestar.response import Stream, Template

from funding.ledger import exports
from funding.ledger.log import LogService
from funding.ledger.service import LedgerService
from funding.pledges.listing import dated
from funding.pledges.service import PledgeService
from funding.programme.service import ProgrammeService
from funding.web.errors import page_error_responses

PAGE_SIZE = 50
DECIDED_ON_HOME = 3
"""Decided rounds the overview names, the latest first; `/rounds` lists them all."""
SeqQuery = Annotated[int | None, QueryParameter(ge=1, le=2**53, description="Journal entry sequence number")]


class PublicController(Controller):
    path = "/"
    tags = ["public pages"]

    @get("/", name="home", cache=True)
    async def home(
        self,
        programmes: NamedDependency[ProgrammeService],
        pledges: NamedDependency[PledgeService],
        programme: NamedDependency[dict | None],
        budget: NamedDependency[list[dict]],
    ) -> Template:
        """The programme: this period's budget against income and spending, per budget line,
        and the funding rounds: open and coming ones, and the latest decided."""
        overview = await programmes.overview(date.today(), budget)
        listed = dated(await pledges.figures(), pledges.today())
        context = {
            "overview": overview,
            "current_rounds": [(figures, when) for figures, when in listed if not when.decided],
            "decided_rounds": [(figures, when) for figures, when in listed if when.decided][:DECIDED_ON_HOME],
            "programme": programme,
        }
        return Template("public/home.html", context=context)

    @get("/ledger", name="ledger", cache=True, responses=page_error_responses(400))
    async def ledger(
        self,
        ledger: NamedDependency[LedgerService],
        programme: NamedDependency[dict | None],
        before: SeqQuery = None,
        after: SeqQuery = None,
    ) -> Template:
        """The public ledger, newest first, a page at a time (keyset pagination)."""
        page = await ledger.page(before=before, after=after, limit=PAGE_SIZE)
        return Template("public/ledger.html", context={"page": page, "programme": programme})

    @get("/ledger.json", name="ledger_json", media_type=MediaType.JSON)
    async def ledger_json(self, ledger: NamedDependency[LedgerService]) -> Stream:
        """The whole hash chain as one JSON document, for `funding verify` and anyone's own check."""
        return _download(exports.json_chunks(ledger), MediaType.JSON, "ledger.json")

    @get("/ledger.csv", name="ledger_csv", media_type="text/csv")
    async def ledger_csv(self, ledger: NamedDependency[LedgerService]) -> Stream:
        """Every posting as a CSV row, for spreadsheets."""
        return _download(exports.csv_chunks(ledger), "text/csv", "ledger.csv")

    @get("/ledger.beancount", name="ledger_beancount", media_type=MediaType.TEXT)
    async def ledger_beancount(self, ledger: NamedDependency[LedgerService]) -> Stream:
        """The journal in Beancount's plain-text format, for auditors' own tools."""
        return _download(exports.beancount_chunks(ledger), MediaType.TEXT, "ledger.beancount")

    @get("/verify", name="verify", cache=True)
    async def verify(
        self, state: State, log: NamedDependency[LogService], programme: NamedDependency[dict | None]
    ) -> Template:
        """How to verify the ledger: what the chain, the tree and checkpoints guarantee, the key."""
        context = {
            "verifier_key": str(log.signer.verifier),
            "latest": await log.latest(),
            "base_url": state.settings.base_url,
            "programme": programme,
        }
        return Template("public/verify.html", context=context)

    @get("/accessibility", name="accessibility")
    async def accessibility(self, programme: NamedDependency[dict | None]) -> Template:
        """The accessibility statement Dutch public bodies publish."""
        return Template("public/accessibility.html", context={"programme": programme})


def _download(body: AsyncIterator[bytes], media_type: str, filename: str) -> Stream:
    return Stream(body, media_type=media_type, headers={"content-disposition": f'inline; filename="{filename}"'})
