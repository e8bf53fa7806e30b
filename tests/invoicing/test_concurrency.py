"""Invoices issued at the same moment, on PostgreSQL (where they really run in parallel)."""

from __future__ import annotations

import asyncio

import pytest

from funding.invoicing import service as invoicing
from funding.invoicing.service import InvoiceService, Seller
from funding.invoicing.tables import Invoice
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import PledgeService
from funding.pledges.tables import PaymentPreference
from funding.settings import Settings
from tests.pledges.conftest import cash, make_round

pytestmark = pytest.mark.postgres_only

AT_ONCE = 20
FAILING = 4


async def test_simultaneous_issues_take_consecutive_numbers_and_failures_leave_no_gap(
    ledger, year, pool, clock, monkeypatch, every_issued_document_validates
):
    pledges = PledgeService(ledger, clock=clock)
    await make_round(pledges, year)
    registry = OrganisationService()
    made = []
    for n in range(AT_ONCE + FAILING):
        name = f"Gemeente {'Faalt' if n % 6 == 5 else 'Goed'} {n:02d}"
        organisation = await registry.add(
            kind=OrganisationKind.gemeente,
            name=name,
            oin=f"{n + 1:020d}",
            address=f"Markt {n + 1}",
            postcode="1234 AB",
            city="Ergens",
        )
        made.append(await pledges.pledge("2026", cash(organisation, payment_preference=PaymentPreference.online)))
    assert sum("Faalt" in p.organisation_name for p in made) == FAILING

    real = invoicing.render_ubl

    def render_or_fail(document):
        if "Faalt" in document.buyer.name:
            raise RuntimeError("fails halfway: after its number was taken")
        return real(document)

    monkeypatch.setattr(invoicing, "render_ubl", render_or_fail)

    async def issue(pledge_id: int):
        service = InvoiceService(PledgeService(ledger, clock=clock), Seller.from_settings(Settings()), clock=clock)
        return await service.issue(pledge_id)

    outcomes = await asyncio.gather(*[issue(p.id) for p in made], return_exceptions=True)
    failed = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(failed) == FAILING and all(isinstance(f, RuntimeError) for f in failed), failed
    numbers = sorted(o.number for o in outcomes if not isinstance(o, BaseException))
    assert numbers == [f"2026-{n:04d}" for n in range(1, AT_ONCE + 1)], "consecutive, no gap, no duplicate"
    assert await Invoice.count() == AT_ONCE
    entries = [e for e in await ledger.entries_after(0, limit=500) if e.kind == "invoice"]
    assert sorted(e.reference for e in entries) == numbers, "each booked once, under its number"
    assert (await ledger.verify()).ok
