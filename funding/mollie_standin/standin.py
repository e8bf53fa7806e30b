"""`MollieStandin`: the stand-in's state, its server thread, and what tests and the demo do with it.

Every method here is also on the HTTP control API (`/_standin/…`, `funding.mollie_standin.app`),
for a stand-in that runs in another process.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

import msgspec

from funding.mollie_standin.model import (
    Clock,
    Payment,
    PaymentStatus,
    RefundStatus,
    StandinError,
    Store,
    chargeback_json,
    payment_json,
    refund_json,
)
from funding.mollie_standin.webhooks import RETRY_DELAYS, TIMEOUT, Delivery, Dispatcher, WebhookAttempt, WebhookMode

if TYPE_CHECKING:
    import uvicorn
    from litestar import Litestar

log = logging.getLogger(__name__)

SLOW_DELAY = 2.0
"""Seconds a `slow` fault holds its answer back: past a small client read timeout."""
START_TIMEOUT = 10.0
SHUTDOWN_TIMEOUT = 1
"""Seconds `stop` waits for open requests (a `slow` fault may hold one)."""
EMBEDS = ("refunds", "chargebacks")


class FaultKind(StrEnum):
    STATUS = "status"
    """A Mollie error body with the given status (503 unless told)."""
    HTML = "html"
    """A body that is not JSON (a proxy's error page), 502 unless told."""
    DROP = "drop"
    """The connection closed after the status line, before the body."""
    SLOW = "slow"
    """The call is carried out, but its answer is sent `delay` seconds late."""


DEFAULT_STATUS = {FaultKind.STATUS: 503, FaultKind.HTML: 502, FaultKind.DROP: 502, FaultKind.SLOW: 200}
"""A slow call sends its own answer, so its status here is never used."""


class Fault(msgspec.Struct, frozen=True):
    kind: FaultKind
    status: int
    delay: float


class Reply(msgspec.Struct, frozen=True):
    """The first answer to an idempotency key: the request body it was for, and the ASGI messages."""

    request: bytes
    messages: list[dict]


class MollieStandin:
    """A local Mollie v2 API: payments, refunds, chargebacks, a test checkout, webhooks, faults.

    `start()` serves it on a real loopback socket in a daemon thread (the `mollie` client cannot
    call an ASGI app in-process); give the client `set_api_endpoint(standin.url)`.
    """

    def __init__(
        self,
        *,
        webhook_mode: WebhookMode | str = WebhookMode.AUTO,
        duplicates: int = 1,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        webhook_timeout: float = TIMEOUT,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.webhooks = Dispatcher(
            self.lock,
            self.clock,
            mode=webhook_mode,
            duplicates=duplicates,
            retry_delays=retry_delays,
            timeout=webhook_timeout,
        )
        self.store = Store(self.lock, self.clock, self._notify)
        self.faults: deque[Fault] = deque()
        self.replies: dict[tuple[str, str, str], Reply] = {}
        self.defaults = (self.webhooks.mode, duplicates)
        self.url = ""
        """`http://HOST:PORT` once started; what `set_api_endpoint` takes."""
        self.server: uvicorn.Server | None = None
        self.thread: threading.Thread | None = None

    def _notify(self, payment: Payment) -> None:
        self.webhooks.enqueue(payment.id, payment.webhook_url)

    # -- serving ----------------------------------------------------------------------------
    def app(self) -> Litestar:
        from funding.mollie_standin.app import create_app

        return create_app(self)

    def start(self, host: str = "127.0.0.1", port: int = 0) -> MollieStandin:
        """Serve in a daemon thread on `host:port` (0: a free port); return once it answers."""
        self.server, listener = self._listen(host, port, "warning")
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [listener]}, name="mollie-standin", daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the Mollie stand-in did not start on {self.url}")
            time.sleep(0.01)
        return self

    def serve(self, host: str, port: int) -> None:
        """Serve in the foreground until interrupted (`funding mollie-standin`)."""
        server, listener = self._listen(host, port, "info")
        log.info("Mollie stand-in on %s (control API: %s/_standin/)", self.url, self.url)
        server.run(sockets=[listener])

    def _listen(self, host: str, port: int, log_level: str) -> tuple[uvicorn.Server, socket.socket]:
        """The server and its bound socket: bound here, so that port 0's choice is known before it runs."""
        import uvicorn

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
        self.url = f"http://{host}:{listener.getsockname()[1]}"
        config = uvicorn.Config(self.app(), log_level=log_level, timeout_graceful_shutdown=SHUTDOWN_TIMEOUT)
        return uvicorn.Server(config), listener

    def stop(self) -> None:
        if self.server and self.thread:
            self.server.should_exit = True
            self.thread.join()
        self.server = self.thread = None

    def __enter__(self) -> MollieStandin:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- looking ----------------------------------------------------------------------------
    def payments(self) -> list[dict]:
        """Every payment as the API shows it, newest first, refunds and chargebacks embedded."""
        with self.lock:
            return [payment_json(payment, self.url, EMBEDS) for payment in self.store.newest_first()]

    def payment(self, payment_id: str) -> dict:
        with self.lock:
            return payment_json(self.store.get(payment_id), self.url, EMBEDS)

    def webhook_attempts(self, payment_id: str | None = None) -> list[WebhookAttempt]:
        return self.webhooks.history(payment_id)

    # -- what customers, banks and time do --------------------------------------------------
    def set_status(self, payment_id: str, status: PaymentStatus | str) -> dict:
        """Force a payment's status (any of them), stamp its time, and queue its webhook."""
        with self.lock:
            return payment_json(self.store.set_status(payment_id, status), self.url, EMBEDS)

    def settle_refund(self, refund_id: str, status: RefundStatus | str) -> dict:
        with self.lock:
            return refund_json(self.store.settle_refund(refund_id, status), self.url)

    def add_chargeback(self, payment_id: str, amount_cents: int | None = None) -> dict:
        """Charge back a paid payment: all of it, or `amount_cents`."""
        with self.lock:
            return chargeback_json(self.store.add_chargeback(payment_id, amount_cents), self.url)

    def reverse_chargeback(self, chargeback_id: str) -> dict:
        with self.lock:
            return chargeback_json(self.store.reverse_chargeback(chargeback_id), self.url)

    def advance_clock(self, seconds: float) -> datetime:
        """Move the stand-in's clock on (expiry, retries); its new now."""
        with self.lock:
            now = self.clock.advance(seconds)
        self.webhooks.wake()
        return now

    def expire_overdue(self, now: datetime | None = None) -> list[str]:
        """Expire the unfinished payments overdue at `now` (default: the stand-in's clock); their ids.

        Every API call does this first, as Mollie expires payments by itself."""
        return self.store.expire_overdue(now)

    # -- faults -----------------------------------------------------------------------------
    def fail_next(
        self, n: int = 1, status: int | None = None, kind: FaultKind | str = FaultKind.STATUS, delay: float = SLOW_DELAY
    ) -> None:
        """Make the next `n` calls to the API (`/v2/…`) fail as `kind` says."""
        kind = FaultKind(kind)
        with self.lock:
            self.faults.extend([Fault(kind, status or DEFAULT_STATUS[kind], delay)] * n)

    def take_fault(self) -> Fault | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    # -- webhooks ---------------------------------------------------------------------------
    @property
    def webhook_mode(self) -> WebhookMode:
        return self.webhooks.mode

    @webhook_mode.setter
    def webhook_mode(self, mode: WebhookMode | str) -> None:
        self.webhooks.mode = WebhookMode(mode)
        self.webhooks.wake()

    @property
    def duplicates(self) -> int:
        """How many times each webhook call is made (Mollie may call more than once)."""
        return self.webhooks.duplicates

    @duplicates.setter
    def duplicates(self, times: int) -> None:
        if times < 1:
            raise StandinError(422, "Each webhook call is made at least once", "duplicates")
        self.webhooks.duplicates = times

    def drain(self) -> list[Delivery]:
        """In queue mode: the webhook calls that are due, for the test to make (and `report`)."""
        return self.webhooks.drain()

    def report(self, delivery_id: int, status_code: int | None = None, error: str | None = None) -> WebhookAttempt:
        """How a drained call was answered: a status code, or the error that stopped it."""
        return self.webhooks.report(delivery_id, status_code, error)

    def reset(self) -> None:
        """Forget every payment, reply, fault and webhook call; the clock and settings as at the start."""
        with self.lock:
            self.store.reset()
            self.webhooks.reset()
            self.faults.clear()
            self.replies.clear()
            self.clock.offset = timedelta()
            self.webhook_mode, self.duplicates = self.defaults
