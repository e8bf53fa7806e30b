"""Payments, refunds and chargebacks as Mollie keeps them, and their JSON as Mollie's v2 API writes it.

The rules are those in MOLLIE.md §b and §d: a paid payment stays `paid` and keeps `paidAt`; refunds
and chargebacks show as amounts, links and sub-objects; `_links.checkout` exists only while the
payment is open. Amounts are whole cents inside and Mollie's two-decimal strings outside. Every
method of `Store` takes the stand-in's lock, so the API, the checkout page and tests (from other
threads) see one consistent state.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from http import HTTPStatus
from typing import Annotated, Any, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from funding.money import Money

DOCS = "https://docs.mollie.com/reference/"
ERROR_DOCS = "https://docs.mollie.com/overview/handling-errors"
HAL = "application/hal+json"
CURRENCY = "EUR"
METADATA_BYTES = 1024
"""Mollie's limit on a payment's or refund's metadata, as encoded JSON."""
OPEN_FOR = timedelta(minutes=15)
"""How long an open payment waits for its customer (iDEAL's window at Mollie)."""
BANK_TRANSFER_BUSINESS_DAYS = 12
BANK_TRANSFER_GRACE = timedelta(days=2)
"""A bank transfer without `dueDate` expires 12 business days and 2 days after it is made (Mollie's default)."""
ID_LENGTH = 10
PROFILE_ID = "pfl_standin0"

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
Item = TypeVar("Item", "Payment", "Refund", "Chargeback")
Child = TypeVar("Child", "Refund", "Chargeback")


class PaymentStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    FAILED = "failed"
    CANCELED = "canceled"
    EXPIRED = "expired"


class RefundStatus(StrEnum):
    QUEUED = "queued"
    PENDING = "pending"
    PROCESSING = "processing"
    REFUNDED = "refunded"
    FAILED = "failed"
    CANCELED = "canceled"


FINAL = frozenset({PaymentStatus.PAID, PaymentStatus.FAILED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED})
WEBHOOK_STATUSES = FINAL | {PaymentStatus.AUTHORIZED}
"""Mollie calls the webhook when a payment reaches one of these; never for open or pending."""
TIMESTAMPS = {
    PaymentStatus.AUTHORIZED: "authorizedAt",
    PaymentStatus.PAID: "paidAt",
    PaymentStatus.FAILED: "failedAt",
    PaymentStatus.CANCELED: "canceledAt",
    PaymentStatus.EXPIRED: "expiredAt",
}
CANCELABLE_STATUSES = frozenset({PaymentStatus.OPEN, PaymentStatus.PENDING, PaymentStatus.AUTHORIZED})
CANCELABLE_METHODS = frozenset({"banktransfer", "directdebit", "creditcard"})
"""*(assumed)* Methods whose unfinished payments the merchant may cancel; an iDEAL payment (or one
whose method the customer has yet to choose) cannot be, as at Mollie."""
DEAD_REFUNDS = frozenset({RefundStatus.FAILED, RefundStatus.CANCELED})
"""Refunds that no longer count against the amount paid."""
CANCELABLE_REFUNDS = frozenset({RefundStatus.QUEUED, RefundStatus.PENDING})
REFUND_WEBHOOK_STATUSES = frozenset({RefundStatus.PROCESSING, RefundStatus.REFUNDED, RefundStatus.FAILED})
METHODS = Literal["ideal", "banktransfer", "creditcard", "bancontact", "directdebit", "paypal", "applepay"]

Url = Annotated[str, Meta(pattern=r"^https?://[^\s/?#]+[^\s]*$", max_length=2048)]
Value = Annotated[str, Meta(pattern=r"^\d{1,9}\.\d{2}$")]
Description = Annotated[str, Meta(min_length=1, max_length=255)]
Locale = Annotated[str, Meta(pattern=r"^[a-z]{2}_[A-Z]{2}$")]


class StandinError(Exception):
    """An answer in Mollie's error shape: `status`, `title`, `detail` and, for bad input, `field`."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.field = status, detail, field

    @property
    def title(self) -> str:
        if self.status == 401:
            return "Unauthorized Request"  # Mollie's wording, not the HTTP phrase
        try:
            return HTTPStatus(self.status).phrase
        except ValueError:
            return "Error"

    def body(self) -> dict:
        body: dict[str, Any] = {"status": self.status, "title": self.title, "detail": self.detail}
        if self.field:
            body["field"] = self.field
        body["_links"] = {"documentation": link(ERROR_DOCS, "text/html")}
        return body


# -- what clients send -----------------------------------------------------------------------


class Amount(Struct):
    currency: Literal["EUR"]
    value: Value


class NewPayment(Struct, rename="camel"):
    amount: Amount
    description: Description
    redirect_url: Url
    cancel_url: Url | None = None
    webhook_url: Url | None = None
    metadata: Any = None
    method: METHODS | None = None
    locale: Locale | None = None
    billing_email: str | None = None
    due_date: date | None = None


class PaymentUpdate(Struct, rename="camel"):
    description: Description | UnsetType = UNSET
    redirect_url: Url | UnsetType = UNSET
    cancel_url: Url | UnsetType | None = UNSET
    webhook_url: Url | UnsetType | None = UNSET
    metadata: Any = UNSET
    locale: Locale | UnsetType | None = UNSET
    due_date: date | UnsetType = UNSET


class NewRefund(Struct):
    amount: Amount
    description: Annotated[str, Meta(max_length=255)] = ""
    metadata: Any = None


_AT = re.compile(r"at `\$\.?([^`]*)`")
_MISSING = re.compile(r"required field `([^`]+)`")


def decode(body: bytes, into: type[T]) -> T:
    """`body` as `into`, or the error Mollie gives: 400 for what is not JSON, 422 naming the field."""
    try:
        data = msgspec.json.decode(body, type=into)
    except msgspec.ValidationError as invalid:
        message = str(invalid)
        parts = [m.group(1) for m in (_AT.search(message), _MISSING.search(message)) if m and m.group(1)]
        raise StandinError(422, f"The request is invalid: {message}", ".".join(parts) or None) from invalid
    except msgspec.DecodeError as malformed:
        raise StandinError(400, f"The JSON body is invalid: {malformed}") from malformed
    metadata = getattr(data, "metadata", None)
    if metadata not in (None, UNSET) and len(msgspec.json.encode(metadata)) > METADATA_BYTES:
        raise StandinError(422, f"The metadata is larger than {METADATA_BYTES} bytes", "metadata")
    return data


def cents(amount: Amount) -> int:
    """Mollie's amount string (its shape checked by `Value`), read by the app's own money type."""
    value = Money.from_mollie({"currency": amount.currency, "value": amount.value}).cents
    if value < 1:
        raise StandinError(422, "The amount is lower than the minimum", "amount.value")
    return value


# -- what the stand-in keeps ---------------------------------------------------------------------


class Refund(Struct, kw_only=True):
    id: str
    payment_id: str
    amount: int
    description: str
    metadata: Any
    created_at: datetime
    status: RefundStatus = RefundStatus.PENDING

    @property
    def live(self) -> bool:
        return self.status not in DEAD_REFUNDS


class Chargeback(Struct, kw_only=True):
    id: str
    payment_id: str
    amount: int
    created_at: datetime
    reversed_at: datetime | None = None


class Payment(Struct, kw_only=True):
    id: str
    mode: str
    created_at: datetime
    expires_at: datetime
    amount: int
    description: str
    redirect_url: str
    cancel_url: str | None
    webhook_url: str | None
    metadata: Any
    method: str | None
    locale: str | None
    billing_email: str | None
    due_date: date | None
    status: PaymentStatus = PaymentStatus.OPEN
    timestamps: dict[str, datetime] = msgspec.field(default_factory=dict)
    refunds: dict[str, Refund] = msgspec.field(default_factory=dict)
    chargebacks: dict[str, Chargeback] = msgspec.field(default_factory=dict)

    @property
    def is_cancelable(self) -> bool:
        return self.status in CANCELABLE_STATUSES and self.method in CANCELABLE_METHODS

    @property
    def refunded(self) -> int:
        return sum(refund.amount for refund in self.refunds.values() if refund.live)

    @property
    def charged_back(self) -> int:
        return sum(chb.amount for chb in self.chargebacks.values() if chb.reversed_at is None)


class Clock:
    """The stand-in's now: the real time plus however far tests moved it on."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> datetime:
        self.offset += timedelta(seconds=seconds)
        return self.now()


def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(ID_LENGTH))


def expiry(created: datetime, method: str | None, due: date | None) -> datetime:
    if method != "banktransfer":
        return created + OPEN_FOR
    if due is not None:
        return datetime.combine(due + timedelta(days=1), time(), UTC)
    day, business_days = created, 0
    while business_days < BANK_TRANSFER_BUSINESS_DAYS:
        day += timedelta(days=1)
        business_days += day.weekday() < 5
    return day + BANK_TRANSFER_GRACE


class Store:
    """The payments, and every change Mollie (or its test-mode checkout) can make to them.

    `notify(payment)` is called, under the lock, for each change that makes Mollie call the
    payment's webhook.
    """

    def __init__(self, lock: threading.RLock, clock: Clock, notify: Callable[[Payment], None]) -> None:
        self.lock, self.clock, self.notify = lock, clock, notify
        self.payments: dict[str, Payment] = {}

    def reset(self) -> None:
        with self.lock:
            self.payments.clear()

    def _now(self) -> datetime:
        """To the second, as Mollie's timestamps are: a time read back from the JSON is the one kept."""
        return self.clock.now().replace(microsecond=0)

    # -- payments ---------------------------------------------------------------------------
    def create(self, data: NewPayment, mode: str) -> Payment:
        now = self._now()
        if data.due_date is not None:
            self._check_due(data.due_date)
        payment = Payment(
            id=new_id("tr_"),
            mode=mode,
            created_at=now,
            expires_at=expiry(now, data.method, data.due_date),
            amount=cents(data.amount),
            description=data.description,
            redirect_url=data.redirect_url,
            cancel_url=data.cancel_url,
            webhook_url=data.webhook_url,
            metadata=data.metadata,
            method=data.method,
            locale=data.locale,
            billing_email=data.billing_email,
            due_date=data.due_date,
        )
        with self.lock:
            self.payments[payment.id] = payment
        return payment

    def _check_due(self, due: date) -> None:
        tomorrow = self._now().date() + timedelta(days=1)
        if not tomorrow <= due <= tomorrow + timedelta(days=100):
            raise StandinError(422, "The due date must be from tomorrow up to 100 days after that", "dueDate")

    def get(self, payment_id: str) -> Payment:
        with self.lock:
            if payment := self.payments.get(payment_id):
                return payment
        raise StandinError(404, f"No payment exists with token {payment_id}.")

    def newest_first(self) -> list[Payment]:
        with self.lock:
            return list(reversed(self.payments.values()))

    def update(self, payment_id: str, data: PaymentUpdate) -> Payment:
        with self.lock:
            payment = self.get(payment_id)
            if payment.status in FINAL:
                raise StandinError(422, f"The payment is {payment.status} and can no longer be updated")
            if data.due_date is not UNSET:
                self._check_due(data.due_date)
            for name, value in msgspec.structs.asdict(data).items():
                if value is not UNSET:
                    setattr(payment, name, value)
            if data.due_date is not UNSET:
                payment.expires_at = expiry(payment.created_at, payment.method, payment.due_date)
            return payment

    def cancel(self, payment_id: str) -> Payment:
        """The merchant's cancel (`DELETE`); *(assumed)* it calls the webhook, as every change to canceled does."""
        with self.lock:
            payment = self.get(payment_id)
            if not payment.is_cancelable:
                raise StandinError(422, f"The payment is {payment.status} and cannot be canceled")
            return self.set_status(payment_id, PaymentStatus.CANCELED)

    def set_status(self, payment_id: str, status: PaymentStatus | str, at: datetime | None = None) -> Payment:
        """Force `status` (the checkout page and tests do), stamp its time, and queue the webhook."""
        status = _member(PaymentStatus, status)
        with self.lock:
            payment = self.get(payment_id)
            payment.status = status
            if moment := TIMESTAMPS.get(status):
                payment.timestamps.setdefault(moment, at or self._now())  # the first time it got there
            if status in WEBHOOK_STATUSES:
                self.notify(payment)
            return payment

    def expire_overdue(self, now: datetime | None = None) -> list[str]:
        """Expire every unfinished payment whose `expiresAt` has passed; their ids."""
        now = now or self._now()
        with self.lock:
            overdue = [p.id for p in self.payments.values() if p.status in CANCELABLE_STATUSES and p.expires_at <= now]
            for payment_id in overdue:
                self.set_status(payment_id, PaymentStatus.EXPIRED, at=now)
            return overdue

    # -- refunds ----------------------------------------------------------------------------
    def refund(self, payment_id: str, data: NewRefund) -> Refund:
        amount = cents(data.amount)
        with self.lock:
            payment = self.get(payment_id)
            if payment.status != PaymentStatus.PAID:
                raise StandinError(422, f"The payment is {payment.status} and cannot be refunded")
            if amount > payment.amount - payment.refunded:
                raise StandinError(422, "The amount is higher than the maximum", "amount")
            refund = Refund(
                id=new_id("re_"),
                payment_id=payment.id,
                amount=amount,
                description=data.description,
                metadata=data.metadata,
                created_at=self._now(),
            )
            payment.refunds[refund.id] = refund
            return refund

    def find_refund(self, refund_id: str, payment_id: str | None = None) -> tuple[Payment, Refund]:
        return self._find(lambda payment: payment.refunds, "refund", refund_id, payment_id)

    def cancel_refund(self, payment_id: str, refund_id: str) -> None:
        with self.lock:
            _, refund = self.find_refund(refund_id, payment_id)
            if refund.status not in CANCELABLE_REFUNDS:
                raise StandinError(422, f"The refund is {refund.status} and can no longer be canceled")
            refund.status = RefundStatus.CANCELED

    def settle_refund(self, refund_id: str, status: RefundStatus | str) -> Refund:
        """Move a refund on (to `processing`, `refunded` or `failed`), as the bank does."""
        status = _member(RefundStatus, status)
        with self.lock:
            payment, refund = self.find_refund(refund_id)
            refund.status = status
            if status in REFUND_WEBHOOK_STATUSES:
                self.notify(payment)
            return refund

    # -- chargebacks ------------------------------------------------------------------------
    def add_chargeback(self, payment_id: str, amount: int | None = None) -> Chargeback:
        with self.lock:
            payment = self.get(payment_id)
            if payment.status != PaymentStatus.PAID:
                raise StandinError(422, f"The payment is {payment.status}: only a paid payment is charged back")
            if amount is not None and not 0 < amount <= payment.amount:
                raise StandinError(422, "A chargeback is more than nothing and at most the payment", "amount_cents")
            chargeback = Chargeback(
                id=new_id("chb_"), payment_id=payment.id, amount=amount or payment.amount, created_at=self._now()
            )
            payment.chargebacks[chargeback.id] = chargeback
            self.notify(payment)
            return chargeback

    def find_chargeback(self, chargeback_id: str, payment_id: str | None = None) -> tuple[Payment, Chargeback]:
        return self._find(lambda payment: payment.chargebacks, "chargeback", chargeback_id, payment_id)

    def _find(
        self, children: Callable[[Payment], dict[str, Child]], kind: str, child_id: str, payment_id: str | None
    ) -> tuple[Payment, Child]:
        """A refund or chargeback by its id, and its payment: `payment_id`'s, or any (the control API's)."""
        with self.lock:
            for payment in [self.get(payment_id)] if payment_id else self.payments.values():
                if child := children(payment).get(child_id):
                    return payment, child
        raise StandinError(404, f"No {kind} exists with token {child_id}.")

    def reverse_chargeback(self, chargeback_id: str) -> Chargeback:
        with self.lock:
            payment, chargeback = self.find_chargeback(chargeback_id)
            if chargeback.reversed_at is None:
                chargeback.reversed_at = self._now()
                self.notify(payment)
            return chargeback


def _member(kind: type[E], value: E | str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise StandinError(422, f"{value!r} is none of {', '.join(kind)}", "status") from None


# -- Mollie's JSON -------------------------------------------------------------------------------


def link(href: str, kind: str = HAL) -> dict[str, str]:
    return {"href": href, "type": kind}


def money(amount_cents: int) -> dict[str, str]:
    return Money(amount_cents).to_mollie()


def stamp(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def payment_json(payment: Payment, base: str, embed: Iterable[str] = ()) -> dict:
    """The payment as `GET /v2/payments/{id}` answers it; `base` is the stand-in's URL as the caller wrote it."""
    body: dict[str, Any] = {
        "resource": "payment",
        "id": payment.id,
        "mode": payment.mode,
        "status": payment.status,
        "isCancelable": payment.is_cancelable,
        "createdAt": stamp(payment.created_at),
        "amount": money(payment.amount),
        "description": payment.description,
        "method": payment.method,
        "metadata": payment.metadata,
        "profileId": PROFILE_ID,
        "sequenceType": "oneoff",
        "redirectUrl": payment.redirect_url,
        "webhookUrl": payment.webhook_url,
        "details": _details(payment),
    }
    optional = {"cancelUrl": payment.cancel_url, "locale": payment.locale, "billingEmail": payment.billing_email}
    body |= {name: value for name, value in optional.items() if value is not None}
    if payment.due_date:
        body["dueDate"] = payment.due_date.isoformat()
    if payment.status not in FINAL:
        body["expiresAt"] = stamp(payment.expires_at)
    body |= {name: stamp(moment) for name, moment in payment.timestamps.items()}
    if payment.status == PaymentStatus.PAID:
        body["amountRefunded"] = money(payment.refunded)
        body["amountRemaining"] = money(payment.amount - payment.refunded)
    if payment.charged_back:
        body["amountChargedBack"] = money(payment.charged_back)
    url = f"{base}/v2/payments/{payment.id}"
    links = {"self": link(url)}
    if payment.status == PaymentStatus.OPEN:
        links["checkout"] = link(f"{base}/checkout/{payment.id}", "text/html")
    if payment.refunds:
        links["refunds"] = link(f"{url}/refunds")
    if payment.chargebacks:
        links["chargebacks"] = link(f"{url}/chargebacks")
    links["documentation"] = link(DOCS + "get-payment", "text/html")
    body["_links"] = links
    embedded = {
        "refunds": lambda: [refund_json(r, base) for r in reversed(payment.refunds.values())],
        "chargebacks": lambda: [chargeback_json(c, base) for c in reversed(payment.chargebacks.values())],
    }
    if wanted := {name: embedded[name]() for name in embed if name in embedded}:
        body["_embedded"] = wanted
    return body


def _details(payment: Payment) -> dict | None:
    if payment.method != "banktransfer":
        return None
    return {
        "bankName": "Stichting Mollie Payments",
        "bankAccount": "NL53ABNA0627535577",
        "bankBic": "ABNANL2A",
        "transferReference": f"RF{payment.id[3:].upper()}",
    }


def refund_json(refund: Refund, base: str) -> dict:
    payment_url = f"{base}/v2/payments/{refund.payment_id}"
    return {
        "resource": "refund",
        "id": refund.id,
        "paymentId": refund.payment_id,
        "amount": money(refund.amount),
        "settlementAmount": money(-refund.amount),
        "status": refund.status,
        "createdAt": stamp(refund.created_at),
        "description": refund.description,
        "metadata": refund.metadata,
        "_links": {
            "self": link(f"{payment_url}/refunds/{refund.id}"),
            "payment": link(payment_url),
            "documentation": link(DOCS + "get-refund", "text/html"),
        },
    }


def chargeback_json(chargeback: Chargeback, base: str) -> dict:
    payment_url = f"{base}/v2/payments/{chargeback.payment_id}"
    return {
        "resource": "chargeback",
        "id": chargeback.id,
        "paymentId": chargeback.payment_id,
        "amount": money(chargeback.amount),
        "settlementAmount": money(-chargeback.amount),
        "createdAt": stamp(chargeback.created_at),
        "reversedAt": stamp(chargeback.reversed_at),
        "_links": {
            "self": link(f"{payment_url}/chargebacks/{chargeback.id}"),
            "payment": link(payment_url),
            "documentation": link(DOCS + "get-chargeback", "text/html"),
        },
    }


def page(items: list[Item], name: str, url: str, render: Callable[[Item], dict], start: str | None, limit: int) -> dict:
    """One page of a list, newest first, from the item `start` (Mollie's `from`) on."""
    ids = [item.id for item in items]
    if start is not None and start not in ids:
        raise StandinError(400, f"The 'from' parameter {start!r} names no {name[:-1]} in this list", "from")
    first = ids.index(start) if start else 0
    shown = items[first : first + limit]

    def href(at: int | None) -> dict | None:
        if at is None:
            return None
        return link(f"{url}?from={ids[at]}&limit={limit}")

    following = first + limit if first + limit < len(ids) else None
    previous = max(first - limit, 0) if first > 0 else None
    return {
        "count": len(shown),
        "_embedded": {name: [render(item) for item in shown]},
        "_links": {
            "self": link(f"{url}?{f'from={start}&' if start else ''}limit={limit}"),
            "previous": href(previous),
            "next": href(following),
            "documentation": link(DOCS + f"list-{name}", "text/html"),
        },
    }
