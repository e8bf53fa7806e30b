"""Cached public pages, dropped the moment the data behind them changes.

The cache key carries a *data version*. On PostgreSQL every process LISTENs on `funding_public`,
which triggers NOTIFY on each journal append or budget change (see migrations), so the version
moves in every process without a query per request. If that connection is lost, caching stops
until it is back. On SQLite the version is a counter per public table that triggers bump in the
writing transaction (migration 0004), read over one connection kept open: reads never move it.

Made-up URLs cannot fill memory: only the query parameters a page reads are part of its key, a
repeated one is refused with a 400, and the store holds one version's pages, at most
`response_cache_bytes` of them (least recently used go first), sweeping out expired ones. Pages
are served from the cache whatever the client's `Cache-Control` says; the benchmark measures
uncached rendering on a server started with `FUNDING_RESPONSE_CACHE=off`. A response that sets a
cookie is never stored.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
import time
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import cache
from typing import Generic, TypeVar
from urllib.parse import urlencode

import asyncpg
import msgspec
from litestar import Litestar, Request
from litestar.constants import RESERVED_KWARGS
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.stores.base import Store
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
        self._sqlite: sqlite3.Connection | None = None
        """SQLite: one connection kept open, so a version costs a read of four rows, no connect."""
        self._sqlite_failed = False

    @property
    def trusted(self) -> bool:
        """Whether a change would move the version now (on PostgreSQL: the listener is connected;
        on SQLite: the counters can be read)."""
        if self.settings.uses_postgres:
            return self.listening
        return self._sqlite_connection() is not None

    def current(self, *tables: str) -> str:
        """The version of what `tables` hold, or of everything public if none are named."""
        if not self.settings.uses_postgres:
            counters = self._counters()
            if counters is None:
                return f"unversioned-{next(_uncached)}"  # matches nothing, so nothing is reused
            if not tables:  # counters only grow, so their sum moves whenever any of them does
                return str(sum(counters.values()))
            return ".".join(str(counters.get(t, 0)) for t in tables)
        return ".".join(str(n) for n in (self._epoch, *(self._changes[t] for t in tables or ("",))))

    def _sqlite_connection(self) -> sqlite3.Connection | None:
        if self._sqlite is None and not self._sqlite_failed:
            self._sqlite = sqlite3.connect(sqlite_path(self.settings.database_url), check_same_thread=False)
            self._counters()
        return self._sqlite

    def _counters(self) -> dict[str, int] | None:
        """SQLite's per-table change counters, or None if they cannot be read; then nothing is
        cached, since a page stored now might never be dropped."""
        connection = self._sqlite_connection()
        if connection is None:
            return None
        try:
            return dict(connection.execute("SELECT name, version FROM data_version").fetchall())
        except sqlite3.Error as exc:
            log.warning("response cache off: cannot read the data version (%s); migrate the database", exc)
            self._sqlite_failed = True
            self._sqlite = None
            connection.close()
            return None

    def bump(self, _connection: object, _pid: int, _channel: str, table: str) -> None:
        self._changes[table] += 1
        self._changes[""] += 1

    @asynccontextmanager
    async def lifespan(self, _app: Litestar) -> AsyncIterator[None]:
        if not self.settings.uses_postgres:
            try:
                yield
            finally:
                if self._sqlite is not None:
                    self._sqlite.close()
                    self._sqlite = None
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
                # asyncpg hands the listener the payload as a str; asyncpg-stubs types it as object.
                await self._connection.add_listener(CHANNEL, self.bump)  # type: ignore[arg-type]
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


def cache_key(request: Request) -> str:
    """Method, language, data version, path, and only the query parameters the handler reads:
    `/ledger?_=1` is `/ledger`, so made-up parameters can neither bypass the cache nor fill it,
    and `?before=1&before=1` is refused rather than made another page.

    Litestar asks for the key twice, to look the page up and to store it once rendered; both get
    the first answer, so a page read before a change is never stored under the version after it."""
    state = request.scope.setdefault("state", {})
    if (key := state.get("response_cache_key")) is not None:
        return key
    names = query_names(request.route_handler)
    params = [(k, v) for k, v in request.query_params.multi_items() if k in names]
    if len(params) > len({k for k, _ in params}):
        raise ValidationException("a query parameter is repeated")
    version: DataVersion = request.app.state.data_version
    if not request.app.state.settings.response_cache or not version.trusted:
        key = f"uncached-{next(_uncached)}"  # a key nothing is stored under: a miss
    else:
        query = urlencode(sorted(params))
        key = f"{version.current()}|{request.method}|{state.get('locale', 'nl')}|{request.url.path}?{query}"
    state["response_cache_key"] = key
    return key


@cache
def query_names(handler: HTTPRouteHandler) -> frozenset[str]:
    """The handler's own query parameters: its signature without dependencies and Litestar's kwargs."""
    signature = set(handler.parsed_fn_signature.parameters)
    return frozenset(signature - handler.dependency_name_set - RESERVED_KWARGS)


def cacheable(scope: HTTPScope, status_code: int) -> bool:
    """Store only successful GETs, and only under a version the listener vouches for. The cache
    wraps every method of a cached route (an `OPTIONS /` used to replace the page). Cached pages
    get no CSRF cookie (see `CSRF_EXEMPT` in app.py), and the store refuses any response that
    sets a cookie, so no visitor's cookie is handed to the next; the hygiene tests check both."""
    app = scope["litestar_app"]
    return (
        scope["method"] == "GET"
        and status_code < 400
        and app.state.settings.response_cache
        and app.state.data_version.trusted
    )


class ResponseStore(Store):
    """Pages of one data version, at most `max_bytes` of them (keys and bodies), least recently
    used dropped first. A page of an older version can never be asked for again, so the store
    empties when the version moves; expired pages are swept every `sweep_every` seconds rather
    than left until someone asks for them. A response that sets a cookie is not stored: it would
    be replayed to every later visitor, while the middleware that set it sets it again anyway."""

    def __init__(self, max_bytes: int = 32 * 2**20, sweep_every: float = 60) -> None:
        self.max_bytes = max_bytes
        self.sweep_every = sweep_every
        self.size = 0
        """Bytes held: the keys' and the values' lengths."""
        self._entries: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        """Least recently used first; the value and when it expires (`time.monotonic()`)."""
        self._version: str | None = None
        self._swept = time.monotonic()

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        if isinstance(value, str):
            value = value.encode()
        if _sets_cookie(value):
            return
        version = key.partition("|")[0]
        if version != self._version:
            await self.delete_all()
            self._version = version
        now = time.monotonic()
        if now - self._swept >= self.sweep_every:
            self._sweep(now)
        await self.delete(key)
        cost = len(key) + len(value)
        if cost > self.max_bytes:
            return
        while self.size + cost > self.max_bytes:
            old_key, (old_value, _) = self._entries.popitem(last=False)
            self.size -= len(old_key) + len(old_value)
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        self._entries[key] = (value, None if seconds is None else now + seconds)
        self.size += cost

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and expires_at <= time.monotonic():
            await self.delete(key)
            return None
        if renew_for is not None and expires_at is not None:
            seconds = renew_for.total_seconds() if isinstance(renew_for, timedelta) else renew_for
            self._entries[key] = (value, time.monotonic() + seconds)
        self._entries.move_to_end(key)
        return value

    async def delete(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.size -= len(key) + len(entry[0])

    async def delete_all(self) -> None:
        self._entries.clear()
        self.size = 0

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        entry = self._entries.get(key)
        if entry is None or entry[1] is None:
            return None
        return max(int(entry[1] - time.monotonic()), 0)

    def _sweep(self, now: float) -> None:
        for key in [k for k, (_, expires_at) in self._entries.items() if expires_at is not None and expires_at <= now]:
            value, _ = self._entries.pop(key)
            self.size -= len(key) + len(value)
        self._swept = now


def _sets_cookie(cached: bytes) -> bool:
    """Whether a cached response (Litestar's msgpack list of ASGI messages) has a Set-Cookie."""
    try:
        messages = msgspec.msgpack.decode(cached)
    except msgspec.DecodeError:
        return False  # not a response: nothing Litestar would replay as one
    return any(
        isinstance(message, dict)
        and message.get("type") == "http.response.start"
        and any(bytes(name).lower() == b"set-cookie" for name, _ in message.get("headers", ()))
        for message in messages
    )
