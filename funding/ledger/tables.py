from piccolo.columns import (
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table


class Account(Table):
    """An account of the chart (DESIGN.md): `assets:bank`, `expenses:salaries`, …"""

    name = Varchar(length=120, unique=True, index=True)
    kind = Varchar(length=16)  # assets, liabilities, income, expenses, equity: the name's root
    label = Varchar(length=200, default="")
    is_open = Boolean(default=True)
    opened_at = Timestamptz()


class JournalEntry(Table):
    """One business event. Never updated or deleted (database triggers refuse it)."""

    seq = BigInt(unique=True, index=True, help_text="1, 2, 3 … without gaps")
    occurred_on = Date()
    recorded_at = Timestamptz()
    kind = Varchar(length=40)
    description = Text()
    reference = Varchar(length=200, null=True, default=None)
    idempotency_key = Varchar(
        length=200, null=True, default=None, unique=True,
        help_text="Makes a business event book once however often it is processed",
    )
    reverses_seq = BigInt(
        null=True, default=None, unique=True, help_text="The entry this one reverses (at most once)"
    )
    prev_hash = Varchar(length=64)
    hash = Varchar(length=64, unique=True)


class Posting(Table):
    """One leg of an entry; the legs of an entry sum to zero. Debit positive, credit negative."""

    entry = ForeignKey(references=JournalEntry, index=True)
    position = Integer()
    account = ForeignKey(references=Account, index=True)
    amount_cents = BigInt(help_text="Euro cents; debit positive, credit negative")


class AccountMonthBalance(Table):
    """Running totals per account and month, kept in the same transaction as each append so
    public pages never sum the whole history (unique on account + month, see migrations)."""

    account = ForeignKey(references=Account)
    month = Date(help_text="First day of the month")
    amount_cents = BigInt(help_text="Euro cents; sum of the month's postings")
