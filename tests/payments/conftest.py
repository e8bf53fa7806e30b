"""A Mollie stand-in on a real socket, the real client talking to it, and an app whose webhook
the tests call themselves: the stand-in queues each webhook, and `deliver` posts it to the app
and reports the answer back, so Mollie's retries still run."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from litestar.testing import AsyncTestClient

from funding.app import create_app
from funding.ledger.service import LedgerService
from funding.mollie_standin.standin import MollieStandin
from funding.money import Money
from funding.payments.mollie import Mollie
from funding.payments.service import PaymentService
from funding.pledges.service import PledgeRecord, PledgeService
from funding.settings import Settings
from tests.factories import programme_year
from tests.pledges.conftest import Clock, cash, make_round, orgs  # noqa: F401 (fixtures)

API_KEY = "test_funding"
BASE_URL = "http://testserver.local"
TODAY = date.today()


@pytest.fixture(scope="session")
def standin_server():
    server = MollieStandin(webhook_mode="queue").start()
    yield server
    server.stop()


@pytest.fixture
def standin(standin_server: MollieStandin) -> MollieStandin:
    standin_server.reset()
    standin_server.webhook_mode = "queue"
    return standin_server


@pytest.fixture
def mollie(standin: MollieStandin) -> Mollie:
    return Mollie(API_KEY, standin.url, timeout=(2, 3))


@pytest.fixture
def settings(settings: Settings, standin: MollieStandin) -> Settings:
    return replace(settings, mollie_api_key=API_KEY, mollie_api_endpoint=standin.url, base_url=BASE_URL)


@pytest.fixture
def clock() -> Clock:
    return Clock(TODAY)


@pytest.fixture
def pledges(ledger: LedgerService, clock: Clock) -> PledgeService:
    return PledgeService(ledger, clock=clock)


@pytest.fixture
def payments(pledges: PledgeService, mollie: Mollie) -> PaymentService:
    return PaymentService(pledges, mollie, base_url=BASE_URL)


@pytest.fixture
async def client(settings: Settings):
    async with AsyncTestClient(app=create_app(settings), base_url=BASE_URL) as test_client:
        yield test_client


@pytest.fixture
async def due(pledges: PledgeService, ledger: LedgerService, orgs) -> PledgeRecord:  # noqa: F811
    """A due cash pledge of EUR 1,000 in an open keep-it-all round."""
    period = await programme_year(ledger, TODAY.year)
    await make_round(
        pledges, period, "bijdragen", opens_on=TODAY - timedelta(days=30), closes_on=TODAY + timedelta(days=30)
    )
    return await pledges.pledge("bijdragen", cash(orgs["amsterdam"], 1000))


async def deliver(standin: MollieStandin, client: AsyncTestClient) -> list[int]:
    """Post every queued webhook to the app, as Mollie would; the statuses it answered."""
    statuses = []
    for delivery in standin.drain():
        response = await client.post("/webhooks/mollie", data=delivery.form, headers=delivery.headers)
        standin.report(delivery.id, status_code=response.status_code)
        statuses.append(response.status_code)
    return statuses


async def balances(ledger: LedgerService) -> dict[str, int]:
    return {name: amount.cents for name, amount in (await ledger.balances()).items() if amount != Money.zero()}
