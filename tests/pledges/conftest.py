"""A programme year with budget lines, a few organisations, and a pledge service whose clock the
test sets (rounds open and close by date)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from funding.ledger.service import LedgerService
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.keys import CostSharingKey, KeyKind
from funding.pledges.service import NewPledge, PledgeService
from funding.pledges.tables import RoundModel
from tests.factories import programme_year


class Clock:
    def __init__(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, day: date) -> None:
        self.now = datetime(day.year, day.month, day.day, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(date(2026, 3, 1))


@pytest.fixture
async def year(ledger: LedgerService) -> int:
    """The 2026 budget period of a programme, with the chart of accounts open."""
    return await programme_year(ledger, 2026)


@pytest.fixture
async def orgs(database: str) -> dict[str, int]:
    """Organisations by short name."""
    registry = OrganisationService()
    made = {}
    for short, kind, name, population, code in [
        ("amsterdam", OrganisationKind.gemeente, "Gemeente Amsterdam", 872_757, "GM0363"),
        ("utrecht", OrganisationKind.gemeente, "Gemeente Utrecht", 361_924, "GM0344"),
        ("vlieland", OrganisationKind.gemeente, "Gemeente Vlieland", 1_132, "GM0096"),
        ("utrecht_p", OrganisationKind.provincie, "Provincie Utrecht", 1_387_643, None),
        ("vng", OrganisationKind.other_public, "Vereniging van Nederlandse Gemeenten", None, None),
        ("bzk", OrganisationKind.ministerie, "Ministerie van BZK", None, None),
        ("jan", OrganisationKind.individual, "Jan Jansen", None, None),
        ("bakker", OrganisationKind.company, "Bakkerij De Korenaar BV", None, None),
    ]:
        made[short] = await registry.add(kind=kind, name=name, population=population, cbs_code=code)
    return made


@pytest.fixture
def pledges(ledger: LedgerService, clock: Clock) -> PledgeService:
    return PledgeService(ledger, clock=clock)


FLAT = CostSharingKey(kind=KeyKind.flat, amount_cents=100_000)
EQUAL = CostSharingKey(kind=KeyKind.equal_split)


async def make_round(
    pledges: PledgeService,
    period: int,
    slug: str = "2026",
    *,
    model: RoundModel = RoundModel.keep_it_all,
    key: CostSharingKey = FLAT,
    target: int = 10_000,
    opens_on: date = date(2026, 1, 1),
    closes_on: date = date(2026, 6, 30),
):
    return await pledges.create_round(
        slug=slug,
        period_id=period,
        name=f"Bijdragen {slug}",
        name_en=f"Contributions {slug}",
        target=Money.euros(target),
        opens_on=opens_on,
        closes_on=closes_on,
        model=model,
        key=key,
    )


def cash(organisation: int, euros: int | str = 1000, **kwargs) -> NewPledge:
    return NewPledge(
        organisation_id=organisation,
        contact_name=kwargs.pop("contact_name", "Els de Vries"),
        contact_email=kwargs.pop("contact_email", "els@example.nl"),
        amount=Money.euros(euros),
        **kwargs,
    )
