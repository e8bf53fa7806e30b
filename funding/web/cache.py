"""Cached public pages, dropped the moment the data behind them changes.

The cache key carries a *data version*. On PostgreSQL every process LISTENs on `funding_public`,
which triggers NOTIFY on each journal append or budget change (see migrations), so the version
moves in every process without a query per request. If that connection is lost, caching stops
until it is back. On SQLite (one embedded process) the version is the database files' mtimes.

Only the query parameters a page reads are part of its key, and the store holds one version's
pages at a time, so made-up URLs cannot grow the cache. A client sending `Cache-Control:
no-cache` gets a freshly rendered page (the benchmark measures uncached pages that way).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import cache
from typing import Generic, TypeVar
from urllib.parse import urlencode

import asyncpg
from litestar import Litestar, Request
from litestar.constants import RESERVED_KWARGS
from litestar.handlers import HTTPRouteHandler
from litestar.stores.memory import MemoryStore
from litestar.types import HTTPScope

from funding.db import sqlite_path
from funding.settings import Settings

log = logging.getLogger(__name__)
CHANNEL = "funding_public"
_uncached = itertools.count()
T = TypeVar("T")


class DataVersion:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.listening = False
        self._epoch = 0
        """Moves when the listener (re)connects: anything may have changed while it was away."""
        self._changes: Counter[str] = Counter()
        """NOTIFYs received per table (the payload), and in all under ``""``."""
        self._connection: asyncpg.Connection | None = None

    @property
    def trusted(self) -> bool:
        """Whether a change would move the version now (on PostgreSQL: the listener is connected)."""
        return self.listening or not self.settings.uses_postgres

    def current(self, *tables: str) -> str:
        """The version of what `tables` hold, or of everything public if none are named."""
        if not self.settings.uses_postgres:
            path = sqlite_path(self.settings.database_url)
            return "-".join(str(_mtime(p)) for p in (path, f"{path}-wal"))
        return ".".join(str(n) for n in (self._epoch, *(self._changes[t] for t in tables or ("",))))

    def bump(self, _connection: object, _pid: int, _channel: str, table: str) -> None:
        self._changes[table] += 1
        self._changes[""] += 1

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
                self._epoch += 1
                self.listening = True
                while not self._connection.is_closed():
                    await asyncio.sleep(1)
            except (OSError, asyncpg.PostgresError) as exc:
                log.warning("cache invalidation listener unavailable: %s", exc)
            self.listening = False
            await asyncio.sleep(1)

    def _lost(self, _connection) -> None:
        self.listening = False


class Memo(Generic[T]):
    """A value read once per version of the tables it comes from, for what every page shows
    but seldom changes (the programme's name): appends to the journal do not move it."""

    def __init__(self, *tables: str) -> None:
        self.tables = tables
        self._version: str | None = None
        self._value: T | None = None

    async def get(self, version: DataVersion, read: Callable[[], Awaitable[T]]) -> T:
        # The version is taken before reading: a change during the read moves it past this one.
        current = version.current(*self.tables)
        if version.trusted and current == self._version:
            return self._value  # type: ignore[return-value]
        value = await read()
        if version.trusted:
            self._version, self._value = current, value
        return value


def _mtime(path: str) -> int:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return 0


def cache_key(request: Request) -> str:
    """Method, language, data version, path, and only the query parameters the handler reads:
    `/ledger?_=1` is `/ledger`, so made-up parameters can neither bypass the cache nor fill it."""
    version: DataVersion = request.app.state.data_version
    if not version.trusted or wants_fresh(request.scope):
        return f"uncached-{next(_uncached)}"  # a key nothing is stored under: a miss
    locale = request.scope.get("state", {}).get("locale", "nl")
    names = _query_names(request.route_handler)
    query = urlencode(sorted((k, v) for k, v in request.query_params.multi_items() if k in names))
    return f"{version.current()}|{request.method}|{locale}|{request.url.path}?{query}"


@cache
def _query_names(handler: HTTPRouteHandler) -> frozenset[str]:
    """The handler's own parameters: its signature without dependencies and Litestar's kwargs."""
    signature = set(handler.parsed_fn_signature.parameters)
    return frozenset(signature - handler.dependency_name_set - RESERVED_KWARGS)


def wants_fresh(scope: HTTPScope) -> bool:
    """`Cache-Control: no-cache` from the client (RFC 9111 §5.2.1.4): answer from the database."""
    return any(
        name == b"cache-control" and b"no-cache" in value.lower() for name, value in scope["headers"]
    )


def cacheable(scope: HTTPScope, status_code: int) -> bool:
    """Store only successful GETs, and only under a version the listener vouches for. The cache
    wraps every method of a cached route (an `OPTIONS /` used to replace the page). Cached pages
    get no CSRF cookie (see `CSRF_EXEMPT` in app.py), so no visitor's token is stored and handed
    to the next; the hygiene tests check both."""
    version: DataVersion = scope["litestar_app"].state.data_version
    return scope["method"] == "GET" and status_code < 400 and version.trusted and not wants_fresh(scope)


class ResponseStore(MemoryStore):
    """Litestar's memory store, emptied whenever the data version moves: pages cached under an
    older version can never be asked for again, so they go at once rather than when they expire."""

    def __init__(self) -> None:
        super().__init__()
        self._version: str | None = None

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        version = key.partition("|")[0]
        if version != self._version:
            await self.delete_all()
            self._version = version
        await super().set(key, value, expires_in)
