"""The hash chain as DESIGN.md publishes it, checked against an independent computation."""

import hashlib
import json
from datetime import UTC, date, datetime

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from funding.ledger.chain import (
    GENESIS_HASH,
    EntryRecord,
    PostingRecord,
    canonical,
    canonical_reference,
    format_recorded_at,
    record_hash,
    verify,
)


def make_chain(length: int) -> list[EntryRecord]:
    entries, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        draft = EntryRecord(
            seq=seq,
            prev_hash=prev,
            hash="",
            occurred_on=date(2026, 3, seq % 28 + 1),
            recorded_at="2026-03-01T10:15:00Z",
            kind="payment",
            description=f"Bijdrage {seq} – €",
            reference="tr_abc" if seq % 2 else None,
            postings=[PostingRecord("assets:mollie", 100_000), PostingRecord("assets:receivable:pledges", -100_000)],
        )
        entry = msgspec.structs.replace(draft, hash=record_hash(draft))
        entries.append(entry)
        prev = entry.hash
    return entries


def test_canonical_form_is_exactly_the_published_one():
    expected = {
        "seq": 12,
        "prev_hash": "a" * 64,
        "occurred_on": "2012-03-01",
        "recorded_at": "2012-03-01T10:15:00Z",
        "kind": "payment",
        "description": "Bijdrage – één",
        "reference": "tr_abc",
        "postings": [
            {"account": "assets:mollie", "amount": 100000},
            {"account": "assets:receivable:pledges", "amount": -100000},
        ],
    }
    ours = canonical(
        seq=12,
        prev_hash="a" * 64,
        occurred_on=date(2012, 3, 1),
        recorded_at="2012-03-01T10:15:00Z",
        kind="payment",
        description="Bijdrage – één",
        reference="tr_abc",
        postings=[("assets:mollie", 100000), ("assets:receivable:pledges", -100000)],
    )
    theirs = json.dumps(expected, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert ours == theirs
    assert hashlib.sha256(ours).hexdigest() == hashlib.sha256(theirs).hexdigest()


def test_intact_chain_verifies():
    result = verify(make_chain(5), expected_head=None)
    assert result.ok and result.checked == 5 and result.head_seq == 5


def test_changed_description_is_caught_at_its_seq():
    chain = make_chain(5)
    chain[2] = msgspec.structs.replace(chain[2], description="rewritten")
    result = verify(chain)
    assert (result.ok, result.first_bad_seq) == (False, 3)
    assert "hash" in result.problem


def test_rehashed_entry_breaks_the_next_link():
    chain = make_chain(5)
    forged = msgspec.structs.replace(chain[1], description="rewritten")
    chain[1] = msgspec.structs.replace(forged, hash=record_hash(forged))
    result = verify(chain)
    assert result.first_bad_seq == 3 and "prev_hash" in result.problem


def test_gap_in_seq_is_caught():
    chain = make_chain(5)
    del chain[2]
    result = verify(chain)
    assert result.first_bad_seq == 3 and "gap" in result.problem


def test_unbalanced_postings_are_caught_even_if_rehashed():
    chain = make_chain(3)
    bad = msgspec.structs.replace(chain[2], postings=[PostingRecord("assets:mollie", 5)])
    chain[2] = msgspec.structs.replace(bad, hash=record_hash(bad))
    assert verify(chain).first_bad_seq == 3


def test_entries_cut_off_the_end_are_caught_with_the_published_head():
    chain = make_chain(5)
    head = (chain[-1].seq, chain[-1].hash)
    result = verify(chain[:3], expected_head=head)
    assert result.first_bad_seq == 4


@given(st.datetimes(timezones=st.timezones(), min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30)))
def test_recorded_at_is_utc_to_the_second_with_a_z(moment):
    assert format_recorded_at(moment) == moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60)
"""Any text an entry can hold (lone surrogates cannot be stored or encoded as UTF-8 at all)."""


@given(
    seq=st.integers(min_value=1, max_value=2**53),
    kind=TEXT,
    description=TEXT,
    reference=st.none() | TEXT,
    postings=st.lists(st.tuples(TEXT, st.integers(min_value=-(10**11), max_value=10**11)), max_size=4),
)
def test_the_fast_canonical_form_is_byte_for_byte_the_published_one(seq, kind, description, reference, postings):
    fields = {
        "seq": seq,
        "prev_hash": "f" * 64,
        "occurred_on": date(2026, 1, 31),
        "recorded_at": "2026-01-31T23:59:59Z",
        "kind": kind,
        "description": description,
        "reference": reference,
        "postings": postings,
    }
    assert canonical(**fields) == canonical_reference(**fields)
