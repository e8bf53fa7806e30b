"""Mollie's v2 API through mollie-api-python, made safe for an async app.

The client is synchronous and keeps per-instance state (a lazily built `requests.Session`), so
every call runs in a worker thread with that thread's own client, under a limiter of our own so
Mollie cannot use up the threads everything else shares. Errors are sorted into two kinds: try
again later (`MollieUnavailable`), or refused for good (`MollieRefused`). What comes back is
read into plain, checked data at once (`PaymentState`), so nothing downstream touches the
client's dictionaries.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
from mollie.api.client import Client
from mollie.api.error import Error, RequestError, RequestSetupError, ResponseError, ResponseHandlingError

from funding.money import Money, MoneyError

log = logging.getLogger(__name__)
T = TypeVar("T")

CHECKOUT_ORIGIN = "https://www.mollie.com"
"""Where Mollie's hosted checkout is *(assumed from the checkout links in Mollie's API reference,
https://www.mollie.com/checkout/…)*."""

PAYMENT_ID = re.compile(r"tr_[A-Za-z0-9]{1,32}")
"""What a Mollie payment id looks like; anything else is never sent to the API."""
TIMEOUT = (2, 10)
"""Connect and read seconds: well under the 15 s Mollie waits for a webhook's answer."""
THREADS = 10
LIVE_REFUND_STATUSES = ("queued", "pending", "processing", "refunded")
"""A refund in one of these has left (or will leave) our Mollie balance; failed and canceled ones not."""


class MollieUnavailable(Exception):
    """Mollie could not be reached or answered 5xx: nothing is known, so try again later."""


class MollieRefused(Exception):
    """Mollie answered 4xx: asking again the same way will not help."""

    def __init__(self, detail: str, status: int, field: str | None = None) -> None:
        super().__init__(detail)
        self.status, self.field = status, field


class UnexpectedPayment(Exception):
    """What Mollie sent back is not a payment we can book (another currency, a broken amount)."""


@dataclass(frozen=True)
class RefundState:
    id: str
    amount: Money
    status: str

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_REFUND_STATUSES


@dataclass(frozen=True)
class ChargebackState:
    id: str
    amount: Money
    reversed: bool


@dataclass(frozen=True)
class PaymentState:
    """A Mollie payment as the API reported it just now."""

    id: str
    status: str
    amount: Money
    metadata: dict
    checkout_url: str | None
    paid: bool
    refunds: tuple[RefundState, ...] = ()
    chargebacks: tuple[ChargebackState, ...] = ()


def checkout_origin(endpoint: str) -> str:
    """The origin of the checkout pages payments created through `endpoint` link to: Mollie's own,
    or the stand-in's (which serves its checkout beside its API)."""
    if not endpoint:
        return CHECKOUT_ORIGIN
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


class Mollie:
    """The API, with one configured client per worker thread."""

    def __init__(self, api_key: str, endpoint: str = "", timeout: tuple[int, int] = TIMEOUT) -> None:
        self.api_key, self.endpoint, self.timeout = api_key, endpoint, timeout
        self._local = threading.local()
        self._limiter: anyio.CapacityLimiter | None = None

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    async def create_payment(self, data: dict, idempotency_key: str) -> PaymentState:
        """Create a payment; the same key again (a retry, a double click) answers the same payment."""
        payment = await self._call(lambda client: client.payments.create(data, idempotency_key=idempotency_key))
        return _payment(payment)

    async def payment(self, payment_id: str) -> PaymentState:
        """The payment with its refunds and chargebacks, in one call."""
        if not PAYMENT_ID.fullmatch(payment_id):
            raise MollieRefused(f"{payment_id!r} is not a Mollie payment id", 404)
        payment = await self._call(lambda client: client.payments.get(payment_id, embed="refunds,chargebacks"))
        return _payment(payment)

    async def create_refund(
        self, payment_id: str, amount: Money, description: str, idempotency_key: str
    ) -> RefundState:
        def create(client: Client) -> Any:
            payment = client.payments.get(payment_id)
            return payment.refunds.create(
                {"amount": amount.to_mollie(), "description": description[:140]}, idempotency_key=idempotency_key
            )

        return _refund(await self._call(create))

    async def _call(self, call: Callable[[Client], T]) -> T:
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(THREADS)
        return await anyio.to_thread.run_sync(self._sync, call, limiter=self._limiter)

    def _sync(self, call: Callable[[Client], T]) -> T:
        try:
            return call(self._client())
        except RequestSetupError as error:  # our own mistake (a bad key or id), not Mollie's
            raise MollieRefused(str(error), 400) from error
        except (RequestError, ResponseHandlingError) as error:
            raise MollieUnavailable(str(error)) from error
        except ResponseError as error:
            status = error.status or 500
            if status >= 500:
                raise MollieUnavailable(str(error)) from error
            raise MollieRefused(str(error), status, getattr(error, "field", None)) from error
        except Error as error:
            raise MollieUnavailable(str(error)) from error

    def _client(self) -> Client:
        client = getattr(self._local, "client", None)
        if client is None:
            client = Client(api_endpoint=self.endpoint, timeout=self.timeout)
            client.set_api_key(self.api_key)
            self._local.client = client
        return client


def _payment(payment: dict) -> PaymentState:
    try:
        embedded = payment.get("_embedded") or {}
        return PaymentState(
            id=payment["id"],
            status=payment["status"],
            amount=Money.from_mollie(payment["amount"]),
            metadata=payment.get("metadata") or {},
            checkout_url=((payment.get("_links") or {}).get("checkout") or {}).get("href"),
            paid=bool(payment.get("paidAt")),
            refunds=tuple(_refund(refund) for refund in embedded.get("refunds", ())),
            chargebacks=tuple(
                ChargebackState(
                    id=chargeback["id"],
                    amount=Money.from_mollie(chargeback["amount"]),
                    reversed=bool(chargeback.get("reversedAt")),
                )
                for chargeback in embedded.get("chargebacks", ())
            ),
        )
    except (KeyError, TypeError, MoneyError) as error:
        raise UnexpectedPayment(f"Mollie sent a payment we cannot read: {error}") from error


def _refund(refund: dict) -> RefundState:
    return RefundState(id=refund["id"], amount=Money.from_mollie(refund["amount"]), status=refund["status"])
