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


class MerkleNode(Table):
    """A complete subtree of the journal's Merkle tree (RFC 9162): the 2**level leaves from
    `position * 2**level` on. Written in the same transaction as the entry that completes it,
    never changed (database triggers refuse it); unique on level + position (see migrations)."""

    level = Integer(help_text="0 for a leaf (an entry), 1 for two leaves, 2 for four …", **REQUIRED)
    position = BigInt(help_text="Which subtree of its level, from 0: leaf position = seq - 1", **REQUIRED)
    hash = Varchar(length=64, help_text="SHA-256, hex", **REQUIRED)


class LogCheckpoint(Table):
    """A signed checkpoint (C2SP tlog-checkpoint in a signed note) as it was issued: the tree's
    size and root, kept forever so anyone can ask for proofs between any two of them."""

    tree_size = BigInt(unique=True, index=True, **REQUIRED)
    root_hash = Varchar(length=64, help_text="SHA-256, hex", **REQUIRED)
    note = Text(help_text="The signed note, byte for byte as published", **REQUIRED)
    issued_at = Timestamptz(**REQUIRED)


class LogCosignature(Table):
    """A witness's cosignature (C2SP tlog-cosignature) of a checkpoint this site issued, as the
    witness sent it; the first one per witness and checkpoint is kept, never changed."""

    tree_size = BigInt(index=True, help_text="The checkpoint cosigned", **REQUIRED)
    witness = Varchar(length=200, help_text="The witness's key name", **REQUIRED)
    cosigned_at = BigInt(help_text="The witness's timestamp: seconds since 1970", **REQUIRED)
    line = Text(help_text="The signature line, as it is appended to the checkpoint", **REQUIRED)
    received_at = Timestamptz(**REQUIRED)
