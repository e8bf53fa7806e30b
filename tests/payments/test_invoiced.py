"""An invoiced pledge paid online: the payment settles the invoice, a refund is credited."""

from __future__ import annotations

from funding.invoicing.document import DocumentKind
from funding.invoicing.service import InvoiceService, Seller
from funding.money import Money
from funding.organisations.tables import Organisation
from funding.pledges.service import INVOICED, RECEIVABLE
from funding.settings import Settings
from tests.invoicing.peppol import peppol  # noqa: F401 (fixture)
from tests.payments.conftest import balances, deliver
from tests.payments.test_payments import checkout, pay_now


async def test_an_invoiced_pledge_paid_online_then_refunded_in_part_gets_a_credit_note(
    client,
    standin,
    ledger,
    pledges,
    payments,
    due,
    peppol,  # noqa: F811
):
    await Organisation.update(
        {
            Organisation.address: "Amstel 1",
            Organisation.postcode: "1011 PN",
            Organisation.city: "Amsterdam",
            Organisation.oin: "00000001002564440000",
        }
    ).where(Organisation.id == due.organisation_id)
    invoices = InvoiceService(pledges, Seller.from_settings(Settings()), clock=pledges.clock)
    invoice = await invoices.issue(due.id)
    assert await balances(ledger) == {INVOICED: 100_000, "income:contributions": -100_000}

    checkout(await pay_now(client, due), "paid")
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == {"assets:mollie": 100_000, "income:contributions": -100_000}

    [attempt] = await payments.attempts(due.id)
    await payments.refund(attempt.mollie_id, Money.euros(300), reason="dubbel betaald")
    documents = await invoices.of_pledge(due.id)
    assert [(d.kind, d.amount, d.corrects) for d in documents] == [
        (DocumentKind.invoice, Money.euros(1000), None),
        (DocumentKind.credit_note, Money.euros(300), invoice.number),
    ]
    assert await balances(ledger) == {
        "assets:mollie": 70_000,
        RECEIVABLE: 30_000,
        "income:contributions": -100_000,
    }
    entry = await ledger.entry(await invoices.entry_seq(documents[1]))
    assert entry.kind == "credit_note" and "dubbel" not in entry.description, "the refund's reason stays private"
    for document in documents:
        peppol.assert_valid((await invoices.file(document.number, "xml"))[1], document.number)
    assert (await ledger.verify()).ok
