"""Demo data: a knowledge network with a EUR 200,000 year, clearly labelled as a demo.

Everything goes through the services, so the demo is what the app would hold after a year of
use: a registry of 58 organisations, every row marked `is_demo` (the contributors, and enough
other municipalities, provinces and water boards for real-looking fair-share tables); the demo
year's keep-it-all round, whose pledges were made, paid by bank transfer (one in part, two not
yet) or given in kind, and which was decided at its close; and next year's all-or-nothing
round, open today, with conditional, cancelled, in-kind, umbrella and anonymous pledges, short
of its target. The journal around them is a real hash-chained one: an opening balance, two
salaries, events, a printed magazine, a platform share and bank fees. Amounts and contacts are
made up.

The whole demo is one transaction: it loads completely or not at all, and quickly (no commit
per step). Its events run in date order with the pledge service's clock set to each one's day,
and none is dated after `today`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from funding.db import write_transaction
from funding.invoicing.service import InvoiceService, Seller
from funding.ledger.service import LedgerService, Leg
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.keys import CostSharingKey, KeyKind, Tier
from funding.pledges.service import Change, NewPledge, PledgeRecord, PledgeService
from funding.pledges.tables import ContributionForm, PaymentPreference, PledgeSource, RoundModel
from funding.programme.service import ProgrammeService, expense_account
from funding.settings import Settings

SLUG = "kennisnetwerk-demo"

ACCOUNTS = {
    "assets:bank": "Bankrekening",
    "assets:mollie": "Tegoed bij Mollie",
    "assets:receivable:pledges": "Toegezegde, nog te ontvangen bijdragen",
    "liabilities:payables": "Goedgekeurde, nog te betalen facturen",
    "liabilities:refunds": "Terug te betalen bijdragen",
    "liabilities:carry-over": "Overschot naar volgend jaar",
    "income:contributions": "Bijdragen in geld",
    "income:in-kind": "Bijdragen in natura",
    "expenses:payment-fees": "Bank- en betaalkosten",
    "equity:opening": "Beginbalans",
}

BUDGET_LINES = [
    # code, Dutch name, English name, euros
    ("salaries", "Salarissen (2 medewerkers)", "Salaries (2 staff)", 150_000),
    ("events", "Bijeenkomsten", "Events", 18_000),
    ("magazine", "Gedrukt magazine", "Printed magazine", 5_000),
    ("platform", "Bijdrage gedeeld platform", "Shared platform contribution", 15_000),
    ("communication", "Website en communicatie", "Website and communication", 7_000),
    ("travel", "Reiskosten en materiaal", "Travel and materials", 5_000),
]
NEXT_BUDGET = {"salaries": 155_000, "events": 19_000, "magazine": 5_500, "platform": 16_000, "communication": 9_000}
"""Next year's lines where they differ from this year's: EUR 210,000 in all."""


class DemoOrganisation(NamedTuple):
    kind: OrganisationKind
    name: str
    cbs_code: str | None = None
    population: int | None = None
    is_public: bool = True


def _gemeente(name: str, cbs_code: str, population: int) -> DemoOrganisation:
    return DemoOrganisation(OrganisationKind.gemeente, f"Gemeente {name}", cbs_code, population)


def _public(kind: OrganisationKind, name: str, population: int | None = None) -> DemoOrganisation:
    return DemoOrganisation(kind, name, None, population)


_P, _W, _M = OrganisationKind.provincie, OrganisationKind.waterschap, OrganisationKind.ministerie

ORGANISATIONS = [
    # Municipalities with their CBS codes and (rounded) CBS populations.
    _gemeente("Amsterdam", "GM0363", 931_298),
    _gemeente("Rotterdam", "GM0599", 670_610),
    _gemeente("'s-Gravenhage", "GM0518", 566_221),
    _gemeente("Utrecht", "GM0344", 374_238),
    _gemeente("Eindhoven", "GM0772", 246_417),
    _gemeente("Groningen", "GM0014", 243_768),
    _gemeente("Tilburg", "GM0855", 229_836),
    _gemeente("Almere", "GM0034", 226_500),
    _gemeente("Breda", "GM0758", 186_000),
    _gemeente("Nijmegen", "GM0268", 184_000),
    _gemeente("Apeldoorn", "GM0200", 168_000),
    _gemeente("Arnhem", "GM0202", 166_000),
    _gemeente("Haarlem", "GM0392", 164_000),
    _gemeente("Amersfoort", "GM0307", 161_000),
    _gemeente("Enschede", "GM0153", 160_900),
    _gemeente("'s-Hertogenbosch", "GM0796", 160_800),
    _gemeente("Zwolle", "GM0193", 132_000),
    _gemeente("Leiden", "GM0546", 128_000),
    _gemeente("Leeuwarden", "GM0080", 126_000),
    _gemeente("Maastricht", "GM0935", 122_000),
    _gemeente("Dordrecht", "GM0505", 121_000),
    _gemeente("Delft", "GM0503", 106_000),
    _gemeente("Lelystad", "GM0995", 82_000),
    _gemeente("Assen", "GM0106", 69_500),
    _gemeente("Middelburg", "GM0687", 49_500),
    _gemeente("Texel", "GM0448", 13_700),
    _gemeente("Baarle-Nassau", "GM0744", 7_100),
    _gemeente("Renswoude", "GM0339", 5_900),
    _gemeente("Terschelling", "GM0093", 4_900),
    _gemeente("Ameland", "GM0060", 3_800),
    _gemeente("Rozendaal", "GM0277", 1_700),
    _gemeente("Vlieland", "GM0096", 1_160),
    _gemeente("Schiermonnikoog", "GM0088", 950),
    # Provinces, water boards (inhabitants of their area), ministries.
    _public(_P, "Provincie Groningen", 596_000),
    _public(_P, "Provincie Fryslân", 659_000),
    _public(_P, "Provincie Drenthe", 500_000),
    _public(_P, "Provincie Overijssel", 1_184_000),
    _public(_P, "Provincie Flevoland", 448_000),
    _public(_P, "Provincie Gelderland", 2_140_000),
    _public(_P, "Provincie Utrecht", 1_398_000),
    _public(_P, "Provincie Noord-Holland", 2_990_000),
    _public(_P, "Provincie Zuid-Holland", 3_850_000),
    _public(_P, "Provincie Zeeland", 392_000),
    _public(_P, "Provincie Noord-Brabant", 2_640_000),
    _public(_P, "Provincie Limburg", 1_130_000),
    _public(_W, "Waterschap Rijn en IJssel", 820_000),
    _public(_W, "Hoogheemraadschap van Delfland", 1_400_000),
    _public(_W, "Waterschap Hunze en Aa's", 480_000),
    _public(_W, "Wetterskip Fryslân", 660_000),
    _public(_W, "Waterschap Aa en Maas", 800_000),
    _public(_W, "Hoogheemraadschap Hollands Noorderkwartier", 1_250_000),
    _public(_M, "Ministerie van Binnenlandse Zaken en Koninkrijksrelaties"),
    _public(_M, "Ministerie van Infrastructuur en Waterstaat"),
    _public(_M, "Ministerie van Economische Zaken"),
    _public(_M, "Ministerie van Justitie en Veiligheid"),
    # The umbrella body, and two contributors that are not to be named.
    _public(OrganisationKind.other_public, "Vereniging van Nederlandse Gemeenten"),
    DemoOrganisation(OrganisationKind.company, "Demo Adviesbureau B.V.", is_public=False),
    DemoOrganisation(OrganisationKind.individual, "Demo Particulier", is_public=False),
]
VNG, COMPANY, INDIVIDUAL = "Vereniging van Nederlandse Gemeenten", "Demo Adviesbureau B.V.", "Demo Particulier"


def _euros(amount: int) -> int:
    return amount * 100


TIERED = CostSharingKey(
    kind=KeyKind.tiered,
    amount_cents=_euros(1_000),
    tiers=(
        Tier(_euros(500), "gemeente"),
        Tier(_euros(1_500), "gemeente", 50_000),
        Tier(_euros(2_500), "gemeente", 100_000),
        Tier(_euros(5_000), "gemeente", 200_000),
        Tier(_euros(10_000), "gemeente", 500_000),
        Tier(_euros(5_000), "provincie"),
        Tier(_euros(7_500), "provincie", 1_000_000),
        Tier(_euros(10_000), "provincie", 2_500_000),
        Tier(_euros(1_000), "waterschap"),
        Tier(_euros(2_500), "waterschap", 1_000_000),
        Tier(_euros(10_000), "ministerie"),
        Tier(_euros(5_000), "other_public"),
    ),
)
"""The demo year's key: by kind and size class."""
PER_CAPITA = CostSharingKey(kind=KeyKind.per_capita, rate="0.01", floor_cents=_euros(500), cap_cents=_euros(12_500))
"""Next year's key: a cent per inhabitant, at least EUR 500, at most EUR 12,500."""


class Contribution(NamedTuple):
    name: str
    euros: int
    month: int = 0
    """The month of the demo year it was pledged (on the 5th); next year's are spread over the
    open round."""
    paid_in: int | None = None
    """The month it was paid by bank transfer (on the 15th), if it was."""
    paid_euros: int | None = None
    """If only part was paid, how much."""
    decision: str = ""
    """Recorded by staff after this council or board decision (`{year}`: the year it was taken)."""


# The demo year's keep-it-all round: pledged cash, paid or not.
CONTRIBUTIONS = [
    Contribution("Gemeente Amsterdam", 12_000, 1, 3, decision="Collegebesluit {year}/1187"),
    Contribution("Gemeente Rotterdam", 9_000, 1, 2),
    Contribution("Gemeente 's-Gravenhage", 7_500, 1, 4),
    Contribution("Gemeente Utrecht", 5_000, 2, 3),
    Contribution("Gemeente Eindhoven", 3_000, 2, 5),
    Contribution("Gemeente Groningen", 3_000, 2, 4),
    Contribution("Gemeente Leeuwarden", 1_500, 3, 4),
    Contribution("Gemeente Zwolle", 1_500, 3, 5),
    Contribution("Gemeente Arnhem", 1_500, 3, 6),
    Contribution("Gemeente Nijmegen", 2_000, 3, 5),
    Contribution("Gemeente Tilburg", 2_000, 4, 6),
    Contribution("Gemeente Maastricht", 1_500, 4, 7),
    Contribution("Gemeente Haarlem", 1_500, 4, 6),
    Contribution("Gemeente Enschede", 1_500, 4, 9),
    Contribution("Gemeente Middelburg", 1_000, 5, 6),
    Contribution("Gemeente Assen", 1_000, 5, 7),
    Contribution("Gemeente Lelystad", 1_000, 5),
    Contribution("Gemeente Vlieland", 1_000, 6, 7),
    Contribution("Provincie Noord-Holland", 10_000, 1, 2, decision="GS-besluit {year}/0934"),
    Contribution("Provincie Zuid-Holland", 10_000, 1, 3),
    Contribution("Provincie Utrecht", 7_500, 2, 3),
    Contribution("Provincie Gelderland", 7_500, 2, 4),
    Contribution("Provincie Fryslân", 5_000, 3, 5),
    Contribution("Provincie Limburg", 5_000, 4, 5, paid_euros=2_500),
    Contribution(
        "Ministerie van Binnenlandse Zaken en Koninkrijksrelaties", 25_000, 1, 2, decision="Subsidiebesluit {year}-0042"
    ),
    Contribution("Ministerie van Infrastructuur en Waterstaat", 15_000, 2, 4),
    Contribution("Ministerie van Economische Zaken", 10_000, 3, 6),
    Contribution("Waterschap Rijn en IJssel", 2_500, 2, 3),
    Contribution("Hoogheemraadschap van Delfland", 2_500, 3, 4),
    Contribution("Waterschap Hunze en Aa's", 1_000, 4, 5),
    Contribution("Wetterskip Fryslân", 1_000, 5, 8),
    Contribution(VNG, 5_000, 1, 3),
    Contribution("Gemeente Almere", 3_000, 2, 3),
    Contribution("Gemeente Breda", 2_500, 3, 4),
    Contribution("Gemeente Apeldoorn", 2_000, 3, 5),
    Contribution("Provincie Overijssel", 7_500, 2, 4),
    Contribution("Provincie Noord-Brabant", 10_000, 2, 3),
    Contribution(INDIVIDUAL, 250, 5, 5),
    Contribution("Ministerie van Justitie en Veiligheid", 10_000, 9),
]


class InKind(NamedTuple):
    name: str
    what: str
    line: str
    euros: int
    """The value of goods; for hours, the hourly rate."""
    hours: int | None = None
    month: int = 0
    """The month it was pledged (on the 20th); next year's are spread over the open round."""


# In kind to the demo year's round.
IN_KIND = [
    InKind("Gemeente Delft", "zaal en catering voorjaarsbijeenkomst", "events", 1_800, month=4),
    InKind("Provincie Drenthe", "eindredactie magazine", "magazine", 80, hours=40, month=9),
    InKind("Waterschap Aa en Maas", "drukwerk programmaboekje", "events", 650, month=9),
]

# Next year's all-or-nothing round, open today: cash pledges, all conditional.
NEXT_PLEDGES = [
    Contribution("Gemeente Amsterdam", 9_500, decision="Collegebesluit {year}/0412"),
    Contribution("Provincie Noord-Holland", 10_000, decision="GS-besluit {year}/0118"),
    Contribution("Gemeente Rotterdam", 6_500),
    Contribution(
        "Ministerie van Binnenlandse Zaken en Koninkrijksrelaties", 25_000, decision="Subsidiebesluit {year}-0007"
    ),
    Contribution("Gemeente 's-Gravenhage", 5_500),
    Contribution("Gemeente Utrecht", 3_500),
    Contribution("Provincie Zuid-Holland", 10_000),
    Contribution("Gemeente Eindhoven", 2_500),
    Contribution("Gemeente Arnhem", 2_000),
    Contribution("Gemeente Groningen", 2_500),
    Contribution("Provincie Utrecht", 7_500),
    Contribution("Gemeente Tilburg", 2_000),
    Contribution("Waterschap Hunze en Aa's", 1_000),
    Contribution("Gemeente Nijmegen", 2_000),
    Contribution("Ministerie van Infrastructuur en Waterstaat", 12_500),
    Contribution("Gemeente Haarlem", 1_500),
    Contribution(COMPANY, 1_000),
    Contribution("Provincie Gelderland", 7_500),
    Contribution("Gemeente Zwolle", 1_500),
    Contribution("Waterschap Rijn en IJssel", 2_500),
    Contribution("Gemeente Leeuwarden", 1_250),
    Contribution("Provincie Fryslân", 5_000),
    Contribution("Gemeente Amersfoort", 1_500),
    Contribution("Hoogheemraadschap van Delfland", 2_500),
    Contribution(INDIVIDUAL, 150),
    Contribution("Gemeente Leiden", 1_250),
    Contribution("Gemeente Middelburg", 500),
]
NEXT_IN_KIND = [
    InKind("Provincie Drenthe", "eindredactie magazine", "magazine", 85, hours=60),
    InKind("Gemeente 's-Hertogenbosch", "zaal en catering najaarsbijeenkomst", "events", 2_400),
    InKind("Hoogheemraadschap Hollands Noorderkwartier", "drukwerk programmaboekje", "events", 750),
    InKind("Gemeente Delft", "toegankelijkheidstoets website", "communication", 95, hours=24),
]
UMBRELLA = (
    VNG,
    3_000,
    (
        "Gemeente Schiermonnikoog",
        "Gemeente Ameland",
        "Gemeente Terschelling",
        "Gemeente Vlieland",
        "Gemeente Rozendaal",
        "Gemeente Renswoude",
    ),
)
"""The VNG pledges on behalf of six small municipalities."""
ANONYMOUS = {COMPANY}
"""Pledged without consent to publish the name (the individual is anonymous anyway)."""
CANCELLED = {
    "Gemeente Arnhem": "De gemeenteraad heeft het budget voor volgend jaar nog niet vrijgegeven.",
    "Waterschap Hunze en Aa's": "Per abuis aangemeld: het bestuur besluit pas in het voorjaar.",
}
CHANGED = {"Gemeente Utrecht": 4_000}
"""Pledges whose amount was raised a few days after pledging."""

# Spending approved then paid: (payee, description, budget line, euros, month approved).
INVOICES = [
    ("Gedeeld Platform Coöperatie", "jaarbijdrage platform", "platform", 15_000, 3),
    ("Zalencentrum De Observant", "voorjaarsbijeenkomst", "events", 6_450, 4),
    ("Zalencentrum De Observant", "najaarsbijeenkomst", "events", 7_120, 10),
    ("Drukkerij Van der Veen", "druk en verzending magazine (oplage 2.500)", "magazine", 4_650, 10),
    ("Webbureau Open", "onderhoud website", "communication", 2_900, 5),
    ("Webbureau Open", "toegankelijkheidsonderzoek website", "communication", 1_950, 9),
    ("NS Zakelijk", "reiskosten medewerkers", "travel", 1_240, 6),
]

MONTHLY_SALARY = 6_250  # two salaries, employer costs included, per person per month
MONTHLY_BANK_FEE = Money.euros("12.50")
TOP_UP = CostSharingKey(kind=KeyKind.flat, amount_cents=_euros(500))
TOP_UP_OPEN_FOR = timedelta(days=10)
"""The top-up round opened this long before `today`."""
TOP_UPS = [
    Contribution("Gemeente Amsterdam", 500, paid_in=0),
    Contribution("Provincie Utrecht", 500),
]
"""Who already joined the top-up (paid_in set: paid by transfer the next day)."""
OPEN_FOR = timedelta(days=24)
"""Next year's round opened this long before `today`…"""
OPEN_STILL = timedelta(days=45)
"""…and closes this long after it."""


def demo_year(today: date) -> int:
    """The year the demo describes: this year from June on, else the last, so it is never thin."""
    return today.year if today.month >= 6 else today.year - 1


def round_slug(year: int) -> str:
    return f"bijdragen-{year}"


def top_up_slug(year: int) -> str:
    return f"platform-{year}"


def closes_on(year: int, today: date) -> date:
    """The demo year's round closed on 30 September, or yesterday if that is still to come."""
    return min(date(year, 9, 30), today - timedelta(days=1))


async def load_demo(today: date | None = None) -> bool:
    """Load the demo into an empty database; False (and nothing written) if it is there already."""
    today = today or date.today()
    async with write_transaction():
        programmes = ProgrammeService()
        if await programmes.first_programme() is not None:
            return False
        await _Demo(programmes, today).load()
    return True


Step = Callable[[], Awaitable[Any]]


class _Booker:
    """Collects the demo's events (pledges, payments, journal entries, decisions), then runs
    them in date order, each with the clock at its day, skipping the future."""

    def __init__(self, ledger: LedgerService, today: date) -> None:
        self.ledger, self.today = ledger, today
        self.pending: list[tuple[date, int, Step]] = []
        self.now = datetime.now(UTC)

    def clock(self) -> datetime:
        """The pledge service's clock: the running event's day (on the real today, never later
        than the real now)."""
        return self.now

    def at(self, day: date, step: Step) -> None:
        if day <= self.today:
            self.pending.append((day, len(self.pending), step))

    def entry(self, day: date, kind: str, description: str, legs: list[Leg]) -> None:
        self.at(
            day,
            functools.partial(self.ledger.append, kind=kind, description=description, occurred_on=day, legs=legs),
        )

    async def run(self) -> None:
        real_now = datetime.now(UTC)
        for day, order, step in sorted(self.pending, key=lambda event: event[:2]):
            moment = datetime(day.year, day.month, day.day, 9, tzinfo=UTC) + timedelta(seconds=order)
            self.now = min(moment, real_now) if day == real_now.date() else moment
            await step()
        self.pending = []


class _Demo:
    def __init__(self, programmes: ProgrammeService, today: date) -> None:
        self.programmes, self.ledger, self.today = programmes, programmes.ledger, today
        self.year = demo_year(today)
        self.book = _Booker(self.ledger, today)
        self.registry = OrganisationService()
        self.pledges = PledgeService(self.ledger, self.registry, programmes, clock=self.book.clock)
        self.ids: dict[str, int] = {}
        """Organisation name -> registry id."""
        self.made: dict[tuple[str, str], PledgeRecord] = {}
        """(round slug, organisation name) -> the pledge as made."""

    def on(self, month: int, day: int) -> date:
        return date(self.year, month, day)

    async def load(self) -> None:
        for name, label in ACCOUNTS.items():
            await self.ledger.open_account(name, label)
        for number, organisation in enumerate(ORGANISATIONS, start=1):
            self.ids[organisation.name] = await self.registry.add(
                kind=organisation.kind,
                name=organisation.name,
                is_demo=True,
                cbs_code=organisation.cbs_code,
                population=organisation.population,
                is_public=organisation.is_public,
                billing_email=f"demo+facturen-{_handle(organisation)}@example.org",
                **_made_up_address(number, organisation),
            )
        programme = await self.programmes.create_programme(
            slug=SLUG,
            name="Kennisnetwerk Digitale Overheid (demo)",
            description=(
                "Een voorbeeldprogramma met verzonnen bedragen: een kennisnetwerk dat door gemeenten, "
                "provincies, ministeries en waterschappen samen wordt betaald."
            ),
            is_demo=True,
        )
        this_period = await self._period(programme, self.year, {})
        next_period = await self._period(programme, self.year + 1, NEXT_BUDGET)
        self._this_year(this_period)
        self._top_up(this_period)
        self._next_year(next_period)
        self._journal()
        await self.book.run()

    async def _period(self, programme: int, year: int, changed: dict[str, int]) -> int:
        period = await self.programmes.add_period(
            programme, name=str(year), starts_on=date(year, 1, 1), ends_on=date(year, 12, 31)
        )
        for position, (code, name, name_en, euros) in enumerate(BUDGET_LINES):
            amount = Money.euros(changed.get(code, euros))
            await self.programmes.add_budget_line(
                period, code=code, name=name, name_en=name_en, amount=amount, position=position
            )
        return period

    # -- the demo year: a keep-it-all round, decided ------------------------------------------
    def _this_year(self, period: int) -> None:
        slug, closing = round_slug(self.year), closes_on(self.year, self.today)
        self.book.at(
            date(self.year - 1, 12, 1),
            functools.partial(
                self.pledges.create_round,
                slug=slug,
                period_id=period,
                name=f"Bijdragen {self.year}",
                name_en=f"Contributions {self.year}",
                description="Wat elke deelnemer bijdraagt aan het programmajaar: naar soort en omvang.",
                target=Money.euros(200_000),
                opens_on=date(self.year, 1, 1),
                closes_on=closing,
                model=RoundModel.keep_it_all,
                key=TIERED,
            ),
        )
        for number, contribution in enumerate(CONTRIBUTIONS):
            pledged_on = self.on(contribution.month, 5)
            if pledged_on > closing:
                continue
            self._pledge(pledged_on, slug, contribution.name, self._cash(number, contribution))
            if contribution.paid_in:
                paid = Money.euros(contribution.paid_euros or contribution.euros)
                self.book.at(
                    self.on(contribution.paid_in, 15), functools.partial(self._pay, slug, contribution.name, paid)
                )
        for number, gift in enumerate(IN_KIND):
            if (pledged_on := self.on(gift.month, 20)) <= closing:
                self._pledge(pledged_on, slug, gift.name, self._in_kind(number, gift))
        self.book.at(
            closing + timedelta(days=1),
            functools.partial(self.pledges.close_round, slug, reason="sluitingsdatum verstreken"),
        )

    # -- a keep-it-all top-up, open today: a visitor's pledge is due at once, so payable online --
    def _top_up(self, period: int) -> None:
        slug, opens = top_up_slug(self.year), self.today - TOP_UP_OPEN_FOR
        # From here on, a pledge that becomes due with "invoice" chosen is invoiced (PDF and
        # UBL, stored in the database; the demo mails nothing). Earlier ones are not: rendering
        # every one would slow the demo's loading down for pages that look the same.
        self.book.at(opens, self._start_invoicing)
        self.book.at(
            opens,
            functools.partial(
                self.pledges.create_round,
                slug=slug,
                period_id=period,
                name=f"Aanvulling gedeeld platform {self.year}",
                name_en=f"Shared platform top-up {self.year}",
                description=(
                    "Het gedeelde platform kost dit jaar meer dan begroot. Wie meedoet, geeft een vaste bijdrage; "
                    "elke toezegging geldt meteen en kan direct online worden betaald."
                ),
                target=Money.euros(10_000),
                opens_on=opens,
                closes_on=self.today + OPEN_STILL,
                model=RoundModel.keep_it_all,
                key=TOP_UP,
            ),
        )
        for number, contribution in enumerate(TOP_UPS):
            day = opens + timedelta(days=1 + number)
            self._pledge(day, slug, contribution.name, self._cash(number, contribution))
            if contribution.paid_in is not None:
                self.book.at(
                    day + timedelta(days=1),
                    functools.partial(self._pay, slug, contribution.name, Money.euros(contribution.euros)),
                )

    # -- next year: an all-or-nothing round, open today ---------------------------------------
    def _next_year(self, period: int) -> None:
        year, slug = self.year + 1, round_slug(self.year + 1)
        opens, closes = self.today - OPEN_FOR, self.today + OPEN_STILL
        self.book.at(
            opens - timedelta(days=14),
            functools.partial(
                self.pledges.create_round,
                slug=slug,
                period_id=period,
                name=f"Bijdragen {year}",
                name_en=f"Contributions {year}",
                description=(
                    "Alles of niets: de toezeggingen gaan pas gelden als het doel bij de sluiting is gehaald. "
                    "Een cent per inwoner, met een minimum en een maximum."
                ),
                target=Money.euros(210_000),
                opens_on=opens,
                closes_on=closes,
                model=RoundModel.all_or_nothing,
                key=PER_CAPITA,
            ),
        )
        pledges: list[tuple[str, NewPledge]] = [
            (contribution.name, self._cash(number, contribution, publish_name=contribution.name not in ANONYMOUS))
            for number, contribution in enumerate(NEXT_PLEDGES)
        ]
        for number, gift in enumerate(NEXT_IN_KIND):  # interleaved with the cash pledges
            pledges.insert(4 + 7 * number, (gift.name, self._in_kind(number, gift)))
        vng, euros, members = UMBRELLA
        umbrella = replace(self._cash(2, Contribution(vng, euros)), members=tuple(self.ids[m] for m in members))
        pledges.insert(5, (vng, umbrella))
        span = (self.today - opens).days
        for number, (name, new) in enumerate(pledges):
            day = opens + timedelta(days=number * span // len(pledges))
            self._pledge(day, slug, name, new)
            if name in CHANGED:
                later = min(day + timedelta(days=3), self.today)
                self.book.at(later, functools.partial(self._change, slug, name, Money.euros(CHANGED[name])))
            if name in CANCELLED:
                later = min(day + timedelta(days=6), self.today)
                self.book.at(later, functools.partial(self._cancel, slug, name, CANCELLED[name]))

    # -- the journal's other entries ----------------------------------------------------------
    def _journal(self) -> None:
        book, year = self.book, self.year
        book.entry(
            self.on(1, 1),
            "opening",
            "Beginbalans: overschot vorig jaar",
            [Leg("assets:bank", Money.euros(14_250)), Leg("equity:opening", Money.euros(-14_250))],
        )
        for month in range(1, 13):
            salary = Money.euros(MONTHLY_SALARY * 2)
            book.entry(
                self.on(month, 25),
                "expense",
                f"Salarissen {month:02d}-{year} (2 medewerkers)",
                [Leg(expense_account("salaries"), salary), Leg("assets:bank", -salary)],
            )
            book.entry(
                self.on(month, 28),
                "fee",
                f"Bankkosten {month:02d}-{year}",
                [Leg("expenses:payment-fees", MONTHLY_BANK_FEE), Leg("assets:bank", -MONTHLY_BANK_FEE)],
            )
        for payee, what, line, euros, month in INVOICES:
            amount = Money.euros(euros)
            book.entry(
                self.on(month, 10),
                "expense_approved",
                f"{payee}: {what}",
                [Leg(expense_account(line), amount), Leg("liabilities:payables", -amount)],
            )
            book.entry(
                self.on(month, 24),
                "expense_paid",
                f"Betaald aan {payee}: {what}",
                [Leg("liabilities:payables", amount), Leg("assets:bank", -amount)],
            )

    # -- what a pledger says, varied the way real pledgers vary -------------------------------
    def _cash(self, number: int, contribution: Contribution, *, publish_name: bool = True) -> NewPledge:
        organisation = self._organisation(contribution.name)
        online = organisation.kind in (OrganisationKind.company, OrganisationKind.individual) or number % 5 == 3
        return NewPledge(
            organisation_id=self.ids[contribution.name],
            contact_name="Demo Contactpersoon",
            contact_email=f"demo+{_handle(organisation)}@example.org",
            amount=Money.euros(contribution.euros),
            payment_preference=PaymentPreference.online if online else PaymentPreference.invoice,
            buyer_reference="" if online else _buyer_reference(number, self.year),
            publish_name=publish_name,
            locale="en" if number % 9 == 4 else "nl",
            source=PledgeSource.staff if contribution.decision else PledgeSource.form,
            decision_reference=contribution.decision,
        )

    def _in_kind(self, number: int, gift: InKind) -> NewPledge:
        organisation = self._organisation(gift.name)
        return NewPledge(
            organisation_id=self.ids[gift.name],
            contact_name="Demo Contactpersoon",
            contact_email=f"demo+{_handle(organisation)}@example.org",
            form=ContributionForm.hours if gift.hours else ContributionForm.goods,
            amount=None if gift.hours else Money.euros(gift.euros),
            hours=gift.hours,
            hourly_rate=Money.euros(gift.euros) if gift.hours else None,
            in_kind_description=f"{gift.hours} uur {gift.what}" if gift.hours else gift.what,
            budget_line=gift.line,
            buyer_reference=_buyer_reference(number + 1, self.year),
        )

    def _organisation(self, name: str) -> DemoOrganisation:
        return next(organisation for organisation in ORGANISATIONS if organisation.name == name)

    def _pledge(self, day: date, slug: str, name: str, new: NewPledge) -> None:
        if new.decision_reference:  # the council or board decided some days before
            decided = day - timedelta(days=12)
            new = replace(
                new, decision_reference=new.decision_reference.format(year=decided.year), decision_date=decided
            )
        self.book.at(day, functools.partial(self._make_pledge, slug, name, new))

    async def _start_invoicing(self) -> None:
        InvoiceService(self.pledges, Seller.from_settings(Settings()), clock=self.book.clock)

    async def _make_pledge(self, slug: str, name: str, new: NewPledge) -> None:
        self.made[slug, name] = await self.pledges.pledge(slug, new)

    async def _pay(self, slug: str, name: str, amount: Money) -> None:
        pledge = self.made[slug, name]
        await self.pledges.receive(
            pledge.id,
            amount,
            occurred_on=self.pledges.today(),
            kind="bank_transfer",
            account="assets:bank",
            reference=pledge.reference,
            idempotency_key=f"demo:bank-transfer:{pledge.id}:{self.pledges.today().isoformat()}",
        )

    async def _change(self, slug: str, name: str, amount: Money) -> None:
        await self.pledges.change(self.made[slug, name].token, Change(amount=amount), note="bedrag verhoogd")

    async def _cancel(self, slug: str, name: str, reason: str) -> None:
        await self.pledges.cancel(self.made[slug, name].token, reason=reason)


def _handle(organisation: DemoOrganisation) -> str:
    """The made-up mail address's tag: the CBS code, else the name in lower case and hyphens."""
    if organisation.cbs_code:
        return organisation.cbs_code.lower()
    ascii_name = unicodedata.normalize("NFKD", organisation.name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def _made_up_address(number: int, organisation: DemoOrganisation) -> dict[str, str]:
    """Where invoices go: a made-up street and postcode, and a made-up OIN for a public body (KvK
    number for a company), so the demo's e-invoices have the parties a buyer's access point needs."""
    gemeente = organisation.kind is OrganisationKind.gemeente
    identifier: dict[str, str] = {}
    if organisation.kind is OrganisationKind.company:
        identifier["kvk"] = f"{90_000_000 + number}"
    elif organisation.kind is not OrganisationKind.individual:
        identifier["oin"] = f"{99_000_000_000_000_000_000 + number:020d}"[-20:]
    return {
        "address": f"Voorbeeldstraat {number}",
        "postcode": f"{1000 + number * 37 % 8999:04d} DM",
        "city": organisation.name.removeprefix("Gemeente ") if gemeente else "Den Haag",
        **identifier,
    }


def _buyer_reference(number: int, year: int) -> str:
    """Some public bodies need a purchase-order number on the invoice, in their own format."""
    return ("", f"PO-{year}-{4100 + number * 7:05d}", "", f"INK{year % 100}{number:04d}")[number % 4]
