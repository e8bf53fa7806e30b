"""The stand-in's own Litestar app: Mollie's `/v2` API, the test checkout, and the control API.

`/v2/…` answers as Mollie does (hal+json bodies, Mollie's status codes and error shape), behind
`Gate`: an injected fault first, then the API key, then idempotency. `/checkout/{id}` is the
page Mollie's test mode shows a customer. `/_standin/…` is the control API: JSON in and out, one
route for each method of `MollieStandin`, for a stand-in in another process.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any

import msgspec
from jinja2 import Environment, PackageLoader, select_autoescape
from litestar import Controller, Litestar, Request, Response, Router, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.params import FromPath, JSONBody, QueryParameter, URLEncodedBody
from litestar.response import Redirect

from funding.mollie_standin.model import (
    HAL,
    Item,
    NewPayment,
    NewRefund,
    PaymentStatus,
    PaymentUpdate,
    StandinError,
    chargeback_json,
    decode,
    page,
    payment_json,
    refund_json,
)
from funding.mollie_standin.standin import SLOW_DELAY, FaultKind, MollieStandin, Reply
from funding.mollie_standin.webhooks import Delivery, WebhookAttempt, WebhookMode

AUTHORIZATION = re.compile(r"Bearer (test|live)_\w+")
UNAUTHORIZED = StandinError(401, "Missing authentication, or failed to authenticate")
IDEMPOTENT = frozenset({"POST", "PATCH", "DELETE"})
"""The methods the `mollie` client sends an `Idempotency-Key` with."""
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
CHECKOUT_CHOICES = {
    PaymentStatus.PAID: "Betaald",
    PaymentStatus.FAILED: "Mislukt",
    PaymentStatus.CANCELED: "Geannuleerd",
    PaymentStatus.EXPIRED: "Verlopen",
    PaymentStatus.OPEN: "Open laten",
}
"""The outcomes the checkout offers, in Dutch; the page adds Mollie's (English) name in `lang="en"`."""
BANK_TRANSFER_CHOICES = (PaymentStatus.PAID, PaymentStatus.EXPIRED, PaymentStatus.OPEN)
"""*(assumed)* A transfer is paid or not: the customer cannot fail or cancel it at the checkout."""
HTML_ERROR = b"<html><body><h1>502 Bad Gateway</h1><p>The stand-in was told to fail this call.</p></body></html>"

Message = Any
"""ASGI's scopes and messages, loosely typed: the gate only reads, stores and forwards them."""
Send = Callable[[Message], Awaitable[None]]
Receive = Callable[[], Awaitable[Message]]
ASGIApp = Callable[[Message, Receive, Send], Awaitable[None]]

pages = Environment(loader=PackageLoader("funding.mollie_standin"), autoescape=select_autoescape(default=True))

Limit = Annotated[int, QueryParameter(ge=1, le=MAX_LIMIT)]
From = Annotated[str | None, QueryParameter(name="from")]
Embed = Annotated[str | None, QueryParameter(description="Comma-separated: refunds, chargebacks")]


def hal(body: dict, status: int = 200) -> Response:
    return Response(msgspec.json.encode(body), status_code=status, media_type=HAL)


def base(request: Request) -> str:
    """The stand-in's address as the caller wrote it, so that every link starts as its client expects."""
    return str(request.base_url).rstrip("/")


# -- the gate in front of /v2 -----------------------------------------------------------------


class Gate:
    """An injected fault, then the API key, then idempotency, before any `/v2` handler.

    Idempotency as MOLLIE.md §d has it: the first answer to (key, method, path) is kept with the
    request body and replayed with `Idempotent-Replayed: true`; the same key with another body
    is refused (422). Answers of 500 and up are not kept, so a retry runs again.
    """

    def __init__(self, app: ASGIApp, standin: MollieStandin) -> None:
        self.app, self.standin = app, standin

    async def __call__(self, scope: Message, receive: Receive, send: Send) -> None:
        fault = self.standin.take_fault()
        if fault and fault.kind == FaultKind.SLOW:
            send = _late(send, fault.delay)
        elif fault:
            return await _fail(send, fault.kind, fault.status)
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        if not AUTHORIZATION.fullmatch(headers.get("authorization", "")):
            return await _error(send, UNAUTHORIZED)
        self.standin.expire_overdue()
        key, method = headers.get("idempotency-key"), scope["method"]
        if key and method in IDEMPOTENT:
            return await self._idempotent((key, method, scope["path"]), scope, await _body(receive), send)
        return await self.app(scope, receive, send)

    async def _idempotent(self, slot: tuple[str, str, str], scope: Message, body: bytes, send: Send) -> None:
        with self.standin.lock:
            reply = self.standin.replies.get(slot)
        if reply is None:
            messages: list[Message] = []

            async def keep(message: Message) -> None:
                messages.append(message)

            await self.app(scope, _replay(body), keep)
            if messages and messages[0]["status"] < 500:
                with self.standin.lock:
                    self.standin.replies[slot] = Reply(body, messages)
        elif reply.request != body:
            return await _error(
                send, StandinError(422, "The Idempotency-Key was used for another body", "Idempotency-Key")
            )
        else:
            start, *rest = reply.messages
            messages = [{**start, "headers": [*start["headers"], (b"idempotent-replayed", b"true")]}, *rest]
        for message in messages:
            await send(message)


async def _body(receive: Receive) -> bytes:
    chunks, more = [], True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _late(send: Send, delay: float) -> Send:
    async def send_late(message: Message) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(delay)
        await send(message)

    return send_late


async def _error(send: Send, error: StandinError) -> None:
    await _raw(send, error.status, HAL, msgspec.json.encode(error.body()))


async def _raw(send: Send, status: int, media_type: str, body: bytes) -> None:
    headers = [(b"content-type", media_type.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _fail(send: Send, kind: FaultKind, status: int) -> None:
    if kind == FaultKind.STATUS:
        await _error(send, StandinError(status, "The stand-in was told to fail this call"))
    elif kind == FaultKind.HTML:
        await _raw(send, status, "text/html", HTML_ERROR)
    else:  # DROP: a status line and headers promising a body that never comes; uvicorn closes the connection
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-length", b"100")]})


# -- Mollie's API -------------------------------------------------------------------------------


class PaymentsController(Controller):
    path = "/payments"

    @post("/")
    async def create(self, request: Request, standin: NamedDependency[MollieStandin]) -> Response:
        data = decode(await request.body(), NewPayment)
        mode = "live" if request.headers["authorization"].startswith("Bearer live_") else "test"
        return hal(payment_json(standin.store.create(data, mode), base(request)), 201)

    @get("/")
    async def list_payments(
        self,
        request: Request,
        standin: NamedDependency[MollieStandin],
        start: From = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Response:
        with standin.lock:
            items = standin.store.newest_first()
            url = f"{base(request)}/v2/payments"
            return hal(page(items, "payments", url, partial(payment_json, base=base(request)), start, limit))

    @get("/{payment_id:str}")
    async def get_payment(
        self, request: Request, standin: NamedDependency[MollieStandin], payment_id: FromPath[str], embed: Embed = None
    ) -> Response:
        with standin.lock:
            return hal(payment_json(standin.store.get(payment_id), base(request), (embed or "").split(",")))

    @patch("/{payment_id:str}")
    async def update(
        self, request: Request, standin: NamedDependency[MollieStandin], payment_id: FromPath[str]
    ) -> Response:
        data = decode(await request.body(), PaymentUpdate)
        with standin.lock:
            return hal(payment_json(standin.store.update(payment_id, data), base(request)))

    @delete("/{payment_id:str}", status_code=200)
    async def cancel(
        self, request: Request, standin: NamedDependency[MollieStandin], payment_id: FromPath[str]
    ) -> Response:
        with standin.lock:
            return hal(payment_json(standin.store.cancel(payment_id), base(request)))

    @post("/{payment_id:str}/refunds")
    async def create_refund(
        self, request: Request, standin: NamedDependency[MollieStandin], payment_id: FromPath[str]
    ) -> Response:
        data = decode(await request.body(), NewRefund)
        return hal(refund_json(standin.store.refund(payment_id, data), base(request)), 201)

    @get("/{payment_id:str}/refunds")
    async def list_refunds(
        self,
        request: Request,
        standin: NamedDependency[MollieStandin],
        payment_id: FromPath[str],
        start: From = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Response:
        with standin.lock:
            refunds = list(reversed(standin.store.get(payment_id).refunds.values()))
            return _sub_list(request, payment_id, "refunds", refunds, refund_json, start, limit)

    @get("/{payment_id:str}/refunds/{refund_id:str}")
    async def get_refund(
        self,
        request: Request,
        standin: NamedDependency[MollieStandin],
        payment_id: FromPath[str],
        refund_id: FromPath[str],
    ) -> Response:
        with standin.lock:
            return hal(refund_json(standin.store.find_refund(refund_id, payment_id)[1], base(request)))

    @delete("/{payment_id:str}/refunds/{refund_id:str}", status_code=204)
    async def cancel_refund(
        self, standin: NamedDependency[MollieStandin], payment_id: FromPath[str], refund_id: FromPath[str]
    ) -> None:
        standin.store.cancel_refund(payment_id, refund_id)

    @get("/{payment_id:str}/chargebacks")
    async def list_chargebacks(
        self,
        request: Request,
        standin: NamedDependency[MollieStandin],
        payment_id: FromPath[str],
        start: From = None,
        limit: Limit = DEFAULT_LIMIT,
    ) -> Response:
        with standin.lock:
            chargebacks = list(reversed(standin.store.get(payment_id).chargebacks.values()))
            return _sub_list(request, payment_id, "chargebacks", chargebacks, chargeback_json, start, limit)

    @get("/{payment_id:str}/chargebacks/{chargeback_id:str}")
    async def get_chargeback(
        self,
        request: Request,
        standin: NamedDependency[MollieStandin],
        payment_id: FromPath[str],
        chargeback_id: FromPath[str],
    ) -> Response:
        with standin.lock:
            return hal(chargeback_json(standin.store.find_chargeback(chargeback_id, payment_id)[1], base(request)))


def _sub_list(
    request: Request,
    payment_id: str,
    name: str,
    items: list[Item],
    render: Callable[[Item, str], dict],
    start: str | None,
    limit: int,
) -> Response:
    here = base(request)
    return hal(
        page(items, name, f"{here}/v2/payments/{payment_id}/{name}", lambda item: render(item, here), start, limit)
    )


# -- the test checkout --------------------------------------------------------------------------


class CheckoutChoice(msgspec.Struct):
    status: PaymentStatus


class CheckoutController(Controller):
    path = "/checkout"

    @get("/{payment_id:str}")
    async def show(
        self, request: Request, standin: NamedDependency[MollieStandin], payment_id: FromPath[str]
    ) -> Response:
        """The outcomes a tester may choose, while the payment is open; what became of it after."""
        return _checkout(request, standin, payment_id)

    @post("/{payment_id:str}", status_code=303)
    async def choose(
        self,
        request: Request,
        standin: NamedDependency[MollieStandin],
        payment_id: FromPath[str],
        data: URLEncodedBody[CheckoutChoice],
    ) -> Response:
        """Give the payment the chosen status (queueing its webhook) and send the customer back."""
        with standin.lock:
            payment = standin.store.get(payment_id)
            if payment.status != PaymentStatus.OPEN or data.status not in _choices(payment.method):
                return _checkout(request, standin, payment_id, status=409)
            if data.status != PaymentStatus.OPEN:
                standin.store.set_status(payment_id, data.status)
            back = payment.cancel_url if data.status == PaymentStatus.CANCELED and payment.cancel_url else None
            return Redirect(back or payment.redirect_url, status_code=303)


def _choices(method: str | None) -> tuple[PaymentStatus, ...]:
    return BANK_TRANSFER_CHOICES if method == "banktransfer" else tuple(CHECKOUT_CHOICES)


def _checkout(request: Request, standin: MollieStandin, payment_id: str, status: int = 200) -> Response:
    with standin.lock:
        payment = standin.store.get(payment_id)
        choices = [(s, CHECKOUT_CHOICES[s]) for s in _choices(payment.method)]
        shown = payment_json(payment, base(request))
    html = pages.get_template("checkout.html").render(
        payment=shown, choices=choices if payment.status == PaymentStatus.OPEN else []
    )
    return Response(html, status_code=status, media_type="text/html")


# -- the control API ----------------------------------------------------------------------------


class StatusChange(msgspec.Struct):
    status: str


class NewChargeback(msgspec.Struct):
    amount_cents: int | None = None


class Faults(msgspec.Struct):
    n: int = 1
    status: int | None = None
    kind: FaultKind = FaultKind.STATUS
    delay: float = SLOW_DELAY


class ClockMove(msgspec.Struct):
    seconds: float


class Expiry(msgspec.Struct):
    now: datetime | None = None


class Answer(msgspec.Struct):
    status_code: int | None = None
    error: str | None = None


class Options(msgspec.Struct):
    webhook_mode: WebhookMode | None = None
    duplicates: int | None = None


class ControlController(Controller):
    """`MollieStandin`'s methods over HTTP; the same names, arguments and answers."""

    path = "/_standin"

    @get("/payments")
    async def payments(self, standin: NamedDependency[MollieStandin]) -> list[dict]:
        return standin.payments()

    @get("/payments/{payment_id:str}")
    async def payment(self, standin: NamedDependency[MollieStandin], payment_id: FromPath[str]) -> dict:
        return standin.payment(payment_id)

    @post("/payments/{payment_id:str}/status", status_code=200)
    async def set_status(
        self, standin: NamedDependency[MollieStandin], payment_id: FromPath[str], data: JSONBody[StatusChange]
    ) -> dict:
        return standin.set_status(payment_id, data.status)

    @post("/payments/{payment_id:str}/chargebacks", status_code=201)
    async def add_chargeback(
        self,
        standin: NamedDependency[MollieStandin],
        payment_id: FromPath[str],
        data: JSONBody[NewChargeback | None] = None,
    ) -> dict:
        return standin.add_chargeback(payment_id, data.amount_cents if data else None)

    @post("/refunds/{refund_id:str}/status", status_code=200)
    async def settle_refund(
        self, standin: NamedDependency[MollieStandin], refund_id: FromPath[str], data: JSONBody[StatusChange]
    ) -> dict:
        return standin.settle_refund(refund_id, data.status)

    @post("/chargebacks/{chargeback_id:str}/reverse", status_code=200)
    async def reverse_chargeback(self, standin: NamedDependency[MollieStandin], chargeback_id: FromPath[str]) -> dict:
        return standin.reverse_chargeback(chargeback_id)

    @post("/faults", status_code=204)
    async def fail_next(self, standin: NamedDependency[MollieStandin], data: JSONBody[Faults]) -> None:
        standin.fail_next(data.n, data.status, data.kind, data.delay)

    @post("/clock", status_code=200)
    async def advance_clock(self, standin: NamedDependency[MollieStandin], data: JSONBody[ClockMove]) -> dict:
        return {"now": standin.advance_clock(data.seconds)}

    @post("/expire-overdue", status_code=200)
    async def expire_overdue(
        self, standin: NamedDependency[MollieStandin], data: JSONBody[Expiry | None] = None
    ) -> dict:
        return {"expired": standin.expire_overdue(data.now if data else None)}

    @get("/webhooks")
    async def webhook_attempts(
        self, standin: NamedDependency[MollieStandin], payment_id: Annotated[str | None, QueryParameter()] = None
    ) -> list[WebhookAttempt]:
        return standin.webhook_attempts(payment_id)

    @post("/webhooks/drain", status_code=200)
    async def drain(self, standin: NamedDependency[MollieStandin]) -> list[Delivery]:
        return standin.drain()

    @post("/webhooks/{delivery_id:int}/report", status_code=200)
    async def report(
        self, standin: NamedDependency[MollieStandin], delivery_id: FromPath[int], data: JSONBody[Answer]
    ) -> WebhookAttempt:
        return standin.report(delivery_id, data.status_code, data.error)

    @get("/settings")
    async def settings(self, standin: NamedDependency[MollieStandin]) -> Options:
        return Options(standin.webhook_mode, standin.duplicates)

    @post("/settings", status_code=200)
    async def change_settings(self, standin: NamedDependency[MollieStandin], data: JSONBody[Options]) -> Options:
        if data.webhook_mode is not None:
            standin.webhook_mode = data.webhook_mode
        if data.duplicates is not None:
            standin.duplicates = data.duplicates
        return Options(standin.webhook_mode, standin.duplicates)

    @post("/reset", status_code=204)
    async def reset(self, standin: NamedDependency[MollieStandin]) -> None:
        standin.reset()


# -- the app --------------------------------------------------------------------------------------


def _mollie_error(_request: Request, error: StandinError) -> Response:
    return hal(error.body(), error.status)


def _http_error(_request: Request, error: HTTPException) -> Response:
    """Litestar's own refusals (no such route, a bad query parameter) in Mollie's error shape."""
    detail = error.detail if not error.extra else f"{error.detail}: {error.extra}"
    return hal(StandinError(error.status_code, detail).body(), error.status_code)


def create_app(standin: MollieStandin) -> Litestar:
    # A factory, not DefineMiddleware: a Router deep-copies middleware arguments, and the lock cannot be copied.
    api = Router("/v2", route_handlers=[PaymentsController], middleware=[lambda app: Gate(app, standin)])
    return Litestar(
        route_handlers=[api, CheckoutController, ControlController],
        dependencies={"standin": Provide(lambda: standin, use_cache=True, sync_to_thread=False)},
        exception_handlers={StandinError: _mollie_error, HTTPException: _http_error},
        on_startup=[standin.webhooks.start],
        on_shutdown=[standin.webhooks.stop],
        openapi_config=None,
        logging_config=None,  # the stand-in shares its process with the app (`serve --demo`): leave logging alone
    )
