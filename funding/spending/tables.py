"""Expenses and their history. An approved expense is public through its journal entries (payee,
line, description); the row itself, its people and its receipt are staff's only, unless the
receipt is marked public."""

from enum import StrEnum

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from funding.accounts.tables import StaffUser
from funding.pledges.tables import KEPT, OPTIONAL, REQUIRED
from funding.programme.tables import BudgetPeriod


class ExpenseStatus(StrEnum):
    submitted = "submitted"
    """Recorded by a treasurer, waiting for an approver (nothing booked)."""
    approved = "approved"
    """Booked `Dr expenses:<line> / Cr liabilities:payables`."""
    rejected = "rejected"
    """Refused by an approver, with a reason (nothing booked)."""
    paid = "paid"
    """Also booked `Dr liabilities:payables / Cr assets:bank`."""
    reversed = "reversed"
    """What it booked is reversed in the journal (the entries stay, as every entry does)."""


class ReceiptType(StrEnum):
    pdf = "application/pdf"
    png = "image/png"
    jpeg = "image/jpeg"


class Expense(Table):
    """Money spent against a budget line. Its facts (payee, date, amount, line, description,
    receipt) are fixed once submitted (migration 0021); only its decision and bookings change."""

    id: Serial
    payee = Varchar(length=200, help_text="Public: named in the journal", **REQUIRED)
    occurred_on = Date(help_text="The day of the invoice or purchase; within the period", **REQUIRED)
    amount_cents = BigInt(help_text="Euro cents, more than zero", **REQUIRED)
    period = ForeignKey(references=BudgetPeriod, index=True, **REQUIRED, **KEPT)
    budget_line = Varchar(length=60, help_text="The line's code: books to expenses:<code>", **REQUIRED)
    description = Text(help_text="Public: in the journal", **REQUIRED)
    receipt_sha256 = Varchar(length=64, help_text="The stored file's name in the receipt store", **REQUIRED)
    receipt_media_type = Varchar(length=40, choices=ReceiptType, help_text="From the content, not the name", **REQUIRED)
    receipt_size = Integer(help_text="Bytes", **REQUIRED)
    receipt_filename = Varchar(length=200, help_text="As uploaded, checked; private (may name a person)", **REQUIRED)
    receipt_public = Boolean(default=False, help_text="Shown with the public ledger (no personal data in it)")
    status = Varchar(length=12, choices=ExpenseStatus, index=True, **REQUIRED)
    submitted_by = ForeignKey(references=StaffUser, **REQUIRED, **KEPT)
    submitted_at = Timestamptz(**REQUIRED)
    decided_by = ForeignKey(
        references=StaffUser, help_text="Approved or rejected it: never the submitter", **OPTIONAL, **KEPT
    )
    decided_at = Timestamptz(**OPTIONAL)
    override_by = ForeignKey(
        references=StaffUser,
        help_text="The second approver who allowed spending beyond the line's remaining budget",
        **OPTIONAL,
        **KEPT,
    )
    reason = Text(help_text="Why it was rejected or reversed", **REQUIRED)
    approved_seq = BigInt(help_text="The journal entry booking the approved expense", **OPTIONAL)
    paid_on = Date(**OPTIONAL)
    paid_seq = BigInt(help_text="The journal entry booking its payment", **OPTIONAL)
    reversal_seq = BigInt(help_text="The entry reversing `approved_seq`", **OPTIONAL)
    payment_reversal_seq = BigInt(help_text="The entry reversing `paid_seq`", **OPTIONAL)


class ExpenseEvent(Table):
    """An expense's history (append-only): who did what, when, from which status to which."""

    id: Serial
    expense = ForeignKey(references=Expense, index=True, **REQUIRED, **KEPT)
    at = Timestamptz(**REQUIRED)
    actor = ForeignKey(references=StaffUser, **REQUIRED, **KEPT)
    action = Varchar(length=30, **REQUIRED)
    from_status = Varchar(length=12, **REQUIRED)
    to_status = Varchar(length=12, **REQUIRED)
    note = Text(**REQUIRED)
