"""The database engine: SQLite (embedded default) or PostgreSQL, chosen by `DATABASE_URL`.

Piccolo resolves a table's engine once and caches it, so the engine is created here from the
URL and bound to every table explicitly; tests bind a fresh database per test the same way.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from urllib.parse import urlsplit

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from funding.settings import DEFAULT_DATABASE_URL, is_postgres_url

APPEND_LOCK_KEY = 20_120_301
"""PostgreSQL advisory lock that serialises journal appends (SQLite serialises writers itself)."""


class DatabaseURLError(ValueError):
    pass


def sqlite_path(url: str) -> str:
    if not url.startswith("sqlite:///"):
        raise DatabaseURLError(f"DATABASE_URL must be sqlite:///PATH or postgresql://…, not {url!r}")
    return url.removeprefix("sqlite:///")


PLANNER_SETTINGS = {"random_page_cost": "1.1"}
"""Our reads are small index lookups into data held in memory or on SSD. With PostgreSQL's
default (4, for spinning disks) a page of 100 entries was joined to its postings by scanning the
whole posting table: 4.9 ms instead of 0.4 ms at 10,000 entries (EXPLAIN ANALYZE)."""


def engine_for_url(url: str) -> Engine:
    if is_postgres_url(url):
        return PostgresEngine(config={"dsn": url, "server_settings": PLANNER_SETTINGS}, log_queries=False)
    # A busy timeout instead of immediate "database is locked" when two writers meet.
    return SQLiteEngine(path=sqlite_path(url), timeout=30)


def engine_from_env() -> Engine:
    return engine_for_url(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)


def _tables():
    from funding.piccolo_app import APP_CONFIG

    return APP_CONFIG.table_classes


def current_engine() -> Engine:
    return _tables()[0]._meta.db


def bind(engine: Engine) -> None:
    """Point every funding table, Piccolo's migration table and its engine lookup at `engine`."""
    from piccolo.apps.migrations.tables import Migration

    import funding.piccolo_conf

    funding.piccolo_conf.DB = engine
    for table in (*_tables(), Migration):
        table._meta.db = engine


def as_date(value: date | str) -> date:
    """SQLite hands raw queries ISO text where PostgreSQL hands dates."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def as_datetime(value: datetime | str) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def is_postgres(engine: Engine | None = None) -> bool:
    return isinstance(engine or current_engine(), PostgresEngine)


def write_transaction():
    """A transaction that takes the write lock up front (IMMEDIATE on SQLite), so two writers
    queue instead of failing half-way with "database is locked"."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def lock_for_append() -> None:
    """Serialise journal appends; call inside `write_transaction()`."""
    if is_postgres():
        await current_engine().run_ddl(f"SELECT pg_advisory_xact_lock({APPEND_LOCK_KEY})")


async def migrate() -> None:
    """Apply Piccolo migrations to the bound database; SQLite also switches to WAL once."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    result = await run_forwards(app_name="funding", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


async def ping() -> None:
    await current_engine().run_ddl("SELECT 1")


@asynccontextmanager
async def connection_pool(size: int) -> AsyncIterator[None]:
    """A pool on PostgreSQL only: Piccolo's SQLite engine opens a connection per query."""
    engine = current_engine()
    if not isinstance(engine, PostgresEngine) or size < 1:
        yield
        return
    await engine.start_connection_pool(min_size=min(2, size), max_size=size, reset=_reset_if_dirty)
    try:
        yield
    finally:
        await engine.close_connection_pool()


async def _reset_if_dirty(connection: asyncpg.Connection) -> None:
    """asyncpg resets every connection it takes back (one more round trip per query). Ours hold
    no session state: no session locks (only transaction-scoped ones), no LISTEN (the cache
    listener has its own connection), no SET. So only a connection left inside a transaction,
    by a cancelled request, needs the full reset."""
    if connection.is_in_transaction():
        await connection.reset()


def describe(url: str) -> str:
    """The URL without its password, for logs."""
    if not is_postgres_url(url):
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"
