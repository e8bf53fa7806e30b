"""A fleet of HTTP clients booking journal entries through the staff API, the way an import
script would: every entry has its own `Idempotency-Key`, and a request that gets no answer, or a
5xx, is sent again with the same key (to the next server) until it is acknowledged.

The fleet records what it saw, so a test can compare the journal with what the clients were told:
every acknowledged entry must be booked exactly once, whatever crashed in between.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

ENTRIES_PATH = "/staff/api/v1/journal/entries"
ACCOUNTS_PATH = "/staff/api/v1/accounts"
ACCOUNTS = ("assets:bank", "income:contributions", "expenses:events")


@dataclass
class Sent:
    """One entry a client booked (or tried to): what it sent and what it was told."""

    key: str
    description: str
    attempts: int = 0
    acked_seq: int | None = None
    acked_by: str | None = None
    acked_at: float | None = None
    unanswered: int = 0
    """Attempts that were sent but got no response (the connection dropped or timed out)."""
    last_attempt_at: float | None = None


@dataclass
class Fleet:
    """`clients` threads, each booking up to `per_client` entries against `servers` (base URLs,
    read on every attempt, so a test may swap one), until `stop()`."""

    servers: Sequence[str]
    token: str
    run_id: str
    clients: int = 4
    per_client: int = 200
    pause: float = 0.05
    entry_deadline: float = 30.0
    """How long one entry is retried before the client gives up on it (a test failure)."""
    attempt_timeout: float = 5.0
    impatient: float = 0.1
    """The share of entries whose first attempt stops waiting for the answer after 2 ms, as a
    client that times out does: often the server books it anyway, and only the key stops the
    retry from booking it again."""
    sent: list[Sent] = field(default_factory=list)
    surprises: list[str] = field(default_factory=list)
    """Answers no retry can fix (4xx): the test fails on any."""
    errors: Counter = field(default_factory=Counter)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _in_flight: Counter = field(default_factory=Counter)

    # -- running --------------------------------------------------------------------------------
    def start(self) -> Fleet:
        for number in range(self.clients):
            thread = threading.Thread(target=self._client, args=(number,), name=f"client-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self, timeout: float = 60) -> None:
        """Ask every client to finish the entry in hand (acknowledged or given up), then wait."""
        alive = self.halt(timeout)
        assert not alive, f"clients still running after {timeout} s: {alive}"

    def halt(self, timeout: float = 60) -> list[str]:
        """`stop` for teardown: never raises; returns the clients still running (daemon threads)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in self._threads if t.is_alive()]

    def wait_until(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}: {self.summary()}")
            if self.surprises:
                raise AssertionError(f"unexpected answers: {self.surprises[:5]}")
            time.sleep(0.05)

    def wait_for_acks(self, more: int, timeout: float = 30) -> None:
        target = len(self.acked()) + more
        self.wait_until(lambda: len(self.acked()) >= target, timeout, f"{target} acknowledged entries")

    # -- what happened --------------------------------------------------------------------------
    def acked(self, since: float = 0.0, by: str | None = None) -> list[Sent]:
        with self._lock:
            return [
                s
                for s in self.sent
                if s.acked_at is not None and s.acked_at >= since and (by is None or s.acked_by == by)
            ]

    def in_flight(self, server: str) -> int:
        """Requests sent to `server` and not answered yet."""
        with self._lock:
            return self._in_flight[server]

    def booked_before_the_answer_was_lost(self) -> list[Sent]:
        """Entries whose answer was lost but which were booked by that attempt: the retry was
        answered with the entry already there. (Seqs grow in commit order, so an entry whose
        seq is below one acknowledged before its last attempt began was booked earlier.)"""
        with self._lock:
            acked = sorted((s for s in self.sent if s.acked_at is not None), key=lambda s: s.acked_at)
            found = []
            for sent in acked:
                if sent.unanswered and any(
                    other.acked_at < sent.last_attempt_at and other.acked_seq > sent.acked_seq for other in acked
                ):
                    found.append(sent)
            return found

    def given_up(self) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.acked_seq is None]

    def summary(self) -> dict:
        with self._lock:
            return {
                "entries sent": len(self.sent),
                "acknowledged": sum(s.acked_seq is not None for s in self.sent),
                "requests": sum(s.attempts for s in self.sent),
                "entries retried": sum(s.attempts > 1 for s in self.sent),
                "attempts without an answer": sum(s.unanswered for s in self.sent),
                "entries retried after a lost answer": sum(s.unanswered > 0 for s in self.sent),
                "failed attempts by kind": dict(self.errors),
                "acks by server": dict(Counter(s.acked_by for s in self.sent if s.acked_by)),
            }

    # -- one client -----------------------------------------------------------------------------
    def _client(self, number: int) -> None:
        rng = random.Random(f"{self.run_id}-{number}")
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(timeout=httpx.Timeout(self.attempt_timeout, connect=2.0)) as http:
            for index in range(self.per_client):
                if self._stop.is_set():
                    return
                sent = Sent(
                    key=f"{self.run_id}-c{number}-{index}",
                    description=f"Crashproef {self.run_id}: client {number}, boeking {index}",
                )
                with self._lock:
                    self.sent.append(sent)
                impatient = rng.random() < self.impatient
                self._book(http, headers, number + index, sent, self._entry(rng, sent), impatient)
                time.sleep(self.pause)

    def _entry(self, rng: random.Random, sent: Sent) -> dict:
        cents = rng.choice([1, rng.randint(2, 99_99), rng.randint(100_00, 10_000_000_00)])
        debit, credit = rng.sample(ACCOUNTS, 2)
        return {
            "kind": "crash_test",
            "description": sent.description,
            "occurred_on": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            "postings": [{"account": debit, "amount": cents}, {"account": credit, "amount": -cents}],
        }

    def _book(self, http: httpx.Client, headers: dict, first: int, sent: Sent, body: dict, impatient: bool) -> None:
        """Send until acknowledged, the next attempt to the next server, same key every time."""
        deadline = time.monotonic() + self.entry_deadline
        while time.monotonic() < deadline:
            servers = list(self.servers)
            server = servers[(first + sent.attempts) % len(servers)]
            sent.attempts += 1
            sent.last_attempt_at = time.monotonic()
            read = 0.002 if impatient and sent.attempts == 1 else self.attempt_timeout
            timeout = httpx.Timeout(self.attempt_timeout, connect=2.0, read=read)
            if self._attempt(http, server, headers, sent, body, timeout):
                return
            time.sleep(0.05 + 0.1 * min(sent.attempts, 5) * random.random())

    def _attempt(
        self, http: httpx.Client, server: str, headers: dict, sent: Sent, body: dict, timeout: httpx.Timeout
    ) -> bool:
        """One request; True when it settled the entry (acknowledged, or refused for good)."""
        with self._lock:
            self._in_flight[server] += 1
        try:
            response = http.post(
                server + ENTRIES_PATH, json=body, headers={**headers, "Idempotency-Key": sent.key}, timeout=timeout
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            self._failed(type(exc).__name__)  # never reached the server: safe to resend
            return False
        except httpx.TransportError as exc:
            sent.unanswered += 1  # may or may not have been booked: the key decides
            self._failed(type(exc).__name__)
            return False
        finally:
            with self._lock:
                self._in_flight[server] -= 1
        if response.status_code == 201:
            answer = response.json()
            with self._lock:
                sent.acked_seq, sent.acked_by, sent.acked_at = answer["seq"], server, time.monotonic()
            if answer["description"] != sent.description:
                self._surprise(f"{sent.key}: answered with another entry: {answer}")
            return True
        if response.status_code < 500:
            self._surprise(f"{sent.key}: {response.status_code} {response.text[:200]}")
            return True
        self._failed(f"HTTP {response.status_code}")
        return False

    def _failed(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def _surprise(self, what: str) -> None:
        with self._lock:
            self.surprises.append(what)


def open_accounts(server: str, token: str) -> None:
    for name in ACCOUNTS:
        response = httpx.post(
            server + ACCOUNTS_PATH, json={"name": name}, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        response.raise_for_status()
