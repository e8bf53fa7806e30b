"""Webhooks arriving all at once, duplicated and out of order, on PostgreSQL, against `funding
serve` with two worker processes: every payment, refund and chargeback is booked exactly once."""

from __future__ import annotations

import asyncio
import random
from datetime import timedelta

import httpx
import pytest

from funding.ledger.service import LedgerService
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.payments.service import PaymentService
from funding.payments.tables import BookingKind, MollieBooking
from funding.pledges.service import PledgeService
from tests.factories import programme_year
from tests.live import LiveServer
from tests.payments.conftest import API_KEY, TODAY
from tests.pledges.conftest import cash, make_round

pytestmark = pytest.mark.postgres_only

PAYMENTS = 20
WEBHOOKS = 200
SENDERS = 16


async def test_200_shuffled_duplicate_webhooks_for_20_payments_book_each_once(
    database, ledger: LedgerService, pledges: PledgeService, payments: PaymentService, standin, tmp_path
):
    period = await programme_year(ledger, TODAY.year)
    await make_round(
        pledges, period, "bijdragen", opens_on=TODAY - timedelta(days=1), closes_on=TODAY + timedelta(days=30)
    )
    registry = OrganisationService()
    ids = []
    for n in range(PAYMENTS):
        organisation = await registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {n}", cbs_code=f"GM{n:04d}")
        pledge = await pledges.pledge("bijdragen", cash(organisation, 1000 + n))
        ids.append((await payments.start(pledge.token)).mollie_id)
    for payment_id in ids:
        standin.set_status(payment_id, "paid")
    refunded = {payment_id: Money.euros(100) for payment_id in ids[:5]}
    for payment_id, amount in refunded.items():  # refunded in Mollie's dashboard, as it were
        await payments.mollie.create_refund(payment_id, amount, "dashboard", f"dashboard:{payment_id}")
    charged_back = {
        payment_id: Money.from_mollie(standin.add_chargeback(payment_id)["amount"]) for payment_id in ids[5:8]
    }
    standin.drain()  # the tests deliver: Mollie's own calls are dropped

    deliveries = [ids[n % PAYMENTS] for n in range(WEBHOOKS)]
    random.Random(7).shuffle(deliveries)
    env = {"MOLLIE_API_KEY": API_KEY, "MOLLIE_API_ENDPOINT": standin.url, "FUNDING_RECONCILE_EVERY": "0"}
    with LiveServer(database, workers=2, env=env, log_path=tmp_path / "server.log") as server:
        statuses = await _send(server.url, deliveries)
    assert statuses == {200: WEBHOOKS}

    bookings = await MollieBooking.select(MollieBooking.kind, MollieBooking.object_id)
    kinds = [row["kind"] for row in bookings]
    assert kinds.count(BookingKind.paid) == PAYMENTS
    assert kinds.count(BookingKind.refund) == len(refunded)
    assert kinds.count(BookingKind.chargeback) == len(charged_back)
    assert len({(row["kind"], row["object_id"]) for row in bookings}) == len(bookings)
    paid = sum(Money.euros(1000 + n).cents for n in range(PAYMENTS))
    back = sum(m.cents for m in refunded.values()) + sum(m.cents for m in charged_back.values())
    balances = await ledger.balances()
    assert balances["assets:mollie"].cents == paid - back
    entries = [e.kind for e in await ledger.entries_after(0, limit=500)]
    assert entries.count("payment") == PAYMENTS and (await ledger.verify()).ok


async def _send(url: str, deliveries: list[str]) -> dict[int, int]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for payment_id in deliveries:
        queue.put_nowait(payment_id)
    statuses: dict[int, int] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def sender() -> None:
            while not queue.empty():
                response = await client.post("/webhooks/mollie", data={"id": queue.get_nowait()})
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        await asyncio.gather(*[sender() for _ in range(SENDERS)])
    return statuses


async def test_one_process_reconciles_at_a_time(database, payments: PaymentService, due, standin, client):
    """While another process holds the reconcile lock, a reconcile skips its round; after, it runs."""
    from funding.db import exclusive
    from funding.payments.service import RECONCILE_LOCK
    from tests.payments.test_payments import checkout, pay_now

    checkout(await pay_now(client, due), "paid")
    standin.drain()  # lost webhook
    async with exclusive(RECONCILE_LOCK) as mine:
        assert mine
        assert await payments.reconcile() == []
    [booked] = await payments.reconcile()
    assert booked.bookings == ((BookingKind.paid, Money.euros(1000)),)
