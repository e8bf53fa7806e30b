"""The journal service: the only way anything is written to the journal.

Appending validates the legs (whole cents, within bounds, open accounts, summing to zero), takes
the append lock, numbers the entry after the current head and chains its hash, and keeps the
monthly account totals in the same transaction. Corrections are reversing entries; there is no
update or delete, and the database refuses them too (see the migrations' triggers).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
import msgspec
from piccolo.engine.postgres import PostgresEngine

from funding.db import as_date, as_datetime, current_engine, fetch, is_postgres, lock_transaction, write_transaction
from funding.ledger import merkle
from funding.ledger.chain import (
    GENESIS_HASH,
    REVERSAL_KIND,
    EntryRecord,
    PostingRecord,
    Verification,
    format_recorded_at,
    record_hash,
    reversal_reference,
)
from funding.ledger.tables import Account, AccountMonthBalance, JournalEntry, MerkleNode, Posting
from funding.money import Money

ACCOUNT_ROOTS = ("assets", "liabilities", "income", "expenses", "equity")
MAX_POSTING = Money(100_000_000_000)
"""EUR 1 billion: far beyond any programme, small enough to catch a slipped decimal point."""
MAX_PAGE = 500
FIRST_DAY = date(1999, 1, 1)
"""The euro's first day: an amount in euro cents cannot have happened before it (the database
checks it too)."""
MAX_DAYS_AHEAD = 366
"""How far ahead of its booking an entry may be dated: a planned payment, not a typo'd year."""
VERIFY_BATCH = 5_000
"""Entries per query when verifying: ten times a page, a few MB, a fifth of the round trips."""
APPEND_LOCK = 20_120_301
"""The PostgreSQL advisory lock that serialises appends, so no two entries share a `seq`."""


class LedgerError(ValueError):
    """A journal request that breaks a rule; nothing was written."""


class UnbalancedEntry(LedgerError):
    pass


class UnknownAccount(LedgerError):
    pass


class ClosedAccount(LedgerError):
    pass


class InvalidAmount(LedgerError):
    pass


class EntryNotFound(LedgerError):
    pass


class CannotReverse(LedgerError):
    pass


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for a different entry."""


class AlreadyReversed(CannotReverse):
    """The entry was reversed before, for another reason: a correction is booked once."""


@dataclass(frozen=True, slots=True)
class Leg:
    """One side of an entry to append: debit positive, credit negative."""

    account: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Head:
    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the ledger, newest first, and the chain's head when it was read."""

    entries: list[EntryRecord]
    head: Head

    @property
    def newer(self) -> int | None:
        """Pass as `after` for the page before this one; None on the newest page."""
        return self.entries[0].seq if self.entries and self.entries[0].seq < self.head.seq else None

    @property
    def older(self) -> int | None:
        """Pass as `before` for the page after this one; None on the oldest page."""
        return self.entries[-1].seq if self.entries and self.entries[-1].seq > 1 else None


def check_text(what: str, value: str | None, max_length: int | None = None) -> None:
    """Text is stored as given, so every backend must be able to: no NUL (PostgreSQL cannot hold
    it), and no longer than its column."""
    if value is None:
        return
    if "\x00" in value:
        raise LedgerError(f"{what} contains a NUL character")
    if max_length is not None and len(value) > max_length:
        raise LedgerError(f"{what} is longer than {max_length} characters")


def account_kind(name: str) -> str:
    check_text("account name", name, 120)
    root, _, rest = name.partition(":")
    if root not in ACCOUNT_ROOTS or not rest or any(not part for part in rest.split(":")):
        raise UnknownAccount(f"account {name!r} is not of the form <{'|'.join(ACCOUNT_ROOTS)}>:<name>[:<name>…]")
    return root


def validate_legs(legs: Sequence[Leg]) -> None:
    """The rules an entry must meet before it may be appended (pure, no I/O). Each account
    appears once: two postings to one account say nothing that their sum does not (the database
    holds the entry to it as well)."""
    if len(legs) < 2:
        raise UnbalancedEntry("an entry needs at least two postings")
    for leg in legs:
        if not isinstance(leg.amount, Money):
            raise InvalidAmount(f"amount for {leg.account} is not Money: {leg.amount!r}")
        if leg.amount.cents == 0:
            raise InvalidAmount(f"posting to {leg.account} is zero")
        if abs(leg.amount) > MAX_POSTING:
            raise InvalidAmount(f"posting to {leg.account} exceeds {MAX_POSTING}")
        account_kind(leg.account)
    imbalance = sum(leg.amount.cents for leg in legs)
    if imbalance != 0:
        raise UnbalancedEntry(f"postings sum to {Money(imbalance)}, not zero")
    twice = sorted({leg.account for leg in legs if sum(other.account == leg.account for other in legs) > 1})
    if twice:
        raise LedgerError(f"{', '.join(twice)} appear(s) more than once: post each account's total once")


def validate_date(occurred_on: date, today: date) -> None:
    if not isinstance(occurred_on, date) or isinstance(occurred_on, datetime):
        raise LedgerError(f"occurred_on must be a date, not {occurred_on!r}")
    if occurred_on < FIRST_DAY:
        raise LedgerError(f"occurred_on {occurred_on} is before the euro existed ({FIRST_DAY})")
    if (occurred_on - today).days > MAX_DAYS_AHEAD:
        raise LedgerError(f"occurred_on {occurred_on} is more than a year ahead")


def _month(day: date) -> date:
    return day.replace(day=1)


class LedgerService:
    """Appends to and reads from the journal."""

    # -- accounts -----------------------------------------------------------------------------
    async def open_account(self, name: str, label: str = "") -> None:
        """Open `name` if it is not there yet (idempotent)."""
        kind = account_kind(name)
        check_text("label", label, 200)
        async with write_transaction():
            exists = await Account.exists().where(Account.name == name)
            if not exists:
                await Account.insert(Account(name=name, kind=kind, label=label, is_open=True, opened_at=_now()))

    async def accounts(self) -> list[dict]:
        return await Account.select(Account.name, Account.kind, Account.label, Account.is_open).order_by(Account.name)

    # -- appending ----------------------------------------------------------------------------
    async def append(
        self,
        *,
        kind: str,
        description: str,
        occurred_on: date,
        legs: Sequence[Leg],
        reference: str | None = None,
        idempotency_key: str | None = None,
        reverses_seq: int | None = None,
    ) -> EntryRecord:
        """Append one entry, or return the one already booked under `idempotency_key`."""
        kind, description = kind.strip(), description.strip()
        if not kind or len(kind) > 40:
            raise LedgerError("kind must be 1–40 characters")
        if not description:
            raise LedgerError("an entry needs a description")
        check_text("kind", kind)
        check_text("description", description)
        check_text("reference", reference, 200)
        check_text("idempotency key", idempotency_key, 200)
        if (kind == REVERSAL_KIND) != (reverses_seq is not None):
            raise LedgerError(f"kind {REVERSAL_KIND!r} is for reversals only: reverse the entry instead")
        if reverses_seq is not None and reference != reversal_reference(reverses_seq):
            raise LedgerError(f"a reversal's reference is {reversal_reference(reverses_seq)!r}")
        validate_legs(legs)
        recorded = _now()
        validate_date(occurred_on, recorded.date())
        async with write_transaction():
            await lock_transaction(APPEND_LOCK)
            if idempotency_key is not None:
                existing = (
                    await JournalEntry.select(JournalEntry.seq)
                    .where(JournalEntry.idempotency_key == idempotency_key)
                    .first()
                )
                if existing:
                    booked = await self.entry(existing["seq"])
                    if _contents(booked) != (kind, description, occurred_on, reference, _legs(legs)):
                        raise IdempotencyConflict(
                            f"idempotency key {idempotency_key!r} was used for a different entry (#{booked.seq})"
                        )
                    return booked
            if reverses_seq is not None and await JournalEntry.exists().where(
                JournalEntry.reverses_seq == reverses_seq
            ):
                raise AlreadyReversed(f"entry {reverses_seq} has already been reversed")
            account_ids = await self._open_account_ids({leg.account for leg in legs})
            head = await self.head()
            draft = EntryRecord(
                seq=head.seq + 1,
                prev_hash=head.hash,
                hash="",
                occurred_on=occurred_on,
                recorded_at=format_recorded_at(recorded),
                kind=kind,
                description=description,
                reference=reference,
                reverses=reverses_seq,
                postings=[PostingRecord(account=leg.account, amount=leg.amount.cents) for leg in legs],
            )
            record = msgspec.structs.replace(draft, hash=record_hash(draft))
            # Postings first: the entry's row seals them (the database refuses later ones).
            entry_id = await _next_entry_id()
            await Posting.insert(
                *[
                    Posting(
                        entry=entry_id,
                        position=position,
                        account=account_ids[leg.account],
                        amount_cents=leg.amount.cents,
                    )
                    for position, leg in enumerate(legs)
                ]
            )
            await JournalEntry.insert(
                JournalEntry(
                    id=entry_id,
                    seq=record.seq,
                    occurred_on=occurred_on,
                    recorded_at=recorded,
                    kind=kind,
                    description=description,
                    reference=reference,
                    idempotency_key=idempotency_key,
                    reverses_seq=reverses_seq,
                    prev_hash=record.prev_hash,
                    hash=record.hash,
                )
            )
            await self._add_to_month_totals(occurred_on, legs, account_ids)
            await grow_tree(record.seq - 1, merkle.leaf_hash(record.hash))
        return record

    async def reverse(
        self, seq: int, *, reason: str, occurred_on: date | None = None, idempotency_key: str | None = None
    ) -> EntryRecord:
        """Undo entry `seq` with a new entry of opposite postings; history stays as it was.

        An entry is reversed once. Asking again for the same reason (a retry) returns the
        reversal already booked; another reason is refused, naming that reversal."""
        reason = reason.strip()
        if not reason:
            raise CannotReverse("a reversal needs a reason")
        original = await self.entry(seq)
        if original.reverses is not None:
            raise CannotReverse(f"entry {seq} is itself a reversal; book a new entry instead")
        description = f"Correctie van boeking {seq}: {reason}"
        booked = await self._reversal_of(seq)
        if booked is not None and idempotency_key is None:
            if booked.description != description:
                raise AlreadyReversed(f"entry {seq} was already reversed by entry {booked.seq}: {booked.description}")
            return booked
        return await self.append(
            kind=REVERSAL_KIND,
            description=description,
            occurred_on=occurred_on or (booked.occurred_on if booked else date.today()),
            legs=[Leg(p.account, Money(-p.amount)) for p in original.postings],
            reference=reversal_reference(seq),
            idempotency_key=idempotency_key,
            reverses_seq=seq,
        )

    async def _reversal_of(self, seq: int) -> EntryRecord | None:
        row = await JournalEntry.select(JournalEntry.seq).where(JournalEntry.reverses_seq == seq).first()
        return await self.entry(row["seq"]) if row else None

    async def _open_account_ids(self, names: set[str]) -> dict[str, int]:
        rows = await Account.select(Account.id, Account.name, Account.is_open).where(Account.name.is_in(sorted(names)))
        found = {row["name"]: row for row in rows}
        missing = sorted(names - found.keys())
        if missing:
            raise UnknownAccount(f"unknown account(s): {', '.join(missing)}")
        closed = sorted(name for name, row in found.items() if not row["is_open"])
        if closed:
            raise ClosedAccount(f"closed account(s): {', '.join(closed)}")
        return {name: row["id"] for name, row in found.items()}

    async def _add_to_month_totals(self, occurred_on: date, legs: Sequence[Leg], account_ids: dict[str, int]) -> None:
        per_account: dict[int, int] = defaultdict(int)
        for leg in legs:
            per_account[account_ids[leg.account]] += leg.amount.cents
        for account_id, cents in per_account.items():
            await AccountMonthBalance.raw(
                "INSERT INTO account_month_balance (account, month, amount_cents) VALUES ({}, {}, {}) "
                "ON CONFLICT (account, month) DO UPDATE "
                "SET amount_cents = account_month_balance.amount_cents + excluded.amount_cents",
                account_id,
                _month(occurred_on),
                cents,
            )

    # -- reading ------------------------------------------------------------------------------
    async def head(self) -> Head:
        row = (
            await JournalEntry.select(JournalEntry.seq, JournalEntry.hash)
            .order_by(JournalEntry.seq, ascending=False)
            .first()
        )
        return Head(row["seq"], row["hash"]) if row else Head(0, GENESIS_HASH)

    async def booked(self, idempotency_key: str) -> EntryRecord | None:
        """The entry booked under `idempotency_key`, if there is one."""
        row = await JournalEntry.select(JournalEntry.seq).where(JournalEntry.idempotency_key == idempotency_key).first()
        return await self.entry(row["seq"]) if row else None

    async def entry(self, seq: int) -> EntryRecord:
        entries = await self._records("seq = {}", [seq], ascending=True, limit=1)
        if not entries:
            raise EntryNotFound(f"there is no entry {seq}")
        return entries[0]

    async def entries_after(self, after: int = 0, limit: int = 100) -> list[EntryRecord]:
        """Oldest first, from `after` on (keyset, never OFFSET)."""
        return await self._records("seq > {}", [after], ascending=True, limit=_page(limit))

    async def page(self, *, before: int | None = None, after: int | None = None, limit: int = 50) -> Page:
        """The entries just before `before`, or just after `after`, or the newest, newest first,
        with the head, in one query."""
        if after is not None:
            condition, args, ascending = "seq > {}", [after], True
        elif before is not None:
            condition, args, ascending = "seq < {}", [before], False
        else:
            condition, args, ascending = "TRUE", [], False
        rows = await self._rows(condition, args, ascending=ascending, limit=_page(limit), with_head=True)
        entries = _entries(rows)
        if ascending:
            entries.reverse()
        return Page(entries, Head(rows[0]["head_seq"], rows[0]["head_hash"]) if rows else await self.head())

    async def iter_entries(self, batch: int = MAX_PAGE) -> AsyncGenerator[EntryRecord, None]:
        """The whole chain in seq order, in batches: memory stays flat however long it is."""
        after = 0
        while True:
            entries = await self._records("seq > {}", [after], ascending=True, limit=batch)
            for entry in entries:
                yield entry
            if len(entries) < batch:
                return
            after = entries[-1].seq

    async def iter_snapshot(self, head_seq: int) -> AsyncIterator[EntryRecord]:
        """The chain up to `head_seq`: one consistent document even while entries are appended."""
        async for entry in self.iter_entries():
            if entry.seq > head_seq:
                return
            yield entry

    async def first_day(self) -> date | None:
        rows = await JournalEntry.select(JournalEntry.occurred_on).order_by(JournalEntry.occurred_on).limit(1)
        return rows[0]["occurred_on"] if rows else None

    async def verify(self) -> Verification:
        """Every entry row (postings or not) in seq order, up to the head the API publishes;
        then the monthly totals every public figure is read from, recomputed from the postings,
        and postings that belong to no entry."""
        result = Verification()
        # The totals are summed by the database while Python hashes the chain (two cores).
        totals = asyncio.ensure_future(asyncio.gather(self._month_total_differences(), self._orphan_postings()))
        entries = _iter_entries_postgres(VERIFY_BATCH) if is_postgres() else self.iter_entries(VERIFY_BATCH)
        try:
            async with contextlib.aclosing(entries):  # its connection goes back now, not at exit
                async for entry in entries:
                    if not result.feed(entry):
                        return result
            head = await self.head()
            result.end((head.seq, head.hash))
            months, orphans = await totals
        finally:
            if not totals.done():
                totals.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await totals
        result.other_problems += months + orphans
        return result

    async def _month_total_differences(self) -> list[str]:
        month = "date_trunc('month', e.occurred_on)::date" if is_postgres() else "strftime('%Y-%m-01', e.occurred_on)"
        summed = await Posting.raw(
            f"SELECT a.name AS account, {month} AS month, SUM(p.amount_cents) AS cents FROM posting p "
            "JOIN journal_entry e ON e.id = p.entry JOIN account a ON a.id = p.account GROUP BY 1, 2"
        )
        stored = await AccountMonthBalance.raw(
            "SELECT a.name AS account, b.month AS month, b.amount_cents AS cents "
            "FROM account_month_balance b JOIN account a ON a.id = b.account"
        )
        expected = {(row["account"], as_date(row["month"])): int(row["cents"]) for row in summed}
        found = {(row["account"], as_date(row["month"])): int(row["cents"]) for row in stored}
        return [
            f"monthly total of {account} for {month:%Y-%m} says {Money(found.get(key, 0))}, "
            f"its postings sum to {Money(expected.get(key, 0))}"
            for key in sorted(expected.keys() | found.keys())
            for account, month in [key]
            if expected.get(key, 0) != found.get(key, 0)
        ]

    async def _orphan_postings(self) -> list[str]:
        rows = await Posting.raw(
            "SELECT count(*) AS n FROM posting p LEFT JOIN journal_entry e ON e.id = p.entry WHERE e.id IS NULL"
        )
        count = int(rows[0]["n"])
        return [f"{count} posting(s) belong to no entry"] if count else []

    async def _records(self, condition: str, args: Sequence, *, ascending: bool, limit: int) -> list[EntryRecord]:
        return _entries(await self._rows(condition, args, ascending=ascending, limit=limit))

    async def _rows(
        self, condition: str, args: Sequence, *, ascending: bool, limit: int, with_head: bool = False
    ) -> list[dict]:
        """Entries matching `condition` on `seq` joined to their postings, a row per posting (one
        with no account for an entry without any, which only tampering can make), in
        one indexed query: the page of entries is chosen first (keyset, never OFFSET), then
        joined. `with_head` adds the chain head's `head_seq` and `head_hash` to every row."""
        order = "ASC" if ascending else "DESC"
        head_columns, head_join = "", ""
        if with_head:
            head_columns = ", h.seq AS head_seq, h.hash AS head_hash"
            head_join = " CROSS JOIN (SELECT seq, hash FROM journal_entry ORDER BY seq DESC LIMIT 1) h"
        return await JournalEntry.raw(
            "SELECT e.id, e.seq, e.prev_hash, e.hash, e.occurred_on, e.recorded_at, e.kind, "
            f"e.description, e.reference, e.reverses_seq, a.name AS account, p.amount_cents{head_columns} "
            f"FROM (SELECT * FROM journal_entry WHERE {condition} ORDER BY seq {order} LIMIT {int(limit)}) e "
            f"LEFT JOIN posting p ON p.entry = e.id LEFT JOIN account a ON a.id = p.account{head_join} "
            f"ORDER BY e.seq {order}, p.position",
            *args,
        )

    # -- balances -----------------------------------------------------------------------------
    async def balances(self, start: date | None = None, end: date | None = None) -> dict[str, Money]:
        """Each account's balance over the months from `start` to `end` (inclusive)."""
        during, _closing = await self.period_balances(start or date.min, end or date.max)
        return during

    async def period_balances(self, start: date, end: date) -> tuple[dict[str, Money], dict[str, Money]]:
        """Each account's movement during the months from `start` to `end`, and its closing
        balance at `end`, in one query over the monthly totals: the cost grows with accounts ×
        months, never with entries."""
        rows = await fetch(
            "SELECT a.name AS name, "
            "SUM(CASE WHEN b.month >= {} THEN b.amount_cents END) AS during, "
            "SUM(b.amount_cents) AS closing "
            "FROM account_month_balance b JOIN account a ON a.id = b.account "
            "WHERE b.month <= {} GROUP BY a.name",
            _month(start),
            _month(end),
        )
        during = {row["name"]: Money(int(row["during"])) for row in rows if row["during"] is not None}
        closing = {row["name"]: Money(int(row["closing"])) for row in rows}
        return during, closing

    async def balances_from_postings(self) -> dict[str, Money]:
        """The same balances summed from every posting: slow, for audits and tests only."""
        rows = await Posting.raw(
            "SELECT a.name AS name, SUM(p.amount_cents) AS cents FROM posting p "
            "JOIN account a ON a.id = p.account GROUP BY a.name"
        )
        return {row["name"]: Money(int(row["cents"])) for row in rows}


VERIFY_QUERY = """
    SELECT e.seq, e.prev_hash, e.hash, e.occurred_on, e.recorded_at, e.kind, e.description, e.reference,
        e.reverses_seq,
        array_agg(p.account ORDER BY p.position) FILTER (WHERE p.id IS NOT NULL) AS accounts,
        array_agg(p.amount_cents ORDER BY p.position) FILTER (WHERE p.id IS NOT NULL) AS amounts
    FROM (SELECT * FROM journal_entry WHERE seq > $1 ORDER BY seq LIMIT $2) e
    LEFT JOIN posting p ON p.entry = e.id
    GROUP BY e.id, e.seq, e.prev_hash, e.hash, e.occurred_on, e.recorded_at, e.kind, e.description,
        e.reference, e.reverses_seq
    ORDER BY e.seq
"""
"""One row per entry, its postings' accounts and amounts as arrays: a fifth of the rows `_rows`
returns, decoded by asyncpg itself (verifying a million entries is mostly reading them)."""


async def _iter_entries_postgres(batch: int) -> AsyncGenerator[EntryRecord, None]:
    """The whole chain in seq order on PostgreSQL, straight from asyncpg, in batches."""
    engine = current_engine()
    assert isinstance(engine, PostgresEngine)
    pool = engine.pool
    connection = await pool.acquire() if pool is not None else await asyncpg.connect(**engine.config)
    try:
        names = {row["id"]: row["name"] for row in await connection.fetch("SELECT id, name FROM account")}
        after = 0
        while True:
            rows = await connection.fetch(VERIFY_QUERY, after, batch)
            for row in rows:
                accounts, amounts = row["accounts"] or [], row["amounts"] or []
                yield EntryRecord(
                    seq=row["seq"],
                    prev_hash=row["prev_hash"],
                    hash=row["hash"],
                    occurred_on=row["occurred_on"],
                    recorded_at=format_recorded_at(row["recorded_at"]),
                    kind=row["kind"],
                    description=row["description"],
                    reference=row["reference"],
                    reverses=row["reverses_seq"],
                    postings=[PostingRecord(names[a], amount) for a, amount in zip(accounts, amounts, strict=True)],
                )
            if len(rows) < batch:
                return
            after = rows[-1]["seq"]
    finally:
        if pool is not None:
            await pool.release(connection)
        else:
            await connection.close()


def _entries(rows: list[dict]) -> list[EntryRecord]:
    """Entries from `_rows`' rows, a row per posting in entry order."""
    entries: list[EntryRecord] = []
    for row in rows:
        if not entries or entries[-1].seq != row["seq"]:
            entries.append(
                EntryRecord(
                    seq=row["seq"],
                    prev_hash=row["prev_hash"],
                    hash=row["hash"],
                    occurred_on=as_date(row["occurred_on"]),
                    recorded_at=format_recorded_at(as_datetime(row["recorded_at"])),
                    kind=row["kind"],
                    description=row["description"],
                    reference=row["reference"],
                    reverses=row["reverses_seq"],
                    postings=[],
                )
            )
        if row["account"] is not None:  # an entry without postings (which verify reports)
            entries[-1].postings.append(PostingRecord(account=row["account"], amount=row["amount_cents"]))
    return entries


def _legs(legs: Sequence[Leg]) -> list[tuple[str, int]]:
    return [(leg.account, leg.amount.cents) for leg in legs]


def _contents(entry: EntryRecord) -> tuple:
    """What an entry says, without its place in the chain: to compare a retry with the original."""
    postings = [(p.account, p.amount) for p in entry.postings]
    return (entry.kind, entry.description, entry.occurred_on, entry.reference, postings)


class TreeOutOfStep(LedgerError):
    """The stored Merkle tree lacks a node an append needs: it is not the tree of the journal."""


async def tree_nodes(nodes: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
    """The stored hashes of `nodes` (complete subtrees), in one indexed query; missing ones are
    left out."""
    if not nodes:
        return {}
    # ORed equalities, which both databases answer from the unique index (level, position).
    wanted = " OR ".join(
        f"(level = {int(level)} AND position = {int(position)})" for level, position in sorted(set(nodes))
    )
    rows = await MerkleNode.raw(f"SELECT level, position, hash FROM merkle_node WHERE {wanted}")
    return {(int(row["level"]), int(row["position"])): bytes.fromhex(row["hash"]) for row in rows}


async def grow_tree(index: int, leaf: bytes) -> None:
    """Store leaf `index` and the complete subtrees it completes: at most log2(n) rows, from as
    many stored siblings on the tree's right edge (one query each way), whatever the size."""
    wanted = merkle.siblings_for_append(index)
    siblings = await tree_nodes(wanted)
    if len(siblings) != len(wanted):
        raise TreeOutOfStep(f"the Merkle tree lacks nodes {sorted(set(wanted) - siblings.keys())} for leaf {index}")
    await MerkleNode.insert(
        *[
            MerkleNode(level=level, position=position, hash=digest.hex())
            for (level, position), digest in merkle.new_nodes(index, leaf, siblings)
        ]
    )


async def _next_entry_id() -> int:
    """The id the next entry's row will have, so its postings can name it before it exists
    (the append lock is held: no other writer takes it)."""
    if is_postgres():
        rows = await JournalEntry.raw("SELECT nextval(pg_get_serial_sequence('journal_entry', 'id')) AS id")
    else:
        rows = await JournalEntry.raw("SELECT coalesce(max(id), 0) + 1 AS id FROM journal_entry")
    return int(rows[0]["id"])


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _page(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise LedgerError(f"limit must be between 1 and {MAX_PAGE}")
    return limit
