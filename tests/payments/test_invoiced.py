"""An invoiced pledge paid online: the payment settles the invoice; a refund corrects it with a
credit note, and the credit note is mailed once the refund's transaction has committed."""

from __future__ import annotations

from funding.invoicing.document import DocumentKind
from funding.invoicing.service import InvoiceService, Seller
from funding.mail import Mailer
from funding.money import Money
from funding.organisations.tables import Organisation
from funding.pledges.service import INVOICED
from funding.pledges.tables import PledgeStatus
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
    tmp_path,
):
    await Organisation.update(
        {
            Organisation.address: "Amstel 1",
            Organisation.postcode: "1011 PN",
            Organisation.city: "Amsterdam",
            Organisation.oin: "00000001002564440000",
        }
    ).where(Organisation.id == due.organisation_id)
    mailer = Mailer(Settings(outbox_dir=str(tmp_path)))
    invoices = InvoiceService(pledges, Seller.from_settings(Settings()), mailer=mailer, clock=pledges.clock)
    invoice = await invoices.issue(due.id)
    assert await balances(ledger) == {INVOICED: 100_000, "income:contributions": -100_000}

    checkout(await pay_now(client, due), "paid")
    assert await deliver(standin, client) == [200]
    assert await balances(ledger) == {"assets:mollie": 100_000, "income:contributions": -100_000}

    [attempt] = await payments.attempts(due.id)
    assert len(list(tmp_path.glob("*.eml"))) == 1, "the invoice"
    await payments.refund(attempt.mollie_id, Money.euros(300), reason="dubbel betaald")
    assert len(list(tmp_path.glob("*.eml"))) == 2, "and the credit note, after the refund's transaction"
    documents = await invoices.of_pledge(due.id)
    assert [(d.kind, d.amount, d.corrects) for d in documents] == [
        (DocumentKind.invoice, Money.euros(1000), None),
        (DocumentKind.credit_note, Money.euros(300), invoice.number),
    ]
    assert await balances(ledger) == {"assets:mollie": 70_000, "income:contributions": -70_000}
    lowered = await pledges.pledge_by_token(due.token)
    assert (lowered.amount, lowered.status) == (Money.euros(700), PledgeStatus.paid), "it owes nothing more"
    entry = await ledger.entry(await invoices.entry_seq(documents[1]))
    assert entry.kind == "credit_note" and "dubbel" not in entry.description, "the refund's reason stays private"
    for document in documents:
        peppol.assert_valid((await invoices.file(document.number, "xml"))[1], document.number)
    assert (await ledger.verify()).ok
