"""The test checkout page, and the webhook calls its choices (and refunds, chargebacks, expiry) make:
queued for the test to deliver, or posted by the stand-in itself."""

from __future__ import annotations

import threading
import time
from collections import deque
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import msgspec
import pytest
import requests
from litestar import Litestar, Response, post
from litestar.params import URLEncodedBody
from litestar.testing import TestClient

from funding.mollie_standin import MollieStandin
from tests.mollie_standin.conftest import payment_data

RETURN = "https://funding.example/pledges/P-1042/return"
CANCEL = "https://funding.example/pledges/P-1042"


def checkout(standin, payment_id: str, status: str) -> requests.Response:
    return requests.post(
        f"{standin.url}/checkout/{payment_id}", data={"status": status}, allow_redirects=False, timeout=5
    )


# -- the page ----------------------------------------------------------------------------------


def test_the_checkout_page_offers_every_outcome_as_a_labelled_choice(mollie, standin):
    payment = mollie.payments.create(payment_data())

    page = requests.get(payment.checkout_url, timeout=5)

    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<html lang="nl">' in html and "<main>" in html and "<h1>" in html
    assert '<span lang="en">' in html and "EUR 25.00" in html
    for status in ("paid", "failed", "canceled", "expired", "open"):
        assert f'id="status-{status}" name="status" value="{status}"' in html
        assert f'<label for="status-{status}">' in html
    assert f'<form method="post" action="/checkout/{payment.id}">' in html and '<button type="submit">' in html


def test_a_bank_transfer_is_only_paid_expired_or_left_open(mollie, standin):
    payment = mollie.payments.create(payment_data(method="banktransfer"))

    html = requests.get(payment.checkout_url, timeout=5).text

    assert 'value="paid"' in html and 'value="expired"' in html and 'value="open"' in html
    assert 'value="failed"' not in html and 'value="canceled"' not in html
    assert checkout(standin, payment.id, "failed").status_code == 409


def test_paying_stamps_the_time_sends_the_customer_back_and_queues_the_webhook(mollie, standin):
    payment = mollie.payments.create(payment_data())

    answer = checkout(standin, payment.id, "paid")

    assert answer.status_code == 303 and answer.headers["location"] == RETURN
    paid = mollie.payments.get(payment.id)
    assert paid.is_paid() and paid.paid_at and paid.checkout_url is None and "expiresAt" not in paid
    assert paid.amount_remaining == {"currency": "EUR", "value": "25.00"}
    assert [(d.payment_id, d.url, d.attempt) for d in standin.drain()] == [
        (payment.id, "https://funding.example/webhooks/mollie", 1)
    ]


def test_a_decided_payment_shows_what_became_of_it_and_takes_no_second_choice(mollie, standin):
    payment = mollie.payments.create(payment_data())
    checkout(standin, payment.id, "failed")

    page = requests.get(f"{standin.url}/checkout/{payment.id}", timeout=5)

    assert page.status_code == 200 and "Deze betaling is mislukt" in page.text and "<form" not in page.text
    assert f'href="{RETURN}"' in page.text
    assert checkout(standin, payment.id, "paid").status_code == 409
    assert mollie.payments.get(payment.id).failed_at


@pytest.mark.parametrize(("cancel_url", "back_to"), [(CANCEL, CANCEL), (None, RETURN)])
def test_canceling_goes_to_the_cancel_url_if_there_is_one(mollie, standin, cancel_url, back_to):
    payment = mollie.payments.create(payment_data(cancelUrl=cancel_url))

    answer = checkout(standin, payment.id, "canceled")

    assert answer.headers["location"] == back_to
    assert mollie.payments.get(payment.id).canceled_at


def test_leaving_it_open_changes_nothing_and_calls_no_webhook(mollie, standin):
    payment = mollie.payments.create(payment_data())

    assert checkout(standin, payment.id, "open").headers["location"] == RETURN
    assert mollie.payments.get(payment.id).is_open()
    assert standin.drain() == []


# -- which changes call the webhook ------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "calls"),
    [("paid", 1), ("failed", 1), ("expired", 1), ("canceled", 1), ("authorized", 1), ("pending", 0), ("open", 0)],
)
def test_the_webhook_is_called_for_these_statuses_only(mollie, standin, status, calls):
    payment = mollie.payments.create(payment_data())
    standin.set_status(payment.id, status)
    assert len(standin.drain()) == calls


def test_no_webhook_url_no_call(mollie, standin):
    payment = mollie.payments.create(payment_data(webhookUrl=None))
    standin.set_status(payment.id, "paid")
    assert standin.drain() == []


def test_an_overdue_payment_expires_when_its_time_has_come(mollie, standin):
    payment = mollie.payments.create(payment_data())
    assert standin.expire_overdue() == []

    standin.advance_clock(15 * 60)

    expired = mollie.payments.get(payment.id)  # every API call expires what is overdue first
    assert expired.is_expired() and expired.expired_at and not expired.is_cancelable
    assert [d.payment_id for d in standin.drain()] == [payment.id]


def test_expire_overdue_takes_a_moment_of_its_own(mollie, standin):
    payment = mollie.payments.create(payment_data(method="banktransfer"))
    created = standin.payment(payment.id)
    soon = datetime.fromisoformat(created["createdAt"]) + timedelta(days=1)
    much_later = datetime.fromisoformat(created["expiresAt"])
    assert standin.expire_overdue(soon) == []
    assert standin.expire_overdue(much_later) == [payment.id]
    assert standin.payment(payment.id)["expiredAt"] == created["expiresAt"]


# -- queue mode: the test delivers ------------------------------------------------------------


class Hook(msgspec.Struct):
    id: str


class Receiver:
    """The app's webhook endpoint, answering with the statuses it is given, then 200."""

    def __init__(self) -> None:
        self.statuses: deque[int] = deque()
        self.seen: list[str] = []


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def app_client(receiver: Receiver):
    @post("/webhooks/mollie")
    async def webhook(data: URLEncodedBody[Hook]) -> Response:
        receiver.seen.append(data.id)
        return Response(None, status_code=receiver.statuses.popleft() if receiver.statuses else 200)

    with TestClient(Litestar([webhook])) as client:
        yield client


def deliver(standin: MollieStandin, client: TestClient) -> list[int]:
    """Make every due call through the app's test client, and report each answer."""
    codes = []
    for delivery in standin.drain():
        codes.append(client.post(delivery.path, data=delivery.form, headers=delivery.headers).status_code)
        standin.report(delivery.id, codes[-1])
    return codes


def test_a_drained_call_is_delivered_by_the_test_and_recorded(mollie, standin, app_client, receiver):
    payment = mollie.payments.create(payment_data())
    checkout(standin, payment.id, "paid")

    assert deliver(standin, app_client) == [200]

    assert receiver.seen == [payment.id]
    (attempt,) = standin.webhook_attempts(payment.id)
    assert attempt.ok and attempt.url == "https://funding.example/webhooks/mollie" and attempt.attempt == 1
    standin.advance_clock(3600)
    assert standin.drain() == []  # delivered: nothing more


def test_a_failure_is_retried_on_the_schedule_until_a_200(mollie, standin, app_client, receiver):
    receiver.statuses.extend([503, 201])
    payment = mollie.payments.create(payment_data())
    standin.set_status(payment.id, "paid")

    assert deliver(standin, app_client) == [503]
    assert standin.drain() == []  # the retry is a second away
    standin.advance_clock(1)
    assert deliver(standin, app_client) == [201]  # anything but 200 fails
    standin.advance_clock(1)
    assert standin.drain() == []  # two seconds after the second attempt
    standin.advance_clock(1)
    assert deliver(standin, app_client) == [200]

    attempts = standin.webhook_attempts(payment.id)
    assert [(a.attempt, a.status_code, a.ok) for a in attempts] == [(1, 503, False), (2, 201, False), (3, 200, True)]


def test_retries_stop_after_the_last_attempt(mollie, standin):
    payment = mollie.payments.create(payment_data())
    standin.set_status(payment.id, "paid")

    for _ in range(10):
        for delivery in standin.drain():
            standin.report(delivery.id, error="ConnectError: refused")
        standin.advance_clock(10)

    assert [a.attempt for a in standin.webhook_attempts()] == [1, 2, 3, 4]  # the folder's schedule: 1, 2, 4 s
    assert all(a.error == "ConnectError: refused" and a.status_code is None for a in standin.webhook_attempts())


def test_duplicates_send_each_call_more_than_once(mollie, standin):
    standin.duplicates = 3
    payment = mollie.payments.create(payment_data())
    standin.set_status(payment.id, "paid")

    deliveries = standin.drain()

    assert [d.payment_id for d in deliveries] == [payment.id] * 3
    assert len({d.id for d in deliveries}) == 3


def test_reset_forgets_everything_and_restores_the_settings(mollie, standin):
    standin.duplicates, standin.webhook_mode = 2, "auto"
    standin.set_status(mollie.payments.create(payment_data(webhookUrl=None)).id, "paid")
    standin.fail_next(3)
    standin.advance_clock(100)

    standin.reset()

    assert (standin.duplicates, standin.webhook_mode) == (1, "queue")
    assert standin.payments() == [] and standin.webhook_attempts() == []
    assert len(mollie.payments.list()) == 0  # no fault left


# -- auto mode: the stand-in posts ------------------------------------------------------------


class Endpoint(BaseHTTPRequestHandler):
    """A real webhook endpoint on a loopback port: records each call, answers from `server.statuses`."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"])).decode()
        self.server.calls.append((body, self.headers["user-agent"], self.headers["content-type"]))
        status = self.server.statuses.popleft() if self.server.statuses else 200
        self.send_response(status)
        if status == 302:
            self.send_header("location", "/elsewhere")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def endpoint():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    server.calls, server.statuses = [], deque()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def wait_for(condition, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_in_auto_mode_the_stand_in_posts_the_form_itself_and_retries(mollie, standin, endpoint):
    standin.webhook_mode = "auto"
    endpoint.statuses.extend([302])
    url = f"http://127.0.0.1:{endpoint.server_address[1]}/webhooks/mollie"
    payment = mollie.payments.create(payment_data(webhookUrl=url))

    checkout(standin, payment.id, "paid")
    wait_for(lambda: len(standin.webhook_attempts()) == 1)
    standin.advance_clock(1)  # the retry, now
    wait_for(lambda: len(standin.webhook_attempts()) == 2)

    assert [a.status_code for a in standin.webhook_attempts()] == [302, 200]  # a redirect is not followed
    assert endpoint.calls == [(f"id={payment.id}", "Mollie HTTP client/1.0", "application/x-www-form-urlencoded")] * 2


def test_an_endpoint_that_is_down_is_recorded_as_an_error(mollie, standin):
    standin.webhook_mode = "auto"
    payment = mollie.payments.create(payment_data(webhookUrl="http://127.0.0.1:9/webhooks/mollie"))

    standin.set_status(payment.id, "failed")
    wait_for(lambda: standin.webhook_attempts())

    (attempt,) = standin.webhook_attempts()
    assert attempt.status_code is None and attempt.error.startswith("ConnectError")
