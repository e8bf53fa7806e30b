"""`/ledger.json` read entry by entry: any chunking, any layout, and clear refusals."""

from __future__ import annotations

import json

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from funding.ledger.chain import LedgerExport
from funding.ledger.stream import ExportError, ExportReader
from tests.unit.test_chain import make_chain


def export_bytes(count: int = 4, **dumps) -> bytes:
    chain = make_chain(count)
    document = LedgerExport(entries=chain, head_seq=chain[-1].seq, head_hash=chain[-1].hash)
    if not dumps:
        return msgspec.json.encode(document)
    return json.dumps(msgspec.to_builtins(document), ensure_ascii=False, **dumps).encode()


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@given(size=st.integers(min_value=1, max_value=200), layout=st.sampled_from([{}, {"indent": 2}, {"indent": None}]))
def test_any_chunking_and_layout_reads_the_same_entries(size, layout):
    data = export_bytes(**layout)
    reader = ExportReader(chunked(data, size))
    entries = list(reader.entries())
    assert entries == make_chain(4)
    assert (reader.head_seq, reader.head_hash) == (4, entries[-1].hash)


def test_keys_in_another_order_and_unknown_keys_are_fine():
    document = json.loads(export_bytes())
    reordered = {"generated": "today", "entries": document["entries"], "head_hash": document["head_hash"]}
    reordered["head_seq"] = document["head_seq"]
    reader = ExportReader([json.dumps(reordered).encode()])
    assert len(list(reader.entries())) == 4 and reader.head_seq == 4


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"not json",
        b"[]",
        b'{"entries": [}',
        b'{"entries": [{"seq": "one"}], "head_seq": 1, "head_hash": "x"}',
        b'{"entries": [], "head_seq": 0}',
        b'{"entries": [], "head_seq": 0, "head_hash": "' + b"0" * 64 + b'"} trailing',
    ],
)
def test_what_is_not_an_export_is_refused(data):
    with pytest.raises(ExportError):
        list(ExportReader([data]).entries())


def test_an_empty_ledger_reads():
    reader = ExportReader([b'{"head_seq":0,"head_hash":"' + b"0" * 64 + b'","entries":[]}'])
    assert list(reader.entries()) == [] and reader.head_seq == 0
