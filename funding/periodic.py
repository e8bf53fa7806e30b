"""Work the app does by itself now and then (deciding rounds, asking Mollie about payments), so
that nobody has to remember a command. Each job is idempotent, so several processes may run it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

log = logging.getLogger(__name__)


def every(seconds: int, job: Callable[[], Awaitable[object]], what: str):
    """A Litestar lifespan that runs `job` at start and then every `seconds` (0: never)."""

    @asynccontextmanager
    async def lifespan(_app: object) -> AsyncIterator[None]:
        if seconds <= 0:
            yield
            return
        task = asyncio.create_task(_keep_running(job, seconds, what))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    return lifespan


async def _keep_running(job: Callable[[], Awaitable[object]], seconds: int, what: str) -> None:
    while True:
        try:
            await job()
        except Exception:  # a database or an API away for a while must not stop the job for good
            log.exception("could not %s; trying again later", what)
        await asyncio.sleep(seconds)
