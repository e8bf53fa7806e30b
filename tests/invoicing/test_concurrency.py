"""Invoices issued at the same moment, on PostgreSQL (where they really run in parallel)."""

from __future__ import annotations

import asyncio

import pytest

from funding.invoicing import service as invoicing
from funding.invoicing.service import InvoiceService, Seller
from funding.invoicing.tables import Invoice
from funding.money import Money
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


async def test_refunds_credited_while_invoices_are_issued_take_their_locks_in_one_order(ledger, year, pool, clock):
    """A refund's credit note and an invoice take the round's lock, the numbering lock and the
    ledger's append lock in the same order, so they queue and never deadlock."""
    pledges = PledgeService(ledger, clock=clock)
    InvoiceService(pledges, Seller.from_settings(Settings()), clock=clock)
    await make_round(pledges, year, "terug")
    await make_round(pledges, year, "nieuw")
    registry = OrganisationService()
    paid, unbilled = [], []
    for n in range(8):
        organisation = await registry.add(
            kind=OrganisationKind.gemeente,
            name=f"Gemeente {n:02d}",
            oin=f"{n + 101:020d}",
            address="Markt 1",
            postcode="1234 AB",
            city="Ergens",
        )
        if n % 2:
            pledge = await pledges.pledge("terug", cash(organisation, 1000))  # invoiced as it is made
            await pledges.receive(
                pledge.id,
                Money.euros(1000),
                occurred_on=clock().date(),
                kind="bank_transfer",
                account="assets:bank",
                reference=None,
                idempotency_key=f"bank:{pledge.id}",
            )
            paid.append(pledge)
        else:
            unbilled.append(
                await pledges.pledge("nieuw", cash(organisation, 500, payment_preference=PaymentPreference.online))
            )

    def service() -> InvoiceService:
        return InvoiceService(PledgeService(ledger, clock=clock), Seller.from_settings(Settings()), clock=clock)

    async def refund(pledge):
        return await service().pledges.repay(
            pledge.id,
            Money.euros(400),
            held=Money.zero(),
            occurred_on=clock().date(),
            kind="refund",
            account="assets:bank",
            reference=None,
            idempotency_key=f"refund:{pledge.id}",
            what="Terugbetaald",
            corrects=True,
        )

    work = [refund(p) for p in paid] + [service().issue(p.id) for p in unbilled]
    outcomes = await asyncio.gather(*work, return_exceptions=True)
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    numbers = [row["number"] for row in await Invoice.select(Invoice.number).order_by(Invoice.number)]
    assert numbers == [f"{clock().year}-{n:04d}" for n in range(1, 13)], "4 invoices first, then 4 + 4 at once"
    assert (await ledger.verify()).ok
