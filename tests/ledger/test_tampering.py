"""`funding verify` catches history rewritten behind the triggers' back."""

import json
import os
import subprocess
import sys
from datetime import date

import pytest

from funding import db
from tests.factories import book_contribution, open_chart


async def _disable_guard(backend: str, table: str) -> None:
    engine = db.current_engine()
    if backend == "postgresql":
        await engine.run_ddl(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
    else:
        await engine.run_ddl(f"DROP TRIGGER {table}_no_update")
        await engine.run_ddl(f"DROP TRIGGER {table}_no_delete")


@pytest.fixture
async def five_entries(ledger):
    await open_chart(ledger)
    for euros in (100, 200, 300, 400, 500):
        await book_contribution(ledger, euros)
    return ledger


class Verified:
    def __init__(self, completed: subprocess.CompletedProcess) -> None:
        self.exit_code = completed.returncode
        self.output = completed.stdout + completed.stderr


def run_verify(*args: str, database: str | None = None) -> Verified:
    """`funding verify` as an auditor runs it: a separate process."""
    env = {**os.environ, **({"DATABASE_URL": database} if database else {})}
    return Verified(
        subprocess.run(
            [sys.executable, "-m", "funding", "verify", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    )


async def test_intact_database_verifies(five_entries, database):
    result = run_verify(database=database)
    assert result.exit_code == 0, result.output
    assert "intact: 5 entries" in result.output


async def test_an_amount_changed_in_place_is_named_by_seq(five_entries, database, backend):
    await _disable_guard(backend, "posting")
    entry_id = (await db.current_engine().run_ddl("SELECT id FROM journal_entry WHERE seq = 3"))[0]["id"]
    await db.current_engine().run_ddl(f"UPDATE posting SET amount_cents = amount_cents * 10 WHERE entry = {entry_id}")
    assert (await five_entries.verify()).first_bad_seq == 3
    result = run_verify(database=database)
    assert result.exit_code == 1
    assert "seq 3" in result.output


async def test_a_deleted_entry_shows_as_a_gap(five_entries, backend):
    await _disable_guard(backend, "posting")
    await _disable_guard(backend, "journal_entry")
    engine = db.current_engine()
    entry_id = (await engine.run_ddl("SELECT id FROM journal_entry WHERE seq = 2"))[0]["id"]
    await engine.run_ddl(f"DELETE FROM posting WHERE entry = {entry_id}")
    await engine.run_ddl(f"DELETE FROM journal_entry WHERE id = {entry_id}")
    result = await five_entries.verify()
    assert result.first_bad_seq == 2 and "gap" in result.problem


async def test_an_export_file_verifies_and_a_tampered_one_names_the_seq(five_entries, client, tmp_path):
    response = await client.get("/ledger.json")
    export = response.json()
    good = tmp_path / "ledger.json"
    good.write_text(json.dumps(export))
    result = run_verify(str(good))
    assert result.exit_code == 0, result.output

    export["entries"][3]["description"] = "herschreven"
    bad = tmp_path / "tampered.json"
    bad.write_text(json.dumps(export))
    result = run_verify(str(bad))
    assert result.exit_code == 1 and "seq 4" in result.output

    del export["entries"][3:]
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(export))
    assert run_verify(str(cut)).exit_code == 1


def test_an_unreadable_source_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.json"
    junk.write_text("not json")
    result = run_verify(str(junk))
    assert result.exit_code != 0 and "cannot read a ledger export" in result.output


async def _disable_balance_check(backend: str) -> None:
    engine = db.current_engine()
    if backend == "postgresql":
        await engine.run_ddl("ALTER TABLE journal_entry DISABLE TRIGGER journal_entry_balanced")
    else:
        await engine.run_ddl("DROP TRIGGER journal_entry_balanced")


async def _append_behind_the_service(ledger, legs: list[tuple[str, int]]) -> int:
    """An entry with a correct hash and chain link, written with SQL instead of the service."""
    from funding.ledger.chain import entry_hash

    head = await ledger.head()
    seq, recorded_at = head.seq + 1, "2026-03-02T10:00:00Z"
    digest = entry_hash(
        seq=seq,
        prev_hash=head.hash,
        occurred_on=date(2026, 3, 2),
        recorded_at=recorded_at,
        kind="direct",
        description="behind the service",
        reference=None,
        postings=legs,
    )
    engine = db.current_engine()
    async with db.write_transaction():
        for position, (account, cents) in enumerate(legs):
            await engine.run_ddl(
                "INSERT INTO posting (entry, position, account, amount_cents) "
                f"SELECT 500, {position}, id, {cents} FROM account WHERE name = '{account}'"
            )
        await engine.run_ddl(
            "INSERT INTO journal_entry (id, seq, occurred_on, recorded_at, kind, description, prev_hash, hash) "
            f"VALUES (500, {seq}, '2026-03-02', '2026-03-02 10:00:00+00:00', 'direct', 'behind the service', "
            f"'{head.hash}', '{digest}')"
        )
    return seq


async def test_an_altered_monthly_total_is_named(five_entries, database):
    """The public cash figure is read from the monthly totals: verify recomputes them."""
    await db.current_engine().run_ddl(
        "UPDATE account_month_balance SET amount_cents = amount_cents + 100000000 "
        "WHERE account = (SELECT id FROM account WHERE name = 'assets:bank')"
    )
    result = run_verify(database=database)
    assert result.exit_code == 1
    assert "monthly total of assets:bank for 2026-03" in result.output
    assert "€ 1.001.500,00" in result.output or "1001500" in result.output.replace(".", "").replace(",", "")


async def test_a_tail_entry_without_postings_is_caught(five_entries, database, backend, client):
    await _disable_balance_check(backend)
    seq = await _append_behind_the_service(five_entries, [])
    assert (await client.get("/api/v1/ledger/head")).json()["seq"] == seq  # published …
    result = run_verify(database=database)
    assert result.exit_code == 1 and f"seq {seq}" in result.output  # … and caught
    assert "0 posting(s)" in result.output


async def test_an_unbalanced_entry_behind_the_service_is_caught(five_entries, database, backend):
    await _disable_balance_check(backend)
    seq = await _append_behind_the_service(five_entries, [("assets:bank", 500), ("income:contributions", -400)])
    result = run_verify(database=database)
    assert result.exit_code == 1 and f"seq {seq}" in result.output and "sum to zero" in result.output


async def test_an_export_whose_reverses_field_was_altered_is_caught(five_entries, client, tmp_path):
    await five_entries.reverse(2, reason="dubbel")
    export = (await client.get("/ledger.json")).json()
    assert export["entries"][5]["reverses"] == 2
    for tampered, value in (("moved", 3), ("hidden", None)):
        export["entries"][5]["reverses"] = value
        path = tmp_path / f"{tampered}.json"
        path.write_text(json.dumps(export))
        result = run_verify(str(path))
        assert result.exit_code == 1 and "seq 6" in result.output and "reverses" in result.output
    export["entries"][1]["reverses"] = 1  # an ordinary entry claiming to reverse another
    path = tmp_path / "claimed.json"
    path.write_text(json.dumps(export))
    assert run_verify(str(path)).exit_code == 1
