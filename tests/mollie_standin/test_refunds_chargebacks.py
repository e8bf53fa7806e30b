"""Refunds and chargebacks: a paid payment stays paid, and shows them as amounts, links and objects."""

from __future__ import annotations

import pytest
from mollie.api.error import NotFoundError, UnprocessableEntityError

from funding.mollie_standin import StandinError
from tests.mollie_standin.conftest import payment_data


def euros(value: str) -> dict:
    return {"currency": "EUR", "value": value}


@pytest.fixture
def paid(mollie, standin):
    payment = mollie.payments.create(payment_data())
    standin.set_status(payment.id, "paid")
    return mollie.payments.get(payment.id)


def test_a_paid_payment_can_be_refunded_and_says_how_much_is_left(paid):
    assert paid.is_paid() and paid.can_be_refunded()
    assert paid.amount_refunded == euros("0.00") and paid.amount_remaining == euros("25.00")

    refund = paid.refunds.create({"amount": euros("10.00"), "description": "partial", "metadata": {"ledger": "R-9"}})
    after = paid.client.payments.get(paid.id)

    assert refund.id.startswith("re_") and refund.status == "pending"
    assert refund.payment_id == paid.id and refund.metadata == {"ledger": "R-9"}
    assert refund.settlement_amount == euros("-10.00")
    assert after.is_paid() and after.status == "paid" and after.paid_at == paid.paid_at
    assert after.amount_refunded == euros("10.00") and after.amount_remaining == euros("15.00")
    assert after.has_refunds() and not after.has_chargebacks()


def test_more_than_remains_cannot_be_refunded(paid):
    paid.refunds.create({"amount": euros("20.00")})
    with pytest.raises(UnprocessableEntityError) as refused:
        paid.refunds.create({"amount": euros("5.01")})
    assert refused.value.field == "amount"


def test_an_unpaid_payment_cannot_be_refunded(mollie):
    payment = mollie.payments.create(payment_data())
    with pytest.raises(UnprocessableEntityError):
        payment.refunds.create({"amount": euros("1.00")})


def test_refunds_are_listed_read_and_canceled_while_pending(paid):
    first = paid.refunds.create({"amount": euros("1.00")})
    second = paid.refunds.create({"amount": euros("2.00")})

    listed = paid.refunds.list()
    assert [r.id for r in listed] == [second.id, first.id]
    assert paid.refunds.get(first.id).amount == euros("1.00")

    assert paid.refunds.delete(first.id) == {}  # 204
    assert paid.refunds.get(first.id).status == "canceled"
    assert paid.client.payments.get(paid.id).amount_remaining == euros("23.00")  # a canceled one no longer counts
    with pytest.raises(UnprocessableEntityError):
        paid.refunds.delete(first.id)
    with pytest.raises(NotFoundError):
        paid.refunds.get("re_nothere")


def test_a_settled_refund_calls_the_webhook_and_a_failed_one_gives_the_amount_back(paid, standin):
    refund = paid.refunds.create({"amount": euros("5.00")})
    standin.drain()  # the payment's own paid call

    assert standin.settle_refund(refund.id, "processing")["status"] == "processing"
    assert standin.settle_refund(refund.id, "failed")["status"] == "failed"

    assert [d.payment_id for d in standin.drain()] == [paid.id, paid.id]
    assert paid.refunds.get(refund.id).status == "failed"
    assert paid.client.payments.get(paid.id).amount_remaining == euros("25.00")
    with pytest.raises(UnprocessableEntityError):
        paid.refunds.delete(refund.id)  # no longer pending


def test_a_chargeback_shows_on_the_payment_until_it_is_reversed(paid, standin):
    standin.drain()
    chargeback = standin.add_chargeback(paid.id, 1500)
    after = paid.client.payments.get(paid.id)

    assert chargeback["id"].startswith("chb_") and chargeback["reversedAt"] is None
    assert after.is_paid() and after.has_chargebacks() and not after.has_refunds()
    assert after.amount_chargedback == euros("15.00")
    listed = after.chargebacks.list()
    assert [c.id for c in listed] == [chargeback["id"]]
    assert after.chargebacks.get(chargeback["id"]).settlement_amount == euros("-15.00")

    reversed_ = standin.reverse_chargeback(chargeback["id"])

    assert reversed_["reversedAt"] is not None
    assert after.chargebacks.get(chargeback["id"]).reversed_at == reversed_["reversedAt"]
    assert "amountChargedBack" not in paid.client.payments.get(paid.id)
    assert len(standin.drain()) == 2  # charged back, then reversed


def test_a_whole_chargeback_by_default_and_only_of_a_paid_payment(paid, mollie, standin):
    assert standin.add_chargeback(paid.id)["amount"] == euros("25.00")
    open_payment = mollie.payments.create(payment_data())
    with pytest.raises(StandinError, match="only a paid payment"):
        standin.add_chargeback(open_payment.id)
