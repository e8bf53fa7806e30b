"""Paying a pledge online, end to end over real HTTP: the app's pages, the real mollie client,
the stand-in's API and checkout, and Mollie's webhook back into the app."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from funding.ledger.service import LedgerService
from funding.money import Money
from funding.payments.service import PaymentError, PaymentService, PaymentUnavailable
from funding.payments.tables import BookingKind, MollieBooking, PaymentStatus
from funding.pledges.service import PledgeRecord, PledgeService
from funding.pledges.tables import PledgeStatus
from tests.payments.conftest import balances, deliver

DUE = {"assets:receivable:pledges": 100_000, "income:contributions": -100_000}
PAID = {"assets:mollie": 100_000, "income:contributions": -100_000}


async def pay_now(client, pledge: PledgeRecord) -> str:
    """Press 'pay now' on the pledge's page: where the app sends the browser (Mollie's checkout)."""
    page = await client.get(f"/pledges/{pledge.token}")
    assert page.status_code == 200 and 'id="pay"' in page.text
    response = await client.post(
        f"/pledges/{pledge.token}/pay", data={"_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return response.headers["location"]


def checkout(url: str, status: str) -> str:
    """The payer's choice on the checkout page; where the checkout sends them back."""
    assert httpx.get(url).status_code == 200
    response = httpx.post(url, data={"status": status}, follow_redirects=False)
    assert response.status_code == 303
    return response.headers["location"]


async def test_pledge_pay_checkout_paid_webhook_books_it_and_the_pledge_is_paid(client, standin, pledges, ledger, due):
    url = await pay_now(client, due)
    assert url.startswith(standin.url + "/checkout/tr_")
    [created] = standin.payments()
    assert created["amount"] == {"currency": "EUR", "value": "1000.00"}
    assert created["metadata"]["pledge_id"] == due.id
    assert created["redirectUrl"] == f"http://testserver.local/pledges/{due.token}/return"
    assert created["webhookUrl"] == "http://testserver.local/webhooks/mollie"
    back = checkout(url, "paid")
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == PAID
    assert (await pledges.pledge_by_token(due.token)).status is PledgeStatus.paid
    entry = (await ledger.page(limit=1)).entries[0]
    assert (entry.kind, entry.reference) == ("payment", created["id"])
    assert "Gemeente Amsterdam" in entry.description
    page = await client.get(back)  # the return page after the webhook: nothing more to book
    assert page.status_code == 200 and "Dank u wel: uw betaling is ontvangen." in page.text
    assert await balances(ledger) == PAID
    public = await client.get("/ledger")
    assert created["id"] in public.text


@pytest.mark.parametrize("status", ["failed", "canceled", "expired"])
async def test_failed_canceled_and_expired_payments_book_nothing(client, standin, pledges, ledger, due, status):
    before = await balances(ledger)
    back = checkout(await pay_now(client, due), status)
    assert await deliver(standin, client) == [200]
    page = await client.get(back)
    assert "De betaling is niet voltooid" in page.text
    assert await balances(ledger) == before
    assert (await pledges.pledge_by_token(due.token)).status is PledgeStatus.due
    assert 'id="pay"' in page.text, "the pledger can try again"
    await pay_now(client, due)
    assert len(standin.payments()) == 2, "a new attempt: the ended one is not offered again"


async def test_the_return_page_books_a_payment_whose_webhook_has_not_come(client, standin, pledges, ledger, due):
    back = checkout(await pay_now(client, due), "paid")
    page = await client.get(back)
    assert "Dank u wel" in page.text
    assert await balances(ledger) == PAID
    assert await deliver(standin, client) == [200], "the late webhook books nothing more"
    assert await balances(ledger) == PAID


async def test_pay_now_again_asks_mollie_first_about_the_open_payment(client, standin, pledges, ledger, due):
    """The payer paid (or gave up) at the checkout and no webhook came yet: 'pay now' does not
    offer that checkout again."""
    checkout(await pay_now(client, due), "paid")
    standin.drain()  # the webhook is late
    response = await client.post(
        f"/pledges/{due.token}/pay", data={"_csrf_token": client.cookies["csrftoken"]}, follow_redirects=False
    )
    assert response.headers["location"] == f"/pledges/{due.token}/return"
    assert await balances(ledger) == PAID and len(standin.payments()) == 1


async def test_pay_now_after_giving_up_at_the_checkout_makes_a_new_payment(client, standin, due):
    first = await pay_now(client, due)
    checkout(first, "canceled")
    standin.drain()  # the webhook is late
    second = await pay_now(client, due)
    assert second != first and second.startswith(standin.url + "/checkout/tr_")
    assert len(standin.payments()) == 2


async def test_a_partly_paid_pledge_pays_what_is_left(client, standin, pledges, ledger, due):
    await pledges.receive(
        due.id,
        Money.euros(400),
        occurred_on=pledges.today(),
        kind="bank_transfer",
        account="assets:bank",
        reference=None,
        idempotency_key="bank-line:1",
    )
    checkout(await pay_now(client, due), "paid")
    [created] = standin.payments()
    assert created["amount"]["value"] == "600.00"
    await deliver(standin, client)
    paid = await pledges.pledge_by_token(due.token)
    assert paid.status is PledgeStatus.paid and paid.paid == Money.euros(1000)
    assert await balances(ledger) == {"assets:bank": 40_000, "assets:mollie": 60_000, "income:contributions": -100_000}


async def test_a_double_click_makes_one_mollie_payment(client, standin, due):
    first, second = await asyncio.gather(pay_now(client, due), pay_now(client, due))
    assert first == second
    assert len(standin.payments()) == 1


async def test_mollie_down_while_creating_books_nothing_and_a_retry_creates_one_payment(
    client, standin, ledger, payments, due
):
    before = await balances(ledger)
    standin.fail_next(1, status=503)
    page = await client.get(f"/pledges/{due.token}")
    response = await client.post(f"/pledges/{due.token}/pay", data={"_csrf_token": client.cookies["csrftoken"]})
    assert response.status_code == 503
    assert "Online betalen is op dit moment niet mogelijk" in response.text and page.status_code == 200
    assert await balances(ledger) == before and standin.payments() == []
    standin.fail_next(1, kind="drop")
    with pytest.raises(PaymentUnavailable):
        await payments.start(due.token)
    url = await pay_now(client, due)
    attempts = await payments.attempts(due.id)
    assert [a.attempt for a in attempts] == [1], "the retries reused the stored attempt and its key"
    assert len(standin.payments()) == 1 and url.endswith(attempts[0].mollie_id)


async def test_mollie_down_during_the_webhook_answers_503_and_mollie_retries(client, standin, ledger, due):
    checkout(await pay_now(client, due), "paid")
    standin.fail_next(1, status=500)
    assert await deliver(standin, client) == [503]
    assert await balances(ledger) == DUE
    standin.advance_clock(60)  # Mollie's next try
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == PAID


async def test_a_webhook_delivered_many_times_books_once(client, standin, ledger, due):
    standin.duplicates = 5
    checkout(await pay_now(client, due), "paid")
    deliveries = standin.drain()
    assert len(deliveries) == 5
    responses = await asyncio.gather(
        *[client.post("/webhooks/mollie", data=d.form, headers=d.headers) for d in deliveries]
    )
    assert {r.status_code for r in responses} == {200}
    assert await balances(ledger) == PAID
    assert await MollieBooking.count() == 1


async def test_full_and_partial_refunds_are_booked_once_and_reopen_the_pledge(
    client, standin, ledger, pledges, payments, due
):
    checkout(await pay_now(client, due), "paid")
    await deliver(standin, client)
    [attempt] = await payments.attempts(due.id)
    refunded = await payments.refund(attempt.mollie_id, Money.euros(250), reason="dubbel betaald")
    assert refunded.bookings == ((BookingKind.refund, Money.euros(250)),)
    assert await deliver(standin, client) in ([], [200])
    assert await balances(ledger) == {
        "assets:mollie": 75_000,
        "assets:receivable:pledges": 25_000,
        "income:contributions": -100_000,
    }
    assert (await pledges.pledge_by_token(due.token)).status is PledgeStatus.partially_paid
    with pytest.raises(PaymentError, match="ten hoogste"):
        await payments.refund(attempt.mollie_id, Money.euros(800), reason="te veel")
    rest = await payments.refund(attempt.mollie_id, None, reason="toezegging vervalt")
    assert rest.bookings == ((BookingKind.refund, Money.euros(750)),)
    assert (await pledges.pledge_by_token(due.token)).status is PledgeStatus.due
    assert await balances(ledger) == DUE
    assert len(_refund_ids(standin, attempt.mollie_id)) == 2


async def test_a_refund_that_fails_later_is_booked_back(client, standin, ledger, payments, due):
    checkout(await pay_now(client, due), "paid")
    await deliver(standin, client)
    [attempt] = await payments.attempts(due.id)
    done = await payments.refund(attempt.mollie_id, Money.euros(100), reason="test")
    assert done.bookings == ((BookingKind.refund, Money.euros(100)),)
    assert (await balances(ledger))["assets:mollie"] == 90_000
    [refund_id] = _refund_ids(standin, attempt.mollie_id)
    standin.settle_refund(refund_id, "failed")
    assert set(await deliver(standin, client)) == {200}
    assert await balances(ledger) == PAID
    kinds = [row["kind"] for row in await MollieBooking.select(MollieBooking.kind).order_by(MollieBooking.id)]
    assert kinds == ["paid", "refund", "refund_undone"]


async def test_a_chargeback_and_its_reversal(client, standin, ledger, pledges, payments, due):
    checkout(await pay_now(client, due), "paid")
    await deliver(standin, client)
    [attempt] = await payments.attempts(due.id)
    chargeback = standin.add_chargeback(attempt.mollie_id)
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == DUE
    assert (await pledges.pledge_by_token(due.token)).status is PledgeStatus.due
    standin.reverse_chargeback(chargeback["id"])
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == PAID
    kinds = [row["kind"] for row in await MollieBooking.select(MollieBooking.kind).order_by(MollieBooking.id)]
    assert kinds == ["paid", "chargeback", "chargeback_reversed"]


async def test_reconcile_recovers_a_missed_webhook(client, standin, ledger, payments, due):
    checkout(await pay_now(client, due), "paid")
    standin.drain()  # the webhook is lost
    assert await balances(ledger) == DUE
    [booked] = await payments.reconcile()
    assert booked.bookings == ((BookingKind.paid, Money.euros(1000)),)
    assert await balances(ledger) == PAID
    assert await payments.reconcile() == [], "a second reconcile finds nothing new"


async def test_money_for_a_pledge_cancelled_meanwhile_is_held_for_a_person(client, standin, ledger, pledges, due):
    url = await pay_now(client, due)
    await pledges.cancel(due.token, reason="raad wees het af")
    checkout(url, "paid")
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == {"assets:mollie": 100_000, "liabilities:refunds": -100_000}
    assert (await pledges.pledge_by_token(due.token)).status is PledgeStatus.cancelled


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        ({}, {}, 400),
        ({"id": "tr_"}, {}, 400),
        ({"id": "re_abc"}, {}, 400),
        ({"id": "tr_" + "a" * 500}, {}, 400),
        ({"id": "tr_unknown1"}, {}, 200),
    ],
)
async def test_bad_webhooks_never_fail_and_change_nothing(client, ledger, due, body, headers, status):
    before = await balances(ledger)
    response = await client.post("/webhooks/mollie", data=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/json") and "detail" in response.json()
    assert await balances(ledger) == before


async def test_a_huge_or_wrongly_typed_webhook_body_is_refused_with_4xx(client, ledger, due):
    huge = await client.post("/webhooks/mollie", content=b"id=tr_" + b"a" * 100_000)
    assert huge.status_code == 413
    as_json = await client.post("/webhooks/mollie", json={"id": "tr_abc"})
    assert as_json.status_code == 400, "Mollie posts a form; JSON carries no form field id"
    garbage = await client.post(
        "/webhooks/mollie", content=b"\xff\xfe\x00", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert garbage.status_code == 400
    assert await balances(ledger) == DUE


async def test_a_payment_whose_metadata_names_another_pledge_is_never_booked(
    client, standin, ledger, payments: PaymentService, pledges: PledgeService, due, orgs
):
    checkout(await pay_now(client, due), "paid")
    [created] = standin.payments()
    with standin.lock:
        standin.store.get(created["id"]).metadata = {"pledge_id": due.id + 1000}
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == DUE
    assert (await payments.attempts(due.id))[0].status is PaymentStatus.open


async def test_payments_are_offered_only_for_what_is_due_in_cash(client, payments, due, pledges):
    await pledges.cancel(due.token, reason="x")
    with pytest.raises(PaymentError):
        await payments.start(due.token)
    page = await client.get(f"/pledges/{due.token}")
    assert 'id="pay"' not in page.text


def _refund_ids(standin, payment_id: str) -> list[str]:
    return list(standin.store.get(payment_id).refunds)


async def test_cli_reconcile_and_refund(standin, client, ledger: LedgerService, due, settings, monkeypatch):
    from click.testing import CliRunner

    from funding.cli import main

    checkout(await pay_now(client, due), "paid")
    standin.drain()
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("MOLLIE_API_KEY", settings.mollie_api_key)
    monkeypatch.setenv("MOLLIE_API_ENDPOINT", settings.mollie_api_endpoint)
    runner = CliRunner()
    result = await asyncio.to_thread(runner.invoke, main, ["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "booked paid EUR 1000.00" in result.output
    [created] = standin.payments()
    result = await asyncio.to_thread(
        runner.invoke, main, ["payments", "refund", created["id"], "--amount", "100", "--reason", "dubbel"]
    )
    assert result.exit_code == 0, result.output
    assert "booked refund EUR 100.00" in result.output
    result = await asyncio.to_thread(runner.invoke, main, ["payments", "refund", created["id"], "--reason", " "])
    assert result.exit_code == 1 and "Geef de reden van de terugbetaling." in result.output
