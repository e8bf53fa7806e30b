"""On PostgreSQL the app connects as a role that owns nothing: the triggers that keep the journal
append-only are the owner's, and the app's role cannot drop, disable or get around them."""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from funding import db
from funding.demo import load_demo
from funding.ledger.log import LogService
from funding.ledger.notes import Signer
from funding.ledger.service import LedgerService
from tests.factories import book_contribution

pytestmark = pytest.mark.postgres_only
APP_ROLE = "funding_app_test"


def as_role(url: str, role: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port or 5432}"))


@pytest.fixture
async def app_url(database: str) -> str:
    """`funding migrate` run as the owner (DATABASE_OWNER_URL) for an app on `APP_ROLE`."""
    admin = await asyncpg.connect(database)
    try:
        await admin.execute(
            f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    finally:
        await admin.close()
    app = as_role(database, APP_ROLE)
    completed = subprocess.run(
        [sys.executable, "-m", "funding", "migrate"],
        env={**os.environ, "DATABASE_URL": app, "DATABASE_OWNER_URL": database},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert f"granted the app's role '{APP_ROLE}'" in completed.stdout
    db.bind(db.engine_for_url(app))
    return app


async def test_the_app_role_reads_and_appends(app_url):
    """What the app does every day works on its role: the demo, appends, reversals, verify."""
    assert await load_demo()
    ledger = LedgerService()
    entry = await book_contribution(ledger, 250)
    await ledger.reverse(entry.seq, reason="dubbel")
    assert (await ledger.verify()).ok
    log = LogService(Signer.generate("funding.test"))
    issued = await log.issue()
    assert issued is not None and issued.tree_size == (await ledger.head()).seq
    assert (await log.consistency(1, issued.tree_size)).new_root == issued.root_hash


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_entry SET description = 'herschreven'",
        "DELETE FROM posting",
        "TRUNCATE journal_entry CASCADE",
        "TRUNCATE posting",
        "ALTER TABLE journal_entry DISABLE TRIGGER journal_entry_append_only",
        "ALTER TABLE posting DISABLE TRIGGER ALL",
        "DROP TRIGGER posting_append_only ON posting",
        "ALTER TABLE journal_entry ADD COLUMN note text",
        "DROP TABLE posting",
        "CREATE TRIGGER sneak BEFORE INSERT ON posting FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()",
        "UPDATE migration SET name = 'x'",
        "UPDATE merkle_node SET hash = repeat('0', 64)",
        "DELETE FROM merkle_node",
        "TRUNCATE log_checkpoint",
        "ALTER TABLE merkle_node DISABLE TRIGGER merkle_node_append_only",
    ],
)
async def test_the_app_role_cannot_rewrite_or_unguard_the_journal(app_url, statement):
    ledger = LedgerService()
    await load_demo()
    before = await ledger.head()
    connection = await asyncpg.connect(app_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.execute(statement)
    finally:
        await connection.close()
    assert await ledger.head() == before and (await ledger.verify()).ok
