"""Mollie's webhook calls: `id=tr_…` posted to the payment's `webhookUrl`, retried until a 200.

As at Mollie (MOLLIE.md §c): form-encoded, `User-Agent: Mollie HTTP client/1.0`, a 15 s timeout,
redirects not followed, and only a 200 counts as delivered. The retry schedule is Mollie's ten
attempts compressed from about 26 hours to minutes, and runs on the stand-in's clock, so a test
that moves the clock on also brings retries forward.

In `auto` mode a thread posts each call when it is due. In `queue` mode nothing is sent: a test
takes the due calls with `drain()`, delivers them itself (say through Litestar's test client) and
reports each answer with `report()`, which schedules the retry a failure earns.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

import httpx
import msgspec

from funding.mollie_standin.model import Clock, StandinError

log = logging.getLogger(__name__)

USER_AGENT = "Mollie HTTP client/1.0"
TIMEOUT = 15.0
"""Seconds Mollie waits for an answer."""
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0)
"""Seconds from a failed attempt to the next: ten attempts in all, as at Mollie."""
IDLE_WAIT = 0.5
"""Most seconds the sending thread sleeps before it looks at the clock again (tests move it)."""


class WebhookMode(StrEnum):
    AUTO = "auto"
    QUEUE = "queue"


class Delivery(msgspec.Struct, frozen=True):
    """One call to make: attempt `attempt` (from 1) of telling `url` about `payment_id`."""

    id: int
    payment_id: str
    url: str
    attempt: int
    due: datetime

    @property
    def form(self) -> dict[str, str]:
        return {"id": self.payment_id}

    @property
    def headers(self) -> dict[str, str]:
        return {"user-agent": USER_AGENT}

    @property
    def path(self) -> str:
        """The URL without its scheme and host: for a test client that serves the app on a host of its own."""
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")


class WebhookAttempt(msgspec.Struct, frozen=True):
    """A call made: its answer's status code, or why there was none."""

    delivery: int
    payment_id: str
    url: str
    attempt: int
    at: datetime
    status_code: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code == 200


class Dispatcher:
    """The calls waiting to be made, those taken but not yet answered, and every attempt."""

    def __init__(
        self,
        lock: threading.RLock,
        clock: Clock,
        *,
        mode: WebhookMode | str = WebhookMode.AUTO,
        duplicates: int = 1,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        timeout: float = TIMEOUT,
    ) -> None:
        self.clock, self.timeout = clock, timeout
        self.changed = threading.Condition(lock)
        self.mode, self.duplicates, self.retry_delays = WebhookMode(mode), duplicates, retry_delays
        self.waiting: list[Delivery] = []
        self.taken: dict[int, Delivery] = {}
        self.attempts: list[WebhookAttempt] = []
        self.numbers = itertools.count(1)
        self.thread: threading.Thread | None = None
        self.stopping = False

    def reset(self) -> None:
        with self.changed:
            self.waiting.clear()
            self.taken.clear()
            self.attempts.clear()

    def enqueue(self, payment_id: str, url: str | None) -> None:
        """Queue the call a change to `payment_id` makes (`duplicates` of them); none without a webhook."""
        if not url:
            return
        with self.changed:
            for _ in range(self.duplicates):
                self._schedule(payment_id, url, attempt=1, due=self.clock.now())
            self.changed.notify_all()

    def _schedule(self, payment_id: str, url: str, attempt: int, due: datetime) -> None:
        self.waiting.append(Delivery(next(self.numbers), payment_id, url, attempt, due))

    def drain(self) -> list[Delivery]:
        """Take every call that is due; each one is answered with `report`."""
        with self.changed:
            now = self.clock.now()
            due = [delivery for delivery in self.waiting if delivery.due <= now]
            self.waiting = [delivery for delivery in self.waiting if delivery.due > now]
            self.taken.update((delivery.id, delivery) for delivery in due)
            return due

    def report(self, delivery_id: int, status_code: int | None = None, error: str | None = None) -> WebhookAttempt:
        """Record how a taken call was answered; a failure schedules the next attempt, if one is left."""
        with self.changed:
            delivery = self.taken.pop(delivery_id, None)
            if delivery is None:
                raise StandinError(404, f"No webhook delivery {delivery_id} is waiting for its answer.")
            now = self.clock.now()
            attempt = WebhookAttempt(
                delivery_id, delivery.payment_id, delivery.url, delivery.attempt, now, status_code, error
            )
            self.attempts.append(attempt)
            if not attempt.ok and delivery.attempt <= len(self.retry_delays):
                delay = timedelta(seconds=self.retry_delays[delivery.attempt - 1])
                self._schedule(delivery.payment_id, delivery.url, delivery.attempt + 1, now + delay)
                self.changed.notify_all()
            return attempt

    def history(self, payment_id: str | None = None) -> list[WebhookAttempt]:
        with self.changed:
            return [a for a in self.attempts if payment_id is None or a.payment_id == payment_id]

    def wake(self) -> None:
        with self.changed:
            self.changed.notify_all()

    # -- auto mode --------------------------------------------------------------------------
    def start(self) -> None:
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="mollie-standin-webhooks", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        with self.changed:
            self.stopping = True
            self.changed.notify_all()
        if self.thread:
            self.thread.join()
            self.thread = None

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as http:
            while True:
                with self.changed:
                    if self.stopping:
                        return
                    due = self.drain() if self.mode == WebhookMode.AUTO else []
                    if not due:
                        self.changed.wait(self._idle_seconds())
                        continue
                for delivery in due:
                    self._send(http, delivery)

    def _idle_seconds(self) -> float:
        if self.mode != WebhookMode.AUTO or not self.waiting:
            return IDLE_WAIT
        soonest = min(delivery.due for delivery in self.waiting)
        return min(max((soonest - self.clock.now()).total_seconds(), 0.01), IDLE_WAIT)

    def _send(self, http: httpx.Client, delivery: Delivery) -> None:
        status_code, error = None, None
        try:
            status_code = http.post(delivery.url, data=delivery.form, headers=delivery.headers).status_code
        except (httpx.HTTPError, httpx.InvalidURL) as failed:
            log.info("webhook %s for %s failed: %s", delivery.url, delivery.payment_id, failed)
            error = f"{type(failed).__name__}: {failed}"
        with contextlib.suppress(StandinError):  # forgotten by a reset while it was on its way
            self.report(delivery.id, status_code, error)
