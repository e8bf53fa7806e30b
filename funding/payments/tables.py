"""Mollie payment attempts and what each one booked. Private: the journal holds the public side
(amounts and `tr_` references, never who paid)."""

from enum import StrEnum

from piccolo.columns import BigInt, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.table import Table

from funding.pledges.tables import KEPT, OPTIONAL, REQUIRED, Pledge


class PaymentStatus(StrEnum):
    """Mollie's payment statuses, plus `new`: stored, not yet accepted by Mollie."""

    new = "new"
    open = "open"
    pending = "pending"
    authorized = "authorized"
    paid = "paid"
    failed = "failed"
    canceled = "canceled"
    expired = "expired"


FINAL_STATUSES = (PaymentStatus.paid, PaymentStatus.failed, PaymentStatus.canceled, PaymentStatus.expired)
UNFINISHED_STATUSES = (PaymentStatus.new, PaymentStatus.open, PaymentStatus.pending, PaymentStatus.authorized)


class BookingKind(StrEnum):
    paid = "paid"
    refund = "refund"
    refund_undone = "refund_undone"
    """A booked refund that Mollie later reported failed or canceled: the money is back."""
    chargeback = "chargeback"
    chargeback_reversed = "chargeback_reversed"


class MolliePayment(Table):
    """One attempt to pay a pledge online; a pledge may have several."""

    id: Serial
    pledge = ForeignKey(references=Pledge, index=True, **REQUIRED, **KEPT)
    attempt = Integer(help_text="1, 2, … per pledge", **REQUIRED)
    idempotency_key = Varchar(length=80, unique=True, help_text="stored before the create call", **REQUIRED)
    mollie_id = Varchar(length=40, unique=True, help_text="tr_…, once Mollie accepted the payment", **OPTIONAL)
    amount_cents = BigInt(**REQUIRED)
    currency = Varchar(length=3, **REQUIRED)
    status = Varchar(length=20, choices=PaymentStatus, **REQUIRED)
    checkout_url = Varchar(length=500, **OPTIONAL)
    created_at = Timestamptz(**REQUIRED)
    synced_at = Timestamptz(help_text="the last sync that booked or moved the status", **OPTIONAL)


class MollieBooking(Table):
    """What a payment booked, once per Mollie object and kind (append-only): the unique key is
    what makes a webhook delivered twice book once."""

    id: Serial
    payment = ForeignKey(references=MolliePayment, index=True, **REQUIRED, **KEPT)
    key = Varchar(length=80, unique=True, help_text="e.g. tr_…:paid, re_…:refund, chb_…:chargeback", **REQUIRED)
    kind = Varchar(length=30, choices=BookingKind, **REQUIRED)
    object_id = Varchar(length=40, help_text="the tr_, re_ or chb_ id", **REQUIRED)
    amount_cents = BigInt(help_text="money in (+) or out (−) of assets:mollie", **REQUIRED)
    held_cents = BigInt(help_text="the part to or from liabilities:refunds, not the pledge", **REQUIRED)
    entry_seq = BigInt(help_text="the journal entry", **REQUIRED)
    at = Timestamptz(**REQUIRED)


class RefundRequest(Table):
    """A refund staff asked for, stored with its idempotency key before Mollie is called, so a
    retry after a lost answer refunds once."""

    id: Serial
    payment = ForeignKey(references=MolliePayment, index=True, **REQUIRED, **KEPT)
    amount_cents = BigInt(**REQUIRED)
    reason = Varchar(length=500, help_text="private: staff's words, never in the journal", **REQUIRED)
    idempotency_key = Varchar(length=80, unique=True, **REQUIRED)
    refund_id = Varchar(length=40, unique=True, help_text="re_…, once Mollie accepted it", **OPTIONAL)
    requested_at = Timestamptz(**REQUIRED)
