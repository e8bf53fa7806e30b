"""Cached public pages, dropped the moment the data behind them changes.

The cache key carries a *data version*. On PostgreSQL every process LISTENs on `funding_public`,
which triggers NOTIFY on each journal append or budget change (see migrations), so the version
moves in every process without a query per request. If that connection is lost, caching stops
until it is back. On SQLite (one embedded process) the version is the database files' mtimes.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from litestar import Litestar, Request
from litestar.types import HTTPScope

from funding.db import sqlite_path
from funding.settings import Settings

log = logging.getLogger(__name__)
CHANNEL = "funding_public"
_uncacheable = itertools.count()


class DataVersion:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.listening = False
        self._generation = 0
        self._connection: asyncpg.Connection | None = None

    def current(self) -> str:
        if not self.settings.uses_postgres:
            path = sqlite_path(self.settings.database_url)
            return "-".join(str(_mtime(p)) for p in (path, f"{path}-wal"))
        if not self.listening:
            return f"nocache-{next(_uncacheable)}"
        return str(self._generation)

    def bump(self, *_args) -> None:
        self._generation += 1

    @asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        if not self.settings.uses_postgres:
            yield
            return
        task = asyncio.create_task(self._listen_forever())
        try:
            yield
        finally:
            task.cancel()
            if self._connection is not None:
                await self._connection.close()

    async def _listen_forever(self) -> None:
        while True:
            try:
                self._connection = await asyncpg.connect(dsn=self.settings.database_url)
                await self._connection.add_listener(CHANNEL, self.bump)
                self._connection.add_termination_listener(self._lost)
                self.bump()  # anything may have changed while we were not listening
                self.listening = True
                while not self._connection.is_closed():
                    await asyncio.sleep(1)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("cache invalidation listener unavailable: %s", exc)
            self.listening = False
            await asyncio.sleep(1)

    def _lost(self, _connection) -> None:
        self.listening = False


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def cache_key(request: Request) -> str:
    version: DataVersion = request.app.state.data_version
    locale = request.scope.get("state", {}).get("locale", "nl")
    return f"{request.method}|{locale}|{version.current()}|{request.url.path}?{request.url.query}"


def cacheable(scope: HTTPScope, status_code: int) -> bool:
    """Store only successful GETs. The cache wraps every method of a cached route (an `OPTIONS /`
    used to replace the page). Cached pages get no CSRF cookie (see `CSRF_EXEMPT` in app.py), so
    no visitor's token is stored and handed to the next; the hygiene tests check both."""
    return scope["method"] == "GET" and status_code < 400
