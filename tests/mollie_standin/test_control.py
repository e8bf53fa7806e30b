"""The control API (`/_standin/…`): `MollieStandin`'s methods over HTTP, for a stand-in in another process."""

from __future__ import annotations

import httpx
import pytest

from tests.mollie_standin.conftest import payment_data


@pytest.fixture
def control(standin):
    with httpx.Client(base_url=f"{standin.url}/_standin", timeout=5) as client:
        yield client


def test_a_payment_is_paid_refunded_and_charged_back_over_http(mollie, control):
    payment = mollie.payments.create(payment_data())

    paid = control.post(f"/payments/{payment.id}/status", json={"status": "paid"})
    assert paid.status_code == 200 and paid.json()["status"] == "paid" and paid.json()["paidAt"]
    refund = mollie.payments.get(payment.id).refunds.create({"amount": {"currency": "EUR", "value": "5.00"}})
    settled = control.post(f"/refunds/{refund.id}/status", json={"status": "refunded"})
    assert settled.json()["status"] == "refunded"
    whole = control.post(f"/payments/{payment.id}/chargebacks")
    part = control.post(f"/payments/{payment.id}/chargebacks", json={"amount_cents": 250})
    assert whole.status_code == 201 and whole.json()["amount"]["value"] == "25.00"
    assert part.json()["amount"]["value"] == "2.50"
    reversed_ = control.post(f"/chargebacks/{whole.json()['id']}/reverse")
    assert reversed_.json()["reversedAt"]

    shown = control.get(f"/payments/{payment.id}").json()
    assert shown["amountChargedBack"]["value"] == "2.50"
    assert [r["status"] for r in shown["_embedded"]["refunds"]] == ["refunded"]
    assert [p["id"] for p in control.get("/payments").json()] == [payment.id]


def test_webhook_calls_are_drained_and_reported_over_http(mollie, control):
    payment = mollie.payments.create(payment_data())
    control.post(f"/payments/{payment.id}/status", json={"status": "paid"})

    (delivery,) = control.post("/webhooks/drain").json()
    assert delivery["payment_id"] == payment.id and delivery["attempt"] == 1
    reported = control.post(f"/webhooks/{delivery['id']}/report", json={"status_code": 500})
    assert reported.json()["status_code"] == 500

    assert control.post("/clock", json={"seconds": 1}).status_code == 200
    (retry,) = control.post("/webhooks/drain").json()
    control.post(f"/webhooks/{retry['id']}/report", json={"status_code": 200})
    attempts = control.get("/webhooks", params={"payment_id": payment.id}).json()
    assert [(a["attempt"], a["status_code"]) for a in attempts] == [(1, 500), (2, 200)]
    assert control.post(f"/webhooks/{retry['id']}/report", json={"status_code": 200}).status_code == 404


def test_settings_faults_clock_and_reset_over_http(mollie, control):
    assert control.get("/settings").json() == {"webhook_mode": "queue", "duplicates": 1}
    assert control.post("/settings", json={"duplicates": 2}).json() == {"webhook_mode": "queue", "duplicates": 2}
    payment = mollie.payments.create(payment_data())

    assert control.post("/faults", json={"kind": "html"}).status_code == 204
    answer = httpx.get(f"{mollie.api_endpoint}/v2/payments", headers={"Authorization": "Bearer test_x"})
    assert answer.status_code == 502 and answer.headers["content-type"] == "text/html"

    assert control.post("/expire-overdue", json={}).json() == {"expired": []}
    control.post("/clock", json={"seconds": 15 * 60})
    assert control.post("/expire-overdue").json() == {"expired": [payment.id]}
    assert len(control.post("/webhooks/drain").json()) == 2  # the expiry, called twice

    assert control.post("/reset").status_code == 204
    assert control.get("/payments").json() == []
    assert control.get("/settings").json()["duplicates"] == 1


def test_mistakes_are_answered_in_mollies_error_shape(control, mollie):
    missing = control.post("/payments/tr_nothere/status", json={"status": "paid"})
    assert missing.status_code == 404 and missing.json()["detail"] == "No payment exists with token tr_nothere."
    payment = mollie.payments.create(payment_data())
    wrong = control.post(f"/payments/{payment.id}/status", json={"status": "done"})
    assert wrong.status_code == 422 and wrong.json()["field"] == "status"
    unknown_kind = control.post("/faults", json={"kind": "fire"})
    assert unknown_kind.status_code == 400 and unknown_kind.json()["status"] == 400
