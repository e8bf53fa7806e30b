"""The public hash chain (DESIGN.md): pure functions, no I/O, so anyone can re-implement them.

`hash = sha256_hex(canonical(entry))`, where canonical is the compact, key-sorted UTF-8 JSON of
seq, prev_hash, occurred_on, recorded_at, kind, description, reference and postings (in stored
order). Each entry names the hash of the one before it; the first names 64 zeros.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

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
    return moment.astimezone(UTC).isoformat(timespec="seconds").removesuffix("+00:00") + "Z"


def canonical_object(
    *,
    seq: int,
    prev_hash: str,
    occurred_on: date,
    recorded_at: str,
    kind: str,
    description: str,
    reference: str | None,
    postings: Iterable[tuple[str, int]],
) -> dict:
    return {
        "seq": seq,
        "prev_hash": prev_hash,
        "occurred_on": occurred_on.isoformat(),
        "recorded_at": recorded_at,
        "kind": kind,
        "description": description,
        "reference": reference,
        "postings": [{"account": account, "amount": amount} for account, amount in postings],
    }


def canonical(**fields) -> bytes:
    """The bytes an entry's hash is taken of (DESIGN.md), as `canonical_reference` writes them."""
    return _CANONICAL.encode(canonical_object(**fields))


def canonical_reference(**fields) -> bytes:
    """The canonical form exactly as DESIGN.md defines it, with the standard library."""
    obj = canonical_object(**fields)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


_CANONICAL = msgspec.json.Encoder(order="sorted")
"""For these objects (text, integers, null) msgspec writes what `canonical_reference` writes,
byte for byte: sorted keys, no spaces, the same escapes (quote, backslash, the five short ones,
`\\u00XX` for other control characters) and everything else as UTF-8; only several times faster,
so `funding verify` hashes a million entries in seconds. tests/unit/test_chain.py holds the
two to each other over random text."""


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
    """What verifying a chain found: `ok`, how far it got, the first broken `seq`, and (from a
    database) the monthly totals that differ from their postings."""

    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    first_bad_seq: int | None = None
    problem: str = ""
    other_problems: list[str] = field(default_factory=list)
    """Faults outside the chain itself: monthly totals, postings that belong to no entry."""

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None and not self.other_problems

    def feed(self, entry: EntryRecord) -> bool:
        """Check the next entry; False (and the first problem kept) once the chain is broken."""
        if self.first_bad_seq is not None:
            return False
        expected_seq = self.head_seq + 1
        if entry.seq != expected_seq:
            return self._fail(expected_seq, f"expected seq {expected_seq}, found {entry.seq} (gap or reordering)")
        if entry.prev_hash != self.head_hash:
            return self._fail(entry.seq, "prev_hash does not match the hash of the entry before it")
        if len(entry.postings) < 2:
            return self._fail(entry.seq, f"has {len(entry.postings)} posting(s); an entry needs at least two")
        if sum(p.amount for p in entry.postings) != 0:
            return self._fail(entry.seq, "postings do not sum to zero")
        if record_hash(entry) != entry.hash:
            return self._fail(entry.seq, "hash does not match the entry's contents")
        if entry.reverses != reversed_seq(entry.kind, entry.reference) or (
            entry.reverses is not None and entry.reverses >= entry.seq
        ):
            return self._fail(
                entry.seq,
                f"reverses says {entry.reverses}, but the hashed kind and reference say "
                f"{reversed_seq(entry.kind, entry.reference)}",
            )
        self.checked += 1
        self.head_seq, self.head_hash = entry.seq, entry.hash
        return True

    def end(self, expected_head: tuple[int, str]) -> Verification:
        """After the last entry: the published head must be the entry the chain ended with, so an
        entry cut off the end (or hidden from the listing) is caught."""
        if self.first_bad_seq is None and expected_head != (self.head_seq, self.head_hash):
            seq, _ = expected_head
            self._fail(
                min(seq, self.head_seq + 1), f"the chain ends at seq {self.head_seq}, but its head says seq {seq}"
            )
        return self

    def _fail(self, seq: int, problem: str) -> bool:
        self.first_bad_seq, self.problem = seq, problem
        return False


REVERSAL_KIND = "reversal"
REVERSAL_REFERENCE = re.compile(r"reverses:([1-9][0-9]*)")


def reversal_reference(seq: int) -> str:
    return f"reverses:{seq}"


def reversed_seq(kind: str, reference: str | None) -> int | None:
    """Which entry an entry reverses, from its hashed fields: `reverses` is published beside
    them but not hashed, so it must agree with them."""
    if kind != REVERSAL_KIND or reference is None:
        return None
    match = REVERSAL_REFERENCE.fullmatch(reference)
    return int(match.group(1)) if match else None


def verify(entries: Iterable[EntryRecord], expected_head: tuple[int, str] | None = None) -> Verification:
    """Verify a whole chain in seq order; `expected_head` also catches entries cut off the end."""
    result = Verification()
    for entry in entries:
        if not result.feed(entry):
            return result
    return result.end(expected_head) if expected_head is not None else result
