"""Funding rounds in public: the list of rounds, and each round's page with its fair-share table.

Both pages are cached for everyone (no forms, no CSRF cookie; see `CSRF_EXEMPT` in app.py) and
dropped when a pledge, cover or organisation changes. A round page reads the same few queries
whatever the number of organisations and pledges: its totals from grouped sums, and one page of
its fair-share table (`?after=`: keyset pagination, as DESIGN.md's "Scale" asks).
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter
from litestar.response import Template

from funding import i18n
from funding.pledges.listing import RoundPhase, compact_history, dated, phase
from funding.pledges.service import PledgeService
from funding.web.errors import page_error_responses

AfterQuery = Annotated[
    int | None,
    QueryParameter(ge=1, le=2**31 - 1, description="The fair-share table's page after this organisation's row"),
]


class RoundController(Controller):
    path = "/rounds"
    tags = ("public pages",)

    @get("/", name="rounds", cache=True)
    async def rounds(
        self, pledges: NamedDependency[PledgeService], programme: NamedDependency[dict | None]
    ) -> Template:
        """Every funding round: open and coming ones first, then those decided."""
        listed = dated(await pledges.figures(), pledges.today())
        current = [(figures, when) for figures, when in listed if not when.decided]
        decided = [(figures, when) for figures, when in listed if when.decided]
        context = {"current": current, "decided": decided, "phases": RoundPhase, "programme": programme}
        return Template("public/rounds.html", context=context)

    @get("/{slug:str}", name="round", cache=True, responses=page_error_responses(400, 404))
    async def round(
        self,
        slug: FromPath[str],
        pledges: NamedDependency[PledgeService],
        programme: NamedDependency[dict | None],
        after: AfterQuery = None,
    ) -> Template:
        """A round: target against pledged and received, its key, and who gave what (a page of
        its fair-share table at a time)."""
        view = await pledges.round_view(slug, after=after, in_kind=True)
        summary, page, in_kind = view.summary, view.page, view.in_kind
        fund, today = summary.round, pledges.today()
        context = {
            "summary": summary,
            "fund": fund,
            "page": page,
            "phase": phase(fund, today),
            "phases": RoundPhase,
            "accepts_pledges": fund.accepts_pledges(today),
            "key": fund.key.describe(i18n.current_locale()),
            "history": compact_history(summary.share_history),
            "in_kind": in_kind,
            "programme": programme,
        }
        return Template("public/round.html", context=context)
