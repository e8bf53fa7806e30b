"""Payments through the real `mollie` client: create, read, list, update, cancel, and the errors
the client turns into its exceptions."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
import requests
from mollie.api.client import Client
from mollie.api.error import BadRequestError, NotFoundError, UnauthorizedError, UnprocessableEntityError

from tests.mollie_standin.conftest import payment_data


def test_a_new_payment_is_open_with_a_checkout_link_and_an_expiry(mollie, standin):
    payment = mollie.payments.create(payment_data())

    assert payment.id.startswith("tr_") and len(payment.id) == 13
    assert payment.is_open() and payment.mode == "test"
    assert payment.amount == {"currency": "EUR", "value": "25.00"}
    assert payment.metadata == {"pledge_id": "P-1042", "attempt": 1}
    assert payment.checkout_url == f"{standin.url}/checkout/{payment.id}"
    assert payment.expires_at > payment.created_at
    assert not payment.is_paid() and not payment.can_be_refunded()
    assert not payment.has_refunds() and not payment.has_chargebacks()
    assert "amountRefunded" not in payment and "amountChargedBack" not in payment


def test_a_repeated_idempotency_key_replays_the_first_answer(mollie, standin, caplog):
    first = mollie.payments.create(payment_data(), idempotency_key="pledge-P-1042-1")
    with caplog.at_level(logging.WARNING):
        again = mollie.payments.create(payment_data(), idempotency_key="pledge-P-1042-1")

    assert again.id == first.id
    assert len(standin.payments()) == 1
    assert "Idempotent-Replayed" in caplog.text  # the client saw the header

    with pytest.raises(UnprocessableEntityError) as reused:
        mollie.payments.create(payment_data(description="Something else"), idempotency_key="pledge-P-1042-1")
    assert reused.value.field == "Idempotency-Key"
    assert mollie.payments.create(payment_data()).id != first.id  # a fresh key, a fresh payment


def test_the_replay_header_is_there_and_only_on_a_replay(standin):
    call = {
        "url": f"{standin.url}/v2/payments",
        "json": payment_data(),
        "headers": {"Authorization": "Bearer test_x", "Idempotency-Key": "k"},
        "timeout": 5,
    }
    first, second = requests.post(**call), requests.post(**call)

    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert first.headers["content-type"] == "application/hal+json"


def test_get_embeds_refunds_and_chargebacks_on_request(mollie, standin):
    payment = mollie.payments.create(payment_data())
    standin.set_status(payment.id, "paid")
    refund = mollie.payments.get(payment.id).refunds.create({"amount": {"currency": "EUR", "value": "5.00"}})
    chargeback = standin.add_chargeback(payment.id, 1000)

    plain = mollie.payments.get(payment.id)
    embedded = mollie.payments.get(payment.id, embed="refunds,chargebacks")

    assert "_embedded" not in plain
    assert [r["id"] for r in embedded.get_embedded("refunds")] == [refund.id]
    assert [c["id"] for c in embedded.get_embedded("chargebacks")] == [chargeback["id"]]


def test_the_list_pages_newest_first_and_get_next_follows_the_cursor(mollie):
    made = [mollie.payments.create(payment_data(description=f"Pledge {n}")).id for n in range(5)]

    first = mollie.payments.list(limit=2)
    second = first.get_next()
    third = second.get_next()

    assert [p.id for p in first] == made[::-1][:2]
    assert [p.id for p in second] == made[::-1][2:4]
    assert [p.id for p in third] == made[::-1][4:]
    assert not third.has_next() and third.get_next() is None
    assert [p.id for p in second.get_previous()] == [p.id for p in first]
    assert [p.id for p in mollie.payments.list(limit=250, **{"from": made[2]})] == made[2::-1]


def test_every_link_starts_with_the_endpoint_the_client_was_given(mollie, standin):
    mollie.payments.create(payment_data())
    mollie.payments.create(payment_data())

    listing = mollie.payments.list(limit=1)

    assert listing["_links"]["next"]["href"].startswith(f"{mollie.api_endpoint}/v2/payments?")
    assert listing["_links"]["self"]["href"].startswith(f"{mollie.api_endpoint}/v2/")
    assert listing[0]["_links"]["self"]["href"] == f"{standin.url}/v2/payments/{listing[0].id}"


def test_a_list_limit_above_250_is_refused(mollie):
    with pytest.raises(BadRequestError) as refused:
        mollie.payments.list(limit=251)
    assert refused.value.status == 400


def test_only_a_cancelable_payment_can_be_canceled(mollie):
    transfer = mollie.payments.create(payment_data(method="banktransfer", billingEmail="finance@gemeente.example"))
    ideal = mollie.payments.create(payment_data(method="ideal"))
    assert transfer.is_cancelable and not ideal.is_cancelable
    assert transfer.details["transferReference"]

    canceled = mollie.payments.delete(transfer.id)

    assert canceled.is_canceled() and canceled.canceled_at and not canceled.is_cancelable
    assert canceled.checkout_url is None and "expiresAt" not in canceled
    with pytest.raises(UnprocessableEntityError):
        mollie.payments.delete(ideal.id)
    with pytest.raises(UnprocessableEntityError):
        mollie.payments.delete(transfer.id)


def test_an_open_payment_can_be_updated_and_a_due_date_moves_its_expiry(mollie):
    payment = mollie.payments.create(payment_data(method="banktransfer"))
    due = datetime.fromisoformat(payment.created_at).date() + timedelta(days=30)

    updated = mollie.payments.update(payment.id, {"description": "Pledge P-1042 (renewed)", "dueDate": str(due)})

    assert updated.description == "Pledge P-1042 (renewed)"
    assert updated["dueDate"] == str(due)
    assert updated.expires_at.startswith(str(due + timedelta(days=1)))
    with pytest.raises(UnprocessableEntityError) as too_late:
        mollie.payments.update(payment.id, {"dueDate": str(due + timedelta(days=100))})
    assert too_late.value.field == "dueDate"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": {"currency": "EUR", "value": "25"}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": 25.0}}, "amount.value"),
        ({"amount": {"currency": "EUR", "value": "0.00"}}, "amount.value"),
        ({"amount": {"currency": "USD", "value": "25.00"}}, "amount.currency"),
        ({"amount": {"value": "25.00"}}, "amount.currency"),
        ({"description": "x" * 256}, "description"),
        ({"redirectUrl": "not a url"}, "redirectUrl"),
        ({"webhookUrl": "ftp://example/hook"}, "webhookUrl"),
        ({"metadata": {"notes": "x" * 1100}}, "metadata"),
        ({"method": "bitcoin"}, "method"),
    ],
)
def test_bad_input_is_refused_with_the_field_named(mollie, overrides, field):
    with pytest.raises(UnprocessableEntityError) as refused:
        mollie.payments.create(payment_data(**overrides))
    assert refused.value.status == 422
    assert refused.value.field == field


def test_a_missing_field_is_named_too(mollie):
    data = payment_data()
    del data["redirectUrl"]
    with pytest.raises(UnprocessableEntityError) as refused:
        mollie.payments.create(data)
    assert refused.value.field == "redirectUrl"


def test_localhost_webhooks_are_accepted(mollie):
    payment = mollie.payments.create(payment_data(webhookUrl="http://localhost:8000/webhooks/mollie"))
    assert payment.webhook_url == "http://localhost:8000/webhooks/mollie"


def test_malformed_json_is_a_bad_request(standin):
    answer = requests.post(
        f"{standin.url}/v2/payments", data=b"{not json", headers={"Authorization": "Bearer test_x"}, timeout=5
    )
    assert answer.status_code == 400
    assert answer.json()["status"] == 400 and answer.json()["title"] == "Bad Request"


def test_an_unknown_payment_is_not_found(mollie):
    with pytest.raises(NotFoundError) as missing:
        mollie.payments.get("tr_x")
    assert str(missing.value) == "No payment exists with token tr_x."


@pytest.mark.parametrize("authorization", [None, "Bearer nope", "Basic test_x", "Bearer test_"])
def test_without_a_test_or_live_key_nothing_is_answered(standin, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    answer = requests.get(f"{standin.url}/v2/payments", headers=headers, timeout=5)

    assert answer.status_code == 401
    body = answer.json()
    assert body["title"] == "Unauthorized Request"
    assert body["detail"] == "Missing authentication, or failed to authenticate"
    assert body["_links"]["documentation"]["href"].startswith("https://docs.mollie.com/")


def test_the_client_maps_401_to_its_unauthorized_error(standin):
    client = Client()
    client.set_access_token("access_notakey")  # a shape the stand-in refuses, as Mollie refuses a revoked key
    client.set_api_endpoint(standin.url)
    with pytest.raises(UnauthorizedError):
        client.payments.list()
