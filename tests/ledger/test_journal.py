"""The journal as accounting stories: what is booked, what is refused, and that refusals write nothing."""

from datetime import date

import pytest

from funding import db
from funding.ledger.service import (
    MAX_POSTING,
    CannotReverse,
    ClosedAccount,
    EntryNotFound,
    InvalidAmount,
    LedgerError,
    Leg,
    UnbalancedEntry,
    UnknownAccount,
)
from funding.ledger.tables import Account
from funding.money import Money
from tests.factories import book_contribution, book_salary, open_chart


@pytest.fixture
async def chart(ledger):
    await open_chart(ledger)
    return ledger


async def test_a_balanced_entry_is_numbered_chained_and_totalled(chart):
    first = await book_contribution(chart, 1000)
    second = await book_salary(chart, "250.50")
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == "0" * 64 and second.prev_hash == first.hash
    balances = await chart.balances()
    assert balances["assets:bank"] == Money.euros("749.50")
    assert balances["income:contributions"] == Money.euros(-1000)
    assert balances == await chart.balances_from_postings()
    assert (await chart.verify()).ok


async def test_an_entry_reads_back_exactly_as_it_was_hashed(chart):
    booked = await book_contribution(chart, "12.34", reference="RF18539007547034")
    assert await chart.entry(booked.seq) == booked


@pytest.mark.parametrize(
    ("legs", "error"),
    [
        ([Leg("assets:bank", Money(100)), Leg("income:contributions", Money(-99))], UnbalancedEntry),
        ([Leg("assets:bank", Money(100))], UnbalancedEntry),
        ([Leg("assets:bank", Money(0)), Leg("income:contributions", Money(0))], InvalidAmount),
        (
            [Leg("assets:bank", MAX_POSTING + Money(1)), Leg("income:contributions", -(MAX_POSTING + Money(1)))],
            InvalidAmount,
        ),
        ([Leg("assets:nowhere", Money(100)), Leg("income:contributions", Money(-100))], UnknownAccount),
        ([Leg("bogus", Money(100)), Leg("income:contributions", Money(-100))], UnknownAccount),
        ([Leg("assets:bank", 100), Leg("income:contributions", -100)], InvalidAmount),
    ],
    ids=["unbalanced", "one-leg", "zero", "too-large", "unknown-account", "malformed-account", "not-money"],
)
async def test_bad_entries_are_refused_and_nothing_is_written(chart, legs, error):
    await book_contribution(chart, 10)
    with pytest.raises(error):
        await chart.append(kind="test", description="bad", occurred_on=date(2026, 1, 1), legs=legs)
    assert (await chart.head()).seq == 1
    assert await chart.balances() == await chart.balances_from_postings()


async def test_an_entry_needs_a_kind_and_a_description(chart):
    legs = [Leg("assets:bank", Money(1)), Leg("income:contributions", Money(-1))]
    with pytest.raises(LedgerError):
        await chart.append(kind="", description="x", occurred_on=date(2026, 1, 1), legs=legs)
    with pytest.raises(LedgerError):
        await chart.append(kind="x", description="  ", occurred_on=date(2026, 1, 1), legs=legs)


async def test_a_closed_account_takes_no_postings(chart):
    await Account.update({Account.is_open: False}).where(Account.name == "income:contributions")
    with pytest.raises(ClosedAccount):
        await book_contribution(chart, 10)
    assert (await chart.head()).seq == 0


async def test_a_failure_half_way_rolls_back_the_whole_entry(chart, monkeypatch):
    async def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(type(chart), "_add_to_month_totals", broken)
    with pytest.raises(RuntimeError):
        await book_contribution(chart, 10)
    monkeypatch.undo()
    assert (await chart.head()).seq == 0
    assert await chart.balances_from_postings() == {}
    assert (await book_contribution(chart, 10)).seq == 1


async def test_reversal_undoes_an_entry_with_a_new_one(chart):
    original = await book_salary(chart, 6250)
    reversal = await chart.reverse(original.seq, reason="dubbel geboekt", occurred_on=date(2026, 3, 26))
    assert reversal.seq == 2 and reversal.reverses == 1 and reversal.kind == "reversal"
    assert reversal.reference == "reverses:1"
    assert [(p.account, p.amount) for p in reversal.postings] == [
        ("expenses:salaries", -625000),
        ("assets:bank", 625000),
    ]
    assert await chart.entry(1) == original  # history is untouched
    balances = await chart.balances()
    assert balances["expenses:salaries"] == Money(0) and balances["assets:bank"] == Money(0)


async def test_an_entry_is_reversed_at_most_once_and_reversals_are_not_reversed(chart):
    await book_salary(chart)
    await chart.reverse(1, reason="fout")
    with pytest.raises(CannotReverse):
        await chart.reverse(1, reason="nog eens")
    with pytest.raises(CannotReverse):
        await chart.reverse(2, reason="terug")
    with pytest.raises(CannotReverse):
        await chart.reverse(1, reason=" ")
    with pytest.raises(EntryNotFound):
        await chart.reverse(99, reason="bestaat niet")
    assert (await chart.head()).seq == 2


async def test_the_same_business_event_books_once(chart):
    first = await book_contribution(chart, 1000, idempotency_key="bank:line:42")
    again = await book_contribution(chart, 1000, idempotency_key="bank:line:42")
    assert again == first
    assert (await chart.head()).seq == 1


@pytest.mark.parametrize("table", ["journal_entry", "posting"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
async def test_the_database_itself_refuses_to_rewrite_history(chart, table, statement):
    await book_contribution(chart, 1000)
    with pytest.raises(Exception, match="append-only"):
        await db.current_engine().run_ddl(statement.format(table=table))
    assert (await chart.verify()).ok and (await chart.head()).seq == 1


async def test_truncate_is_refused_on_postgres(chart, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    await book_contribution(chart, 1000)
    with pytest.raises(Exception, match="append-only"):
        await db.current_engine().run_ddl("TRUNCATE posting")


async def test_pages_are_keyset_ranges(chart):
    for euros in range(1, 8):
        await book_contribution(chart, euros)
    assert [e.seq for e in (await chart.page(limit=3)).entries] == [7, 6, 5]
    assert [e.seq for e in (await chart.page(before=5, limit=3)).entries] == [4, 3, 2]
    assert [e.seq for e in await chart.entries_after(5, 10)] == [6, 7]
    newest, middle, after = (
        await chart.page(limit=3),
        await chart.page(before=5, limit=3),
        await chart.page(after=1, limit=3),
    )
    assert (newest.newer, newest.older, newest.head.seq) == (None, 5, 7)
    assert (middle.newer, middle.older, middle.head) == (4, 2, newest.head)
    assert ([e.seq for e in after.entries], after.newer, after.older) == ([4, 3, 2], 4, 2)
    empty = await chart.page(before=1, limit=3)
    assert (empty.entries, empty.newer, empty.older, empty.head) == ([], None, None, newest.head)
    with pytest.raises(LedgerError):
        await chart.entries_after(0, 10_000)
