"""The public hash chain (DESIGN.md): pure functions, no I/O, so anyone can re-implement them.

`hash = sha256_hex(canonical(entry))`, where canonical is the compact, key-sorted UTF-8 JSON of
seq, prev_hash, occurred_on, recorded_at, kind, description, reference and postings (in stored
order). Each entry names the hash of the one before it; the first names 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timezone

import msgspec

from funding.money import Money

GENESIS_HASH = "0" * 64


class PostingRecord(msgspec.Struct, frozen=True):
    account: str
    amount: int
    """Euro cents; debit positive, credit negative."""

    @property
    def debit(self) -> Money | None:
        return Money(self.amount) if self.amount > 0 else None

    @property
    def credit(self) -> Money | None:
        return Money(-self.amount) if self.amount < 0 else None


class EntryRecord(msgspec.Struct, frozen=True):
    """A journal entry as published (`/ledger.json`, the API) and as hashed."""

    seq: int
    prev_hash: str
    hash: str
    occurred_on: date
    recorded_at: str
    """UTC, whole seconds, with a `Z`: `2012-03-01T10:15:00Z`."""
    kind: str
    description: str
    reference: str | None
    postings: list[PostingRecord]
    reverses: int | None = None


class LedgerExport(msgspec.Struct):
    """The body of `/ledger.json`."""

    entries: list[EntryRecord]
    head_seq: int
    head_hash: str


def format_recorded_at(moment: datetime) -> str:
    """`2012-03-01T10:15:00Z`, for every entry read (isoformat: a third cheaper than strftime)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").removesuffix("+00:00") + "Z"


def canonical(
    *,
    seq: int,
    prev_hash: str,
    occurred_on: date,
    recorded_at: str,
    kind: str,
    description: str,
    reference: str | None,
    postings: Iterable[tuple[str, int]],
) -> bytes:
    obj = {
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_on": occurred_on.isoformat(),
        "recorded_at": recorded_at,
        "kind": kind,
        "description": description,
        "reference": reference,
        "postings": [{"account": account, "amount": amount} for account, amount in postings],
    }
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(**fields) -> str:
    return hashlib.sha256(canonical(**fields)).hexdigest()


def record_hash(entry: EntryRecord) -> str:
    return entry_hash(
        seq=entry.seq,
        prev_hash=entry.prev_hash,
        occurred_on=entry.occurred_on,
        recorded_at=entry.recorded_at,
        kind=entry.kind,
        description=entry.description,
        reference=entry.reference,
        postings=[(p.account, p.amount) for p in entry.postings],
    )


@dataclass
class Verification:
    """What verifying a chain found: `ok`, how far it got, and the first broken `seq`."""

    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None

    def feed(self, entry: EntryRecord) -> bool:
        """Check the next entry; False (and the first problem kept) once the chain is broken."""
        if not self.ok:
            return False
        expected_seq = self.head_seq + 1
        if entry.seq != expected_seq:
            return self._fail(expected_seq, f"expected seq {expected_seq}, found {entry.seq} (gap or reordering)")
        if entry.prev_hash != self.head_hash:
            return self._fail(entry.seq, "prev_hash does not match the hash of the entry before it")
        if sum(p.amount for p in entry.postings) != 0:
            return self._fail(entry.seq, "postings do not sum to zero")
        if record_hash(entry) != entry.hash:
            return self._fail(entry.seq, "hash does not match the entry's contents")
        self.checked += 1
        self.head_seq, self.head_hash = entry.seq, entry.hash
        return True

    def _fail(self, seq: int, problem: str) -> bool:
        self.first_bad_seq, self.problem = seq, problem
        return False


def verify(entries: Iterable[EntryRecord], expected_head: tuple[int, str] | None = None) -> Verification:
    """Verify a whole chain in seq order; `expected_head` also catches entries cut off the end."""
    result = Verification()
    for entry in entries:
        if not result.feed(entry):
            return result
    if expected_head is not None and expected_head != (result.head_seq, result.head_hash):
        seq, _ = expected_head
        result.first_bad_seq = min(seq, result.head_seq + 1)
        result.problem = f"the chain ends at seq {result.head_seq}, but its head says seq {seq}"
    return result
