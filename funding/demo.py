"""Demo data: a knowledge network with a EUR 200,000 year, clearly labelled as a demo.

Everything goes through the services, so the demo ledger is a real hash-chained journal: an
opening balance, contributions that became due and were paid, two salaries, events, a printed
magazine, a platform share, hours given in kind and bank fees. Amounts are made up.
"""

from __future__ import annotations

from datetime import date

from funding.ledger.service import LedgerService, Leg
from funding.money import Money
from funding.programme.service import ProgrammeService, expense_account, in_kind_account

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

# Contributors: (name, euros, month the contribution became due, month it was paid or None).
CONTRIBUTORS = [
    ("Gemeente Amsterdam (GM0363)", 12_000, 1, 3),
    ("Gemeente Rotterdam (GM0599)", 9_000, 1, 2),
    ("Gemeente 's-Gravenhage (GM0518)", 7_500, 1, 4),
    ("Gemeente Utrecht (GM0344)", 5_000, 2, 3),
    ("Gemeente Eindhoven (GM0772)", 3_000, 2, 5),
    ("Gemeente Groningen (GM0014)", 3_000, 2, 4),
    ("Gemeente Leeuwarden (GM0080)", 1_500, 3, 4),
    ("Gemeente Zwolle (GM0193)", 1_500, 3, 5),
    ("Gemeente Arnhem (GM0202)", 1_500, 3, 6),
    ("Gemeente Nijmegen (GM0268)", 2_000, 3, 5),
    ("Gemeente Tilburg (GM0855)", 2_000, 4, 6),
    ("Gemeente Maastricht (GM0935)", 1_500, 4, 7),
    ("Gemeente Haarlem (GM0392)", 1_500, 4, 6),
    ("Gemeente Enschede (GM0153)", 1_500, 4, 9),
    ("Gemeente Middelburg (GM0687)", 1_000, 5, 6),
    ("Gemeente Assen (GM0106)", 1_000, 5, 7),
    ("Gemeente Lelystad (GM0995)", 1_000, 5, None),
    ("Gemeente Vlieland (GM0096)", 1_000, 6, 7),
    ("Provincie Noord-Holland", 10_000, 1, 2),
    ("Provincie Zuid-Holland", 10_000, 1, 3),
    ("Provincie Utrecht", 7_500, 2, 3),
    ("Provincie Gelderland", 7_500, 2, 4),
    ("Provincie Fryslân", 5_000, 3, 5),
    ("Provincie Limburg", 5_000, 4, None),
    ("Ministerie van Binnenlandse Zaken en Koninkrijksrelaties", 25_000, 1, 2),
    ("Ministerie van Infrastructuur en Waterstaat", 15_000, 2, 4),
    ("Ministerie van Economische Zaken", 10_000, 3, 6),
    ("Waterschap Rijn en IJssel", 2_500, 2, 3),
    ("Hoogheemraadschap van Delfland", 2_500, 3, 4),
    ("Waterschap Hunze en Aa's", 1_000, 4, 5),
    ("Wetterskip Fryslân", 1_000, 5, 8),
    ("Vereniging van Nederlandse Gemeenten", 5_000, 1, 3),
    ("Gemeente Almere (GM0034)", 3_000, 2, 3),
    ("Gemeente Breda (GM0758)", 2_500, 3, 4),
    ("Gemeente Apeldoorn (GM0200)", 2_000, 3, 5),
    ("Provincie Overijssel", 7_500, 2, 4),
    ("Provincie Noord-Brabant", 10_000, 2, 3),
    ("Ministerie van Justitie en Veiligheid", 10_000, 9, None),
]

# In kind: (contributor, what, budget line, euros, month).
IN_KIND = [
    ("Provincie Utrecht", "40 uur eindredactie magazine", "magazine", 3_200, 9),
    ("Gemeente Utrecht", "zaal en catering voorjaarsbijeenkomst", "events", 1_800, 4),
    ("Waterschap Rijn en IJssel", "drukwerk programmaboekje", "events", 650, 10),
]

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


def demo_year(today: date) -> int:
    """The year the demo describes: this year from June on, else the last, so it is never thin."""
    return today.year if today.month >= 6 else today.year - 1


async def load_demo(today: date | None = None) -> bool:
    """Load the demo into an empty database; False (and nothing written) if it is there already."""
    today = today or date.today()
    programmes = ProgrammeService()
    if await programmes.first_programme() is not None:
        return False
    ledger = programmes.ledger
    year = demo_year(today)
    for name, label in ACCOUNTS.items():
        await ledger.open_account(name, label)

    programme = await programmes.create_programme(
        slug=SLUG,
        name="Kennisnetwerk Digitale Overheid (demo)",
        description=(
            "Een voorbeeldprogramma met verzonnen bedragen: een kennisnetwerk dat door gemeenten, "
            "provincies, ministeries en waterschappen samen wordt betaald."
        ),
        is_demo=True,
    )
    period = await programmes.add_period(
        programme, name=str(year), starts_on=date(year, 1, 1), ends_on=date(year, 12, 31)
    )
    for position, (code, name, name_en, euros) in enumerate(BUDGET_LINES):
        await programmes.add_budget_line(
            period, code=code, name=name, name_en=name_en, amount=Money.euros(euros), position=position
        )

    book = _Booker(ledger, year, today)
    book(
        1,
        1,
        "opening",
        "Beginbalans: overschot vorig jaar",
        [Leg("assets:bank", Money.euros(14_250)), Leg("equity:opening", Money.euros(-14_250))],
    )
    for name, euros, due_month, paid_month in CONTRIBUTORS:
        amount = Money.euros(euros)
        book(
            due_month,
            5,
            "pledge_due",
            f"Bijdrage {year} toegezegd: {name}",
            [Leg("assets:receivable:pledges", amount), Leg("income:contributions", -amount)],
        )
        if paid_month:
            book(
                paid_month,
                15,
                "bank_transfer",
                f"Bijdrage {year} ontvangen: {name}",
                [Leg("assets:bank", amount), Leg("assets:receivable:pledges", -amount)],
            )
    for month in range(1, 13):
        salary = Money.euros(MONTHLY_SALARY * 2)
        book(
            month,
            25,
            "expense",
            f"Salarissen {month:02d}-{year} (2 medewerkers)",
            [Leg(expense_account("salaries"), salary), Leg("assets:bank", -salary)],
        )
        book(
            month,
            28,
            "fee",
            f"Bankkosten {month:02d}-{year}",
            [Leg("expenses:payment-fees", MONTHLY_BANK_FEE), Leg("assets:bank", -MONTHLY_BANK_FEE)],
        )
    for payee, what, line, euros, month in INVOICES:
        amount = Money.euros(euros)
        book(
            month,
            10,
            "expense_approved",
            f"{payee}: {what}",
            [Leg(expense_account(line), amount), Leg("liabilities:payables", -amount)],
        )
        book(
            month,
            24,
            "expense_paid",
            f"Betaald aan {payee}: {what}",
            [Leg("liabilities:payables", amount), Leg("assets:bank", -amount)],
        )
    for contributor, what, line, euros, month in IN_KIND:
        amount = Money.euros(euros)
        book(
            month,
            20,
            "in_kind",
            f"In natura van {contributor}: {what}",
            [Leg(in_kind_account(line), amount), Leg("income:in-kind", -amount)],
        )
    await book.flush()
    return True


class _Booker:
    """Collects the demo's entries, then appends them in date order (skipping the future)."""

    def __init__(self, ledger: LedgerService, year: int, today: date) -> None:
        self.ledger, self.year, self.today = ledger, year, today
        self.pending: list[tuple[date, int, str, str, list[Leg]]] = []

    def __call__(self, month: int, day: int, kind: str, description: str, legs: list[Leg]) -> None:
        occurred_on = date(self.year, month, day)
        if occurred_on <= self.today:
            self.pending.append((occurred_on, len(self.pending), kind, description, legs))

    async def flush(self) -> None:
        for occurred_on, _, kind, description, legs in sorted(self.pending, key=lambda e: e[:2]):
            await self.ledger.append(kind=kind, description=description, occurred_on=occurred_on, legs=legs)
        self.pending = []
