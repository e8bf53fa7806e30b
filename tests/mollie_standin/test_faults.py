"""Injected faults reach the client as the exceptions a real outage raises."""

from __future__ import annotations

import pytest
import requests
from mollie.api.error import RequestError, ResponseError, ResponseHandlingError

from tests.mollie_standin.conftest import TIMEOUT, payment_data


def test_a_503_is_a_response_error_and_only_the_next_calls_fail(mollie, standin):
    standin.fail_next(2)

    for _ in range(2):
        with pytest.raises(ResponseError) as failed:
            mollie.payments.list()
        assert failed.value.status == 503
    assert len(mollie.payments.list()) == 0


def test_a_status_of_choice(mollie, standin):
    standin.fail_next(status=500)
    with pytest.raises(ResponseError) as failed:
        mollie.payments.create(payment_data())
    assert failed.value.status == 500
    assert standin.payments() == []  # a failed call does nothing


def test_a_page_that_is_not_json_is_a_response_handling_error(mollie, standin):
    standin.fail_next(kind="html")
    with pytest.raises(ResponseHandlingError, match="status code: 502"):
        mollie.payments.list()


def test_a_dropped_connection_is_a_request_error(mollie, standin):
    standin.fail_next(kind="drop")
    with pytest.raises(RequestError):
        mollie.payments.list()
    assert len(mollie.payments.list()) == 0  # the next connection is fine


def test_a_slow_answer_times_out_but_the_call_was_made_and_its_key_replays(mollie, standin):
    standin.fail_next(kind="slow", delay=TIMEOUT[1] + 0.3)

    with pytest.raises(RequestError, match="timed out"):
        mollie.payments.create(payment_data(), idempotency_key="pledge-P-7-1")
    retried = mollie.payments.create(payment_data(), idempotency_key="pledge-P-7-1")

    assert [p["id"] for p in standin.payments()] == [retried.id]  # made once, though asked twice


def test_faults_touch_only_the_api(mollie, standin):
    payment = mollie.payments.create(payment_data())
    standin.fail_next(kind="drop")

    assert requests.get(f"{standin.url}/checkout/{payment.id}", timeout=5).status_code == 200
    assert requests.get(f"{standin.url}/_standin/payments", timeout=5).status_code == 200
    with pytest.raises(RequestError):
        mollie.payments.get(payment.id)
