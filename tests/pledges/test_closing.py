"""The app decides rounds at their close date by itself."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date, timedelta

from litestar.testing import AsyncTestClient

from funding.app import create_app
from funding.pledges.service import PledgeService
from funding.pledges.tables import PledgeStatus, RoundModel, RoundStatus
from tests.pledges.conftest import cash, make_round


async def test_a_round_past_its_close_date_is_decided_by_the_running_app(settings, ledger, year, orgs, clock):
    today = date.today()
    service = PledgeService(ledger, clock=clock)
    clock.set(today - timedelta(days=2))
    await make_round(
        service,
        year,
        model=RoundModel.all_or_nothing,
        target=5_000,
        opens_on=today - timedelta(days=9),
        closes_on=today - timedelta(days=1),
    )
    pledge = await service.pledge("2026", cash(orgs["amsterdam"], 1000))
    app = create_app(dataclasses.replace(settings, round_closing_interval=3600))
    async with AsyncTestClient(app=app):
        for _ in range(100):
            if (await service.round("2026")).status is not RoundStatus.open:
                break
            await asyncio.sleep(0.05)
    assert (await service.round("2026")).status is RoundStatus.failed
    assert (await service.pledge_by_token(pledge.token)).status is PledgeStatus.released


async def test_the_app_leaves_rounds_alone_when_told_to(client, ledger, year, orgs, clock):
    service = PledgeService(ledger, clock=clock)
    clock.set(date.today() - timedelta(days=2))
    await make_round(
        service, year, opens_on=date.today() - timedelta(days=9), closes_on=date.today() - timedelta(days=1)
    )
    await asyncio.sleep(0.2)
    assert (await service.round("2026")).status is RoundStatus.open
