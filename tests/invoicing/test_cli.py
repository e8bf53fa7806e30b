"""`funding invoices issue | credit | send | save`, run as staff run them."""

from __future__ import annotations

from datetime import date, timedelta

from funding.invoicing.tables import Invoice
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import PledgeService
from funding.pledges.tables import PaymentPreference
from tests.pledges.conftest import cash, make_round
from tests.pledges.test_cli import run

TODAY = date.today()


async def test_staff_issue_credit_send_and_save_an_invoice(
    database, ledger, year, tmp_path, every_issued_document_validates
):
    pledges = PledgeService(ledger)
    await make_round(pledges, year, opens_on=TODAY - timedelta(days=5), closes_on=TODAY + timedelta(days=5))
    buyer = await OrganisationService().add(
        kind=OrganisationKind.provincie,
        name="Provincie Utrecht",
        oin="00000001002220647000",
        address="Archimedeslaan 6",
        postcode="3584 BA",
        city="Utrecht",
        billing_email="facturen@provincie-utrecht.example",
    )
    pledge = await pledges.pledge("2026", cash(buyer, 2500, payment_preference=PaymentPreference.online))
    outbox = tmp_path / "outbox"

    issued = run(database, outbox, "invoices", "issue", pledge.formatted_reference)
    assert issued.returncode == 0, issued.stderr
    number = f"{TODAY.year}-0001"
    assert f"invoice {number}: Provincie Utrecht, EUR 2500.00" in issued.stdout
    again = run(database, outbox, "invoices", "issue", pledge.reference)
    assert again.returncode == 1 and "gefactureerd" in again.stderr, "refused, with the reason"

    too_much = run(database, outbox, "invoices", "credit", number, "--amount", "2500,01", "--reason", "korting")
    assert too_much.returncode == 1 and too_much.stderr.strip()
    credited = run(database, outbox, "invoices", "credit", number, "--amount", "500", "--reason", "korting")
    assert credited.returncode == 0, credited.stderr
    assert f"credit note {TODAY.year}-0002 for invoice {number}: EUR 500.00" in credited.stdout

    sent = run(database, outbox, "invoices", "send", number)
    assert sent.returncode == 0, sent.stderr
    assert sent.stdout.count("email: sent") == 2 and sent.stdout.count("peppol: sent") == 2, "issued, then again"
    assert len(list(outbox.glob("*.eml"))) == 3, "the invoice twice, the credit note once"

    saved = run(database, outbox, "invoices", "save", number, str(tmp_path / "files"))
    assert saved.returncode == 0, saved.stderr
    stored = await Invoice.select(Invoice.pdf, Invoice.xml).where(Invoice.number == number).first()
    assert (tmp_path / "files" / f"factuur-{number}.pdf").read_bytes() == bytes(stored["pdf"])
    assert (tmp_path / "files" / f"factuur-{number}.xml").read_bytes() == bytes(stored["xml"])
