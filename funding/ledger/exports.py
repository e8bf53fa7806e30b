"""Open-data renderings of the whole journal: JSON (the chain, verifiable), CSV (one row per
posting) and Beancount.

The web exports and `funding export` share these generators. Each reads the head first and
renders entries up to it, a chunk per entry, so a download is one consistent snapshot and memory
stays flat however long the ledger grows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from datetime import date

import msgspec

from funding.ledger.chain import EntryRecord
from funding.ledger.service import LedgerService
from funding.money import Money

CSV_COLUMNS = [
    "seq",
    "occurred_on",
    "recorded_at",
    "kind",
    "description",
    "reference",
    "reverses",
    "account",
    "amount_eur",
    "amount_cents",
    "hash",
    "prev_hash",
]


def csv_header() -> str:
    return _csv_line(CSV_COLUMNS)


def csv_rows(entry: EntryRecord) -> str:
    return "".join(
        _csv_line(
            [
                entry.seq,
                entry.occurred_on.isoformat(),
                entry.recorded_at,
                entry.kind,
                entry.description,
                entry.reference or "",
                entry.reverses or "",
                posting.account,
                f"{Money(posting.amount).to_decimal():.2f}",
                posting.amount,
                entry.hash,
                entry.prev_hash,
            ]
        )
        for posting in entry.postings
    )


def beancount_account(name: str) -> str:
    """`expenses:in-kind:magazine` → `Expenses:In-kind:Magazine` (Beancount wants capitals)."""
    return ":".join(part[:1].upper() + part[1:] for part in name.split(":"))


def beancount_opens(accounts: Iterable[tuple[str, str]], opened_on: str) -> str:
    lines = ['option "operating_currency" "EUR"', ""]
    lines += [f"{opened_on} open {beancount_account(name)} EUR" for name, _label in accounts]
    return "\n".join(lines) + "\n\n"


def beancount_transaction(entry: EntryRecord) -> str:
    lines = [
        f"{entry.occurred_on.isoformat()} * {json.dumps(entry.description, ensure_ascii=False)}",
        f"  seq: {entry.seq}",
        f'  hash: "{entry.hash}"',
        f"  kind: {json.dumps(entry.kind)}",
    ]
    if entry.reference:
        lines.append(f"  reference: {json.dumps(entry.reference, ensure_ascii=False)}")
    lines += [f"  {beancount_account(p.account):<50} {Money(p.amount).to_decimal():>14} EUR" for p in entry.postings]
    return "\n".join(lines) + "\n\n"


def _csv_line(values: list) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


async def json_chunks(ledger: LedgerService) -> AsyncIterator[bytes]:
    """`{"head_seq": …, "head_hash": …, "entries": […]}`, what `funding verify` reads."""
    head = await ledger.head()
    encode = msgspec.json.encode
    yield b'{"head_seq":' + encode(head.seq) + b',"head_hash":' + encode(head.hash) + b',"entries":['
    separator = b""
    async for entry in ledger.iter_snapshot(head.seq):
        yield separator + encode(entry)
        separator = b","
    yield b"]}"


async def csv_chunks(ledger: LedgerService) -> AsyncIterator[bytes]:
    head = await ledger.head()
    yield csv_header().encode()
    async for entry in ledger.iter_snapshot(head.seq):
        yield csv_rows(entry).encode()


async def beancount_chunks(ledger: LedgerService) -> AsyncIterator[bytes]:
    head = await ledger.head()
    accounts = [(a["name"], a["label"]) for a in await ledger.accounts()]
    first_day = await ledger.first_day() or date.today()
    yield beancount_opens(accounts, first_day.isoformat()).encode()
    async for entry in ledger.iter_snapshot(head.seq):
        yield beancount_transaction(entry).encode()


FORMATS = {"json": json_chunks, "csv": csv_chunks, "beancount": beancount_chunks}
