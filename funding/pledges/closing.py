"""Rounds are decided at their close date by the app itself, not only by a command someone must
remember: every app process checks now and then. Deciding is idempotent under the round's lock,
so several processes checking at once decide each round once."""

from __future__ import annotations

import logging
from collections.abc import Callable

from funding.periodic import every
from funding.pledges.service import PledgeService

log = logging.getLogger(__name__)


def round_closer(service: Callable[[], PledgeService], seconds: int):
    """A Litestar lifespan that decides due rounds at start and then every `seconds`."""

    async def close() -> None:
        for fund in await service().close_due_rounds():
            log.info("round %s decided at its close date: %s", fund.slug, fund.status.value)

    return every(seconds, close, "decide the rounds past their close date")
