"""The database engine: SQLite (embedded default) or PostgreSQL, chosen by `DATABASE_URL`.

Piccolo resolves a table's engine once and caches it, so the engine is created here from the
URL and bound to every table explicitly; tests bind a fresh database per test the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.tables import Migration
from piccolo.conf.apps import Finder
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.querystring import QueryString
from piccolo.table import Table

from funding import piccolo_conf
from funding.piccolo_conf import engine_for_url as engine_for_url  # re-exported: the callers' one import
from funding.piccolo_conf import sqlite_path as sqlite_path
from funding.settings import is_postgres_url


def current_engine() -> Engine:
    """The engine `bind` chose (at first, the one `DATABASE_URL` names)."""
    return piccolo_conf.DB


def bind(engine: Engine) -> None:
    """Point every registered table, Piccolo's migration table and its engine lookup at `engine`.

    The tables come from Piccolo's app registry (`piccolo_conf.APP_REGISTRY`), so the core names
    no domain."""
    piccolo_conf.DB = engine
    tables: list[type[Table]] = [*Finder().get_table_classes(), Migration]
    for table in tables:
        table._meta.db = engine


def as_date(value: date | str) -> date:
    """SQLite hands raw queries ISO text where PostgreSQL hands dates."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def as_datetime(value: datetime | str) -> datetime:
    """A `Timestamptz` as an aware datetime: SQLite hands raw queries ISO text, at times without
    its offset, which is UTC (Piccolo writes them so)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def fetch(query: str, *args: object) -> Sequence[Mapping[str, Any]]:
    """A raw query's rows, read-only (`{}` placeholders, as `Table.raw` takes): on PostgreSQL
    asyncpg's own records rather than Piccolo's dict copies of them, which cost a round page of
    fifty rows more than its query did. In a transaction, on its connection, as `Table.raw`."""
    return await current_engine().run_querystring(QueryString(query, *args))


def is_postgres(engine: Engine | None = None) -> bool:
    return isinstance(engine or current_engine(), PostgresEngine)


def write_transaction():
    """A transaction that takes the write lock up front (IMMEDIATE on SQLite), so two writers
    queue instead of failing half-way with "database is locked"."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


async def lock_transaction(key: int) -> None:
    """Serialise writers that take the same `key` until the transaction ends; call inside
    `write_transaction()`. SQLite has one writer at a time already."""
    if is_postgres():
        await current_engine().run_ddl(f"SELECT pg_advisory_xact_lock({int(key)})")


async def migrate(app_role: str | None = None) -> None:
    """Apply Piccolo migrations to the bound database, as the role that owns the tables; SQLite
    also switches to WAL once. On PostgreSQL, `app_role` (the role the app connects as) is then
    granted what the app needs and no more (see `grant_app_role`)."""
    engine = current_engine()
    if isinstance(engine, SQLiteEngine):
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    result = await run_forwards(app_name="funding", migration_id="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")
    if app_role and isinstance(engine, PostgresEngine):
        await grant_app_role(app_role)


APPEND_ONLY_TABLES = """
    SELECT DISTINCT c.relname AS name FROM pg_trigger t
    JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid
    WHERE p.proname = 'funding_refuse_change' AND (t.tgtype & 16) <> 0 AND NOT t.tgisinternal
"""
"""Tables whose rows a trigger refuses to UPDATE (bit 16 of `tgtype`): the append-only ones, found
in the schema itself, so the core names none of them."""


async def grant_app_role(role: str) -> None:
    """The app's role owns nothing, so it cannot drop or disable a trigger, alter a table or
    truncate one. It may read every table, append to the append-only ones, and change the rest;
    the migrations' own table it may only read."""
    engine = current_engine()
    quoted = quote_identifier(role)
    append_only = [quote_identifier(row["name"]) for row in await engine.run_ddl(APPEND_ONLY_TABLES)]
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}",
        f"REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE INSERT, UPDATE, DELETE ON {quote_identifier(Migration._meta.tablename)} FROM {quoted}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
    ]
    if append_only:
        statements.append(f"REVOKE UPDATE, DELETE ON {', '.join(append_only)} FROM {quoted}")
    async with engine.transaction():
        for statement in statements:
            await engine.run_ddl(statement)


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@asynccontextmanager
async def exclusive(key: int) -> AsyncIterator[bool]:
    """Whether this process may run a job that one process at a time should run (True on
    SQLite, which serves one process). On PostgreSQL a session lock on a connection of its
    own, outside the pool (whose connections hold no session state), released as it closes."""
    engine = current_engine()
    if not isinstance(engine, PostgresEngine):
        yield True
        return
    connection = await asyncpg.connect(**engine.config)
    try:
        yield bool(await connection.fetchval("SELECT pg_try_advisory_lock($1)", int(key)))
    finally:
        await connection.close()


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
