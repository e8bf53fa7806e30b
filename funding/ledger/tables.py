from typing import Any

from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

# What the journal promises is said by the database too (see migrations 0002 and 0003): every
# reference is required and cannot dangle (RESTRICT), no column has a default that would let an
# incomplete row in, a posting is never zero, and an entry's postings sum to zero.
REQUIRED: dict[str, Any] = {"null": False, "default": None}
KEPT: dict[str, Any] = {"on_delete": OnDelete.restrict, "on_update": OnUpdate.restrict}


class Account(Table):
    """An account of the chart (DESIGN.md): `assets:bank`, `expenses:salaries`, …"""

    id: Serial  # Piccolo's default primary key, declared for type checkers
    name = Varchar(length=120, unique=True, index=True, **REQUIRED)
    kind = Varchar(length=16, **REQUIRED)  # assets, liabilities, income, expenses, equity: the name's root
    label = Varchar(length=200, default="")
    is_open = Boolean(default=True)
    opened_at = Timestamptz(**REQUIRED)


class JournalEntry(Table):
    """One business event. Never updated or deleted (database triggers refuse it)."""

    seq = BigInt(unique=True, index=True, help_text="1, 2, 3 … without gaps", **REQUIRED)
    occurred_on = Date(**REQUIRED)
    recorded_at = Timestamptz(**REQUIRED)
    kind = Varchar(length=40, **REQUIRED)
    description = Text(**REQUIRED)
    reference = Varchar(length=200, null=True, default=None)
    idempotency_key = Varchar(
        length=200,
        null=True,
        default=None,
        unique=True,
        help_text="Makes a business event book once however often it is processed",
    )
    reverses_seq = BigInt(null=True, default=None, unique=True, help_text="The entry this one reverses (at most once)")
    prev_hash = Varchar(length=64, **REQUIRED)
    hash = Varchar(length=64, unique=True, **REQUIRED)


class Posting(Table):
    """One leg of an entry; the legs of an entry sum to zero. Debit positive, credit negative.

    Postings are inserted before their entry (the reference is checked at commit); the entry's
    row seals them: the database refuses a posting for an entry that is already there."""

    entry = ForeignKey(references=JournalEntry, index=True, **REQUIRED, **KEPT)
    position = Integer(**REQUIRED)
    account = ForeignKey(references=Account, index=True, **REQUIRED, **KEPT)
    amount_cents = BigInt(help_text="Euro cents; debit positive, credit negative; never zero", **REQUIRED)


class AccountMonthBalance(Table):
    """Running totals per account and month, kept in the same transaction as each append so
    public pages never sum the whole history (unique on account + month, see migrations)."""

    account = ForeignKey(references=Account, **REQUIRED, **KEPT)
    month = Date(help_text="First day of the month", **REQUIRED)
    amount_cents = BigInt(help_text="Euro cents; sum of the month's postings", **REQUIRED)
