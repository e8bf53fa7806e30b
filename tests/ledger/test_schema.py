"""The database itself holds the journal's rules: SQL sent behind the service's back cannot make
the books unbalanced, leave a reference dangling or empty, or rewrite an entry in place."""

from __future__ import annotations

import sqlite3

import asyncpg
import pytest

from funding import db
from funding.ledger.chain import GENESIS_HASH
from tests.factories import book_contribution, open_chart

HASH = "a" * 64


async def sql(statement: str) -> list[dict]:
    return await db.current_engine().run_ddl(statement)


async def account_id(name: str) -> int:
    return (await sql(f"SELECT id FROM account WHERE name = '{name}'"))[0]["id"]


async def insert_entry(*, legs: list[int], entry_id: int = 100, seq: int = 1, prev: str = GENESIS_HASH) -> None:
    """Postings (to the bank, then income, then the bank again …) and their entry, in one
    transaction, as the service writes them."""
    accounts = [
        await account_id("assets:bank"),
        await account_id("income:contributions"),
        await account_id("assets:mollie"),
    ]
    async with db.write_transaction():
        for position, cents in enumerate(legs):
            await sql(
                "INSERT INTO posting (entry, position, account, amount_cents) "
                f"VALUES ({entry_id}, {position}, {accounts[position % 3]}, {cents})"
            )
        await sql(
            "INSERT INTO journal_entry (id, seq, occurred_on, recorded_at, kind, description, prev_hash, hash) "
            f"VALUES ({entry_id}, {seq}, '2026-03-01', '2026-03-01 10:00:00+00:00', 'direct', 'behind the service', "
            f"'{prev}', '{HASH}')"
        )


@pytest.fixture
async def chart(ledger):
    await open_chart(ledger)
    return ledger


async def test_a_balanced_entry_written_directly_is_accepted(chart):
    """The rules below refuse what is wrong, not what the service does."""
    await insert_entry(legs=[500, -500])
    assert (await chart.head()).seq == 1


@pytest.mark.parametrize(
    "legs", [[500, -400], [500], [], [500, -200, -200]], ids=["unbalanced", "one", "none", "three"]
)
async def test_an_unbalanced_or_lonely_entry_is_refused_by_the_database(chart, legs):
    with pytest.raises(Exception, match="unbalanced"):
        await insert_entry(legs=legs)
    assert (await chart.head()).seq == 0
    assert await sql("SELECT id FROM posting") == []


async def test_a_zero_posting_is_refused_by_the_database(chart):
    with pytest.raises(Exception, match=r"posting_amount_not_zero|CHECK"):
        await insert_entry(legs=[500, -500, 0])


async def test_postings_cannot_be_added_to_an_entry_that_is_already_there(chart):
    entry = await book_contribution(chart, 10)
    entry_id = (await sql(f"SELECT id FROM journal_entry WHERE seq = {entry.seq}"))[0]["id"]
    bank = await account_id("assets:mollie")
    for cents in (700, -700):
        with pytest.raises(Exception, match="sealed"):
            await sql(
                f"INSERT INTO posting (entry, position, account, amount_cents) VALUES ({entry_id}, 9, {bank}, {cents})"
            )
    assert (await chart.verify()).ok


async def test_a_posting_for_no_entry_is_refused_at_commit(chart, database, backend):
    """On its own connection: Piccolo's SQLite transaction leaves its connection open when COMMIT
    itself fails, which only SQL behind the service's back can make happen."""
    bank = await account_id("assets:bank")
    orphan = f"INSERT INTO posting (entry, position, account, amount_cents) VALUES (999, 0, {bank}, 100)"
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        if backend == "sqlite":
            connection = sqlite3.connect(db.sqlite_path(database), isolation_level=None)
            try:
                connection.execute("PRAGMA foreign_keys = ON")
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(orphan)
                connection.execute("COMMIT")
            finally:
                connection.close()
        else:
            connection = await asyncpg.connect(database)
            try:
                async with connection.transaction():
                    await connection.execute(orphan)
            finally:
                await connection.close()
    assert await sql("SELECT id FROM posting") == []


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO posting (entry, position, account, amount_cents) VALUES (NULL, 0, 1, 100)",
        "INSERT INTO posting (entry, position, amount_cents) VALUES (1, 0, 100)",
        "INSERT INTO journal_entry (occurred_on, recorded_at, kind, description, prev_hash, hash) "
        f"VALUES ('2026-03-01', '2026-03-01 10:00:00+00:00', 'x', 'no seq', '{GENESIS_HASH}', '{HASH}')",
        "INSERT INTO journal_entry (seq, occurred_on, recorded_at, kind, description, prev_hash) "
        f"VALUES (1, '2026-03-01', '2026-03-01 10:00:00+00:00', 'x', 'no hash', '{GENESIS_HASH}')",
        "INSERT INTO account_month_balance (account, month) VALUES (1, '2026-03-01')",
        "INSERT INTO budget_period (name, starts_on, ends_on) VALUES ('2026', '2026-01-01', '2026-12-31')",
        "INSERT INTO budget_line (code, name, amount_cents) VALUES ('x', 'x', 100)",
    ],
    ids=[
        "posting-null-entry",
        "posting-no-account",
        "entry-no-seq",
        "entry-no-hash",
        "total-no-amount",
        "period-no-programme",
        "line-no-period",
    ],
)
async def test_an_incomplete_row_is_refused_not_filled_with_a_default(chart, statement):
    with pytest.raises(Exception, match=r"(?i)not null|null value"):
        await sql(statement)


async def test_an_entry_dated_before_the_euro_is_refused_by_the_database(chart):
    entry = await book_contribution(chart, 10)
    bank = await account_id("assets:bank")
    income = await account_id("income:contributions")
    with pytest.raises(Exception, match=r"journal_entry_in_euro_era|CHECK"):
        async with db.write_transaction():
            await sql(f"INSERT INTO posting (entry, position, account, amount_cents) VALUES (50, 0, {bank}, 1)")
            await sql(f"INSERT INTO posting (entry, position, account, amount_cents) VALUES (50, 1, {income}, -1)")
            await sql(
                "INSERT INTO journal_entry (id, seq, occurred_on, recorded_at, kind, description, prev_hash, hash) "
                "VALUES (50, 2, '0001-01-01', '2026-03-01 10:00:00+00:00', 'x', 'year one', "
                f"'{entry.hash}', '{HASH}')"
            )


async def test_referenced_rows_cannot_be_deleted_out_from_under_the_journal(chart, demo):
    """RESTRICT, not CASCADE: deleting an account or a programme never takes entries or budget
    lines with it."""
    with pytest.raises(Exception, match=r"(?i)never deleted|foreign key|restrict"):
        await sql("DELETE FROM account WHERE name = 'assets:bank'")
    with pytest.raises(Exception, match=r"(?i)foreign key|restrict"):
        await sql("DELETE FROM programme")
    with pytest.raises(Exception, match=r"(?i)foreign key|restrict"):
        await sql("DELETE FROM budget_period")
    assert (await sql("SELECT count(*) AS n FROM budget_line"))[0]["n"] > 0


async def test_an_account_is_never_renamed(chart):
    await book_contribution(chart, 10)
    with pytest.raises(Exception, match="renamed"):
        await sql("UPDATE account SET name = 'assets:elsewhere' WHERE name = 'assets:bank'")
    await sql("UPDATE account SET label = 'Bankrekening' WHERE name = 'assets:bank'")  # labels may change


async def test_an_entry_posts_to_an_account_once(chart):
    bank = await account_id("assets:bank")
    income = await account_id("income:contributions")
    with pytest.raises(Exception, match=r"(?i)unique"):
        async with db.write_transaction():
            for position, (account, cents) in enumerate([(bank, 300), (bank, 200), (income, -500)]):
                await sql(
                    "INSERT INTO posting (entry, position, account, amount_cents) "
                    f"VALUES (70, {position}, {account}, {cents})"
                )


async def test_a_reversal_must_name_what_it_reverses_in_its_hashed_reference(chart):
    await book_contribution(chart, 10)
    with pytest.raises(Exception, match=r"journal_entry_reversal_named|CHECK"):
        await sql(
            "INSERT INTO journal_entry "
            "(id, seq, occurred_on, recorded_at, kind, description, reverses_seq, prev_hash, hash) "
            "VALUES (90, 2, '2026-03-01', '2026-03-01 10:00:00+00:00', 'payment', 'x', 1, "
            f"'{GENESIS_HASH}', '{HASH}')"
        )


# -- SQLite: INSERT OR REPLACE ------------------------------------------------------------------
@pytest.mark.parametrize("recursive_triggers", ["OFF", "ON"])
@pytest.mark.parametrize("foreign_keys", ["OFF", "ON"])
async def test_insert_or_replace_cannot_rewrite_an_entry_on_sqlite(
    chart, database, backend, recursive_triggers, foreign_keys
):
    """REPLACE deletes the row it replaces without firing DELETE triggers while
    `recursive_triggers` is off; the journal refuses it whatever the connection's pragmas."""
    if backend != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    original = await book_contribution(chart, 10)
    connection = sqlite3.connect(db.sqlite_path(database))
    try:
        connection.execute(f"PRAGMA recursive_triggers = {recursive_triggers}")
        connection.execute(f"PRAGMA foreign_keys = {foreign_keys}")
        entry_id, first_posting = connection.execute(
            "SELECT e.id, p.id FROM journal_entry e JOIN posting p ON p.entry = e.id ORDER BY p.position"
        ).fetchone()
        attempts = [
            "INSERT OR REPLACE INTO journal_entry "
            "(id, seq, occurred_on, recorded_at, kind, description, prev_hash, hash) "
            f"VALUES ({entry_id}, 1, '2026-03-01', '2026-03-01 10:00:00+00:00', 'x', 'rewritten', '{GENESIS_HASH}', "
            f"'{original.hash}')",
            f"REPLACE INTO posting (id, entry, position, account, amount_cents) "
            f"VALUES ({first_posting}, {entry_id}, 0, 1, 1000000)",
            "INSERT OR REPLACE INTO account (id, name, kind, label, is_open, opened_at) "
            "SELECT id, 'assets:elsewhere', kind, label, is_open, opened_at FROM account WHERE name = 'assets:bank'",
        ]
        for attempt in attempts:
            with pytest.raises(sqlite3.DatabaseError, match=r"append-only|sealed|never replaced"):
                connection.execute(attempt)
            connection.rollback()
    finally:
        connection.close()
    assert (await chart.verify()).ok
    assert await chart.entry(1) == original
