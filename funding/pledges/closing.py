"""Rounds are decided at their close date by the app itself, not only by a command someone must
remember: every app process checks now and then. Deciding is idempotent under the round's lock,
so several processes checking at once decide each round once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from funding.pledges.service import PledgeService

log = logging.getLogger(__name__)


def round_closer(service: Callable[[], PledgeService], every: int):
    """A Litestar lifespan that decides due rounds at start and then every `every` seconds."""

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        if every <= 0:
            yield
            return
        task = asyncio.create_task(_keep_closing(service, every))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


async def _keep_closing(service: Callable[[], PledgeService], every: int) -> None:
    while True:
        try:
            for fund in await service().close_due_rounds():
                log.info("round %s decided at its close date: %s", fund.slug, fund.status.value)
        except Exception:  # a database away for a while must not stop the checks for good
            log.exception("could not decide the rounds past their close date; trying again later")
        await asyncio.sleep(every)
