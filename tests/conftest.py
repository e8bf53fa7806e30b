"""Every test runs on the backend `DATABASE_URL` names (SQLite when unset), in its own database.

The environment is settled before `funding` is imported: Piccolo binds engines on first use.
Tests that need what a machine may lack skip with one summary line per reason; with `CI` set,
a missing tool fails the run instead (the SQLite run still skips the PostgreSQL-only tests:
that is the backend chosen, not a tool missing).
"""

from __future__ import annotations

import asyncio
import os
from datetime import date
from urllib.parse import urlsplit

from tests.databases import TestDatabases

DATABASES = TestDatabases(os.environ.get("DATABASE_URL"))
os.environ["DATABASE_URL"] = DATABASES.template_url
os.environ.setdefault("FUNDING_SECRET_KEY", "test-secret-key-not-for-production")
os.environ.pop("MOLLIE_API_KEY", None)
os.environ.pop("FUNDING_LOG_SIGNING_KEY", None)
os.environ["FUNDING_LOG_KEY_FILE"] = os.path.join(DATABASES.folder, "log.key")
"""Servers the tests start make their checkpoint key there, never in the work tree."""
REDIS_URL = os.environ.pop("REDIS_URL", "") or "redis://127.0.0.1:6379/0"
"""For the tests that share counts through Redis; every other app in the tests counts in memory."""
ON_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
"""`CI` set (as CI services do): a test that cannot run for want of a tool fails, never skips."""
NEEDS_POSTGRES = "needs PostgreSQL: run with DATABASE_URL=postgresql://… (skipped on SQLite)"

import asyncpg  # noqa: E402
import pytest  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from funding import db  # noqa: E402
from funding.app import create_app  # noqa: E402
from funding.demo import load_demo  # noqa: E402
from funding.ledger.service import LedgerService  # noqa: E402
from funding.settings import Settings  # noqa: E402


def pytest_report_header(config) -> str:
    return f"funding database backend: {DATABASES.backend}"


def pytest_sessionstart(session) -> None:
    try:
        asyncio.run(DATABASES.create_template())  # the first connection, when on PostgreSQL
    except (OSError, asyncpg.PostgresError) as error:
        where = urlsplit(DATABASES.admin_url)
        pytest.exit(
            f"DATABASE_URL names PostgreSQL at {where.hostname}:{where.port or 5432}{where.path}, "
            f"which cannot be used: {error}",
            returncode=pytest.ExitCode.USAGE_ERROR,
        )

    async def prepare() -> None:
        db.bind(db.engine_for_url(DATABASES.template_url))
        await db.migrate()
        if not DATABASES.postgres:  # fold the WAL into the file, so copying the file is enough
            await db.current_engine().run_ddl("PRAGMA wal_checkpoint(TRUNCATE)")

    asyncio.run(prepare())


def pytest_sessionfinish(session, exitstatus) -> None:
    asyncio.run(DATABASES.drop_all())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    if "postgres_only" in item.keywords and not DATABASES.postgres:
        pytest.skip(NEEDS_POSTGRES)  # raised here, not marked per test: one summary line for all


@pytest.fixture
def backend() -> str:
    return DATABASES.backend


@pytest.fixture
async def database() -> str:
    """The URL of a fresh, migrated database, bound to every table for this test."""
    url = await DATABASES.fresh()
    db.bind(db.engine_for_url(url))
    yield url
    await DATABASES.drop(url)


@pytest.fixture
def settings(database: str, tmp_path) -> Settings:
    # No pool: the test client runs the app on its own event loop, and the test body queries
    # from another; an asyncpg pool belongs to one loop. Mail goes to this test's own outbox,
    # never into the work tree.
    return Settings(
        database_url=database,
        secret_key="test-secret-key-not-for-production",
        database_pool_size=0,
        outbox_dir=str(tmp_path / "outbox"),
        log_key_file=str(tmp_path / "log.key"),
    )


@pytest.fixture
async def pool(database: str):
    """A connection pool on PostgreSQL, for tests whose work really runs in parallel there."""
    engine = db.current_engine()
    await engine.start_connection_pool(min_size=5, max_size=25)
    yield
    await engine.close_connection_pool()


@pytest.fixture
def ledger(database: str) -> LedgerService:
    return LedgerService()


@pytest.fixture
async def demo(database: str) -> None:
    """The demo programme, as `funding serve --demo` loads it on 2026-11-29."""
    assert await load_demo(today=date(2026, 11, 29))


@pytest.fixture
async def client(settings: Settings):
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
async def staff(database: str, ledger: LedgerService):
    """A client of an app whose staff API takes `STAFF_TOKEN`, with the chart of accounts open."""
    from tests.factories import STAFF_TOKEN, open_chart

    await open_chart(ledger)
    settings = Settings(database_url=database, secret_key="k", staff_api_token=STAFF_TOKEN, database_pool_size=0)
    async with AsyncTestClient(app=create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def live_server(database: str, tmp_path):
    """`funding serve --demo` on a free port with this test's database, stopped afterwards."""
    from tests.live import LiveServer

    with LiveServer(database, demo=True, log_path=tmp_path / "server.log") as server:
        yield server
