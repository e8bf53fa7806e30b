"""Funding rounds in public: the list of rounds, and each round's page with its fair-share table.

Both pages are cached for everyone (no forms, no CSRF cookie; see `CSRF_EXEMPT` in app.py) and
dropped when a pledge, cover or organisation changes. A round page reads the same few queries
whatever the number of organisations: the service reads the round's standing in one go.
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from funding import i18n
from funding.pledges.listing import RoundPhase, compact_history, dated, phase, round_figures
from funding.pledges.service import ANONYMOUS, PledgeService
from funding.programme.service import ProgrammeService
from funding.web.errors import page_error_responses


class RoundController(Controller):
    path = "/rounds"
    tags = ("public pages",)

    @get("/", name="rounds", cache=True)
    async def rounds(
        self, pledges: NamedDependency[PledgeService], programme: NamedDependency[dict | None]
    ) -> Template:
        """Every funding round: open and coming ones first, then those decided."""
        listed = dated(await round_figures(await pledges.rounds()), pledges.today())
        current = [(figures, when) for figures, when in listed if not when.decided]
        decided = [(figures, when) for figures, when in listed if when.decided]
        context = {"current": current, "decided": decided, "phases": RoundPhase, "programme": programme}
        return Template("public/rounds.html", context=context)

    @get("/{slug:str}", name="round", cache=True, responses=page_error_responses(400, 404))
    async def round(
        self,
        slug: FromPath[str],
        pledges: NamedDependency[PledgeService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
    ) -> Template:
        """A round: target against pledged and received, its key, and who gave what."""
        summary, rows = await pledges.standing(slug)
        fund, today = summary.round, pledges.today()
        lines = {line["code"]: line for line in await programmes.budget_lines(fund.period_id)}
        context = {
            "summary": summary,
            "fund": fund,
            "rows": rows,
            "phase": phase(fund, today),
            "phases": RoundPhase,
            "accepts_pledges": fund.accepts_pledges(today),
            "key": fund.key.describe(i18n.current_locale()),
            "history": compact_history(summary.share_history),
            "lines": lines,
            "anonymous": ANONYMOUS,
            "programme": programme,
        }
        return Template("public/round.html", context=context)
