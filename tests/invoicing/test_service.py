"""Issuing invoices and credit notes through the service, on the backend under test: numbers,
stored documents, the journal's side, corrections, and bad input that writes nothing."""

from __future__ import annotations

import email
import io
import re
from datetime import date
from email import policy

import pytest
from pypdf import PdfReader

from funding.db import write_transaction
from funding.i18n import gettext, use_locale
from funding.invoicing import service as invoicing
from funding.invoicing.document import DocumentKind
from funding.invoicing.peppol import OutboxAccessPoint
from funding.invoicing.service import InvoiceError, InvoiceService, Seller
from funding.invoicing.tables import Invoice, InvoiceDelivery
from funding.ledger.service import LedgerService
from funding.mail import Mailer
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import INVOICED, Change, PledgeService
from funding.pledges.tables import ContributionForm, PaymentPreference, PledgeStatus, RoundModel
from funding.settings import Settings
from tests.pledges.conftest import cash, make_round

ALL_OF_IT = "A credit note for all of the invoice withdraws the pledge: cancel it instead."
TOO_MUCH = "A credit note can take back at most what the invoice still asks."
NO_ADDRESS = "We need the organisation's postal address (street, postcode and city) to invoice it: please contact us."
ADDRESS = {"address": "Amstel 1", "postcode": "1011 PN", "city": "Amsterdam"}


@pytest.fixture
async def buyers(database: str) -> dict[str, int]:
    """Buyers an invoice can go to: with their postal address, by OIN, by KvK, and by neither."""
    registry = OrganisationService()
    return {
        "amsterdam": await registry.add(
            kind=OrganisationKind.gemeente,
            name="Gemeente Amsterdam",
            cbs_code="GM0363",
            oin="00000001002564440000",
            billing_email="crediteuren@amsterdam.example",
            **ADDRESS,
        ),
        "utrecht": await registry.add(
            kind=OrganisationKind.gemeente, name="Gemeente Utrecht", oin="00000001002220647000", **ADDRESS
        ),
        "waterschap": await registry.add(
            kind=OrganisationKind.waterschap,
            name='Waterschap "Aa & Maas" <Brabant>',
            oin="00000001821002193000",
            address="Pettelaarpark 70",
            postcode="5216 PP",
            city="'s-Hertogenbosch",
        ),
        "bureau": await registry.add(
            kind=OrganisationKind.company,
            name="Adviesbureau De Brug B.V.",
            kvk="87654321",
            address="Stationsplein 3",
            postcode="3511 ED",
            city="Utrecht",
            is_public=True,
        ),
        "nowhere": await registry.add(
            kind=OrganisationKind.gemeente, name="Gemeente Zonderadres", oin="00000001000000000099"
        ),
        "unnumbered": await registry.add(
            kind=OrganisationKind.other_public, name="Stichting Zondernummer", is_public=True, **ADDRESS
        ),
    }


@pytest.fixture
def outbox(tmp_path):
    return tmp_path / "outbox"


@pytest.fixture
def invoices(ledger: LedgerService, clock, outbox) -> InvoiceService:
    pledges = PledgeService(ledger, clock=clock)
    mailer = Mailer(Settings(outbox_dir=str(outbox)))
    return InvoiceService(
        pledges,
        Seller.from_settings(Settings()),
        mailer=mailer,
        access_point=OutboxAccessPoint(outbox / "peppol"),
        clock=clock,
    )


@pytest.fixture
async def fund(invoices: InvoiceService, year: int):
    return await make_round(invoices.pledges, year)


def message(english: str) -> str:
    """The pattern of `english` as the service says it (in Dutch, the default)."""
    with use_locale("nl"):
        return re.escape(gettext(english))


def online(organisation: int, euros: int | str = 1000, **kwargs):
    return cash(organisation, euros, payment_preference=PaymentPreference.online, **kwargs)


async def balances(ledger: LedgerService) -> dict[str, int]:
    return {name: money.cents for name, money in (await ledger.balances()).items() if money}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


async def test_an_invoice_pledge_is_invoiced_as_it_becomes_due_and_the_ledger_names_the_number(
    invoices, fund, buyers, ledger, peppol, outbox
):
    pledge = await invoices.pledges.pledge("2026", cash(buyers["amsterdam"], "1234.50", buyer_reference="PO-77"))
    assert pledge.billed == Money(123_450)
    (issued,) = await invoices.of_pledge(pledge.id)
    assert issued.number == "2026-0001" and issued.kind is DocumentKind.invoice
    assert issued.amount == Money(123_450) and issued.due_date == date(2026, 3, 31)
    entry = await ledger.entry(await invoices.entry_seq(issued))
    assert entry.kind == "invoice" and entry.reference == "2026-0001"
    assert "2026-0001" in entry.description and "Gemeente Amsterdam" in entry.description
    assert "crediteuren" not in entry.description and "Els" not in entry.description
    assert await balances(ledger) == {INVOICED: 123_450, "income:contributions": -123_450}

    _, pdf = await invoices.file("2026-0001", "pdf")
    text = pdf_text(pdf)
    for fact in ("2026-0001", pledge.formatted_reference, "1.234,50", "Gemeente Amsterdam", "PO-77"):
        assert fact in text, fact
    _, xml = await invoices.file("2026-0001", "xml")
    peppol.assert_valid(xml, "the issued invoice")
    assert b"00000001002564440000" in xml and b"PO-77" in xml
    assert (await invoices.file("2026-0001", "pdf"))[1] == pdf, "stored once, served as stored"
    assert invoicing.hashlib.sha256(pdf).hexdigest() == issued.pdf_sha256

    # Mailed to the billing address with both files, and left for the Peppol access point.
    (mail_file,) = outbox.glob("*.eml")
    message = email.message_from_bytes(mail_file.read_bytes(), policy=policy.default)
    assert message["To"] == "crediteuren@amsterdam.example" and "2026-0001" in message["Subject"]
    attached = {part.get_filename(): part.get_content() for part in message.iter_attachments()}
    assert attached == {"factuur-2026-0001.pdf": pdf, "factuur-2026-0001.xml": xml}
    assert (outbox / "peppol" / "2026-0001.xml").read_bytes() == xml
    assert "0190:00000001002564440000" in (outbox / "peppol" / "2026-0001.json").read_text()
    assert [(d["channel"], d["succeeded"]) for d in await invoices.deliveries("2026-0001")] == [
        ("email", True),
        ("peppol", True),
    ]


async def test_numbers_run_on_without_gaps_and_an_online_payer_asks_for_one(invoices, fund, buyers, peppol):
    first = await invoices.pledges.pledge("2026", cash(buyers["amsterdam"]))
    second = await invoices.pledges.pledge("2026", online(buyers["bureau"], 500, publish_name=True))
    assert await invoices.of_pledge(second.id) == [], "an online payer is not invoiced unasked"
    asked = await invoices.issue_by_token(second.token)
    assert [d.number for d in await invoices.of_pledge(first.id)] == ["2026-0001"]
    assert asked.number == "2026-0002"
    _, xml = await invoices.file(asked.number, "xml")
    peppol.assert_valid(xml, "a buyer with a KvK number only")
    assert b'schemeID="0106">87654321<' in xml


async def test_bad_requests_are_refused_with_a_message_and_write_nothing(invoices, fund, buyers, ledger, year):
    pledges = invoices.pledges
    invoiced = await pledges.pledge("2026", cash(buyers["amsterdam"]))
    await make_round(pledges, year, "2027", model=RoundModel.all_or_nothing)
    conditional = await pledges.pledge("2027", cash(buyers["utrecht"]))
    in_kind = await pledges.pledge(
        "2026",
        online(buyers["utrecht"], form=ContributionForm.goods, in_kind_description="Zaal", budget_line="events"),
    )
    no_address = await pledges.pledge("2026", cash(buyers["nowhere"]))
    no_number = await pledges.pledge("2026", cash(buyers["unnumbered"]))
    before = (await ledger.head()).seq, await Invoice.count()
    cases = [
        (invoiced, "This pledge has been invoiced already."),
        (conditional, "Only a pledge that is due, with nothing paid yet, can be invoiced."),
        (in_kind, "A contribution in kind is not invoiced."),
        (no_address, NO_ADDRESS),
        (no_number, "We need the organisation's OIN or KvK number to send it an e-invoice: please contact us."),
    ]
    for pledge, said in cases:
        with pytest.raises(InvoiceError, match=message(said)):
            await invoices.issue(pledge.id)
    with pytest.raises(InvoiceError, match=message(TOO_MUCH)):
        await invoices.credit("2026-0001", Money.euros(1001), reason="te veel")
    with pytest.raises(InvoiceError, match=message("Say why the invoice is credited.")):
        await invoices.credit("2026-0001", Money.euros(10), reason=" ")
    with pytest.raises(invoicing.InvoiceNotFound):
        await invoices.get("2026-9999")
    assert ((await ledger.head()).seq, await Invoice.count()) == before
    assert (await pledges.pledge_by_token(invoiced.token)).billed == Money.euros(1000)


async def test_an_issue_that_fails_halfway_leaves_no_gap(invoices, fund, buyers, ledger, monkeypatch):
    """It fails after its number was taken and its documents were stored: at the booking."""
    pledges = invoices.pledges
    pledge = await pledges.pledge("2026", online(buyers["amsterdam"]))
    append = LedgerService.append

    async def failing(self, **entry):
        if entry["kind"] == "invoice":
            assert await Invoice.count() == 1, "stored already, in the transaction that now fails"
            raise RuntimeError("the database went away")
        return await append(self, **entry)

    monkeypatch.setattr(LedgerService, "append", failing)
    before = (await ledger.head()).seq
    with pytest.raises(RuntimeError):
        await invoices.issue(pledge.id)
    assert await Invoice.count() == 0 and (await ledger.head()).seq == before
    assert (await pledges.pledge_by_token(pledge.token)).billed == Money.zero()
    monkeypatch.undo()
    assert (await invoices.issue(pledge.id)).number == "2026-0001", "the number taken by the failure is free again"


async def test_credit_notes_are_mailed_only_once_their_transaction_committed(invoices, fund, buyers, outbox):
    pledges = invoices.pledges
    rolled_back = await pledges.pledge("2026", cash(buyers["amsterdam"]))
    kept = await pledges.pledge("2026", cash(buyers["utrecht"]))
    assert len(list(outbox.glob("*.eml"))) == 2, "the two invoices"
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await pledges.cancel(rolled_back.token, reason="ingetrokken")
            assert len(list(outbox.glob("*.eml"))) == 2, "not inside the transaction"
            raise RuntimeError("something after it fails")
    async with write_transaction():
        await pledges.cancel(kept.token, reason="ingetrokken")
        assert len(list(outbox.glob("*.eml"))) == 2
    await invoices.send_pending()
    documents = {d.number: d for d in await invoices.of_pledge(kept.id)}
    assert set(documents) == {"2026-0002", "2026-0003"}, "the rolled-back credit note's number went to the next"
    subjects = sorted(
        email.message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in outbox.glob("*.eml")
    )
    assert len(subjects) == 3 and sum(s.startswith("Creditnota 2026-0003") for s in subjects) == 1


async def test_cancelling_an_invoiced_pledge_issues_a_credit_note_that_refers_to_the_invoice(
    invoices, fund, buyers, ledger, peppol
):
    pledge = await invoices.pledges.pledge("2026", cash(buyers["waterschap"], 750, locale="en"))
    await invoices.pledges.cancel(pledge.token, reason="Board decision reversed")
    documents = await invoices.of_pledge(pledge.id)
    assert [(d.number, d.kind, d.corrects) for d in documents] == [
        ("2026-0001", DocumentKind.invoice, None),
        ("2026-0002", DocumentKind.credit_note, "2026-0001"),
    ]
    credit = documents[1]
    assert credit.amount == Money.euros(750) and credit.language == "en"
    _, xml = await invoices.file(credit.number, "xml")
    peppol.assert_valid(xml, "the credit note")
    assert b"<cac:InvoiceDocumentReference>" in xml and b"2026-0001" in xml
    assert b"Waterschap &quot;Aa &amp; Maas&quot; &lt;Brabant&gt;" in xml or b"Aa &amp; Maas" in xml
    text = pdf_text((await invoices.file(credit.number, "pdf"))[1])
    assert "2026-0001" in text and "Credit note" in text and 'Waterschap "Aa & Maas" <Brabant>' in text
    entry = await ledger.entry(await invoices.entry_seq(credit))
    assert entry.kind == "credit_note" and entry.reference == "2026-0002"
    assert await balances(ledger) == {}, "invoice, credit note and cancellation net to nothing"
    cancelled = await invoices.pledges.pledge_by_token(pledge.token)
    assert cancelled.status is PledgeStatus.cancelled and cancelled.billed == Money.zero()
    assert [e.action for e in cancelled.history] == ["pledged", "invoiced", "credited", "cancelled"]
    assert (await ledger.verify()).ok


async def test_payments_settle_the_invoice_a_refund_is_credited_and_a_chargeback_reopens_it(
    invoices, fund, buyers, ledger, peppol
):
    pledges = invoices.pledges
    pledge = await pledges.pledge("2026", cash(buyers["amsterdam"], 1000))
    await pledges.receive(
        pledge.id,
        Money.euros(400),
        occurred_on=date(2026, 3, 1),
        kind="bank_transfer",
        account="assets:bank",
        reference="2026-0001",
        idempotency_key="bank:1",
    )
    assert await balances(ledger) == {
        INVOICED: 60_000,
        "assets:bank": 40_000,
        "income:contributions": -100_000,
    }
    await pledges.receive(
        pledge.id,
        Money.euros(600),
        occurred_on=date(2026, 3, 1),
        kind="bank_transfer",
        account="assets:bank",
        reference="2026-0001",
        idempotency_key="bank:2",
    )
    paid = await pledges.pledge_by_token(pledge.token)
    assert paid.status is PledgeStatus.paid and paid.invoice_open == Money.zero()
    assert await balances(ledger) == {"assets:bank": 100_000, "income:contributions": -100_000}

    # A refund we made of invoiced money corrects the invoice: a credit note, and the pledge lowered.
    receipt = await give_back(pledges, pledge, 250, "refund", corrects=True)
    assert receipt.applied == Money.euros(250)
    documents = await invoices.of_pledge(pledge.id)
    assert [(d.kind, d.amount) for d in documents] == [
        (DocumentKind.invoice, Money.euros(1000)),
        (DocumentKind.credit_note, Money.euros(250)),
    ]
    after = await pledges.pledge_by_token(pledge.token)
    assert (after.amount, after.paid, after.billed, after.status) == (
        Money.euros(750),
        Money.euros(750),
        Money.euros(750),
        PledgeStatus.paid,
    ), "the buyer owes nothing for what was credited"
    assert await balances(ledger) == {"assets:bank": 75_000, "income:contributions": -75_000}

    # A chargeback is the payer's bank taking money back: the invoice asks for it again, uncredited.
    await give_back(pledges, pledge, 100, "chargeback")
    assert len(await invoices.of_pledge(pledge.id)) == 2
    reopened = await pledges.pledge_by_token(pledge.token)
    assert (reopened.status, reopened.invoice_open) == (PledgeStatus.partially_paid, Money.euros(100))
    assert await balances(ledger) == {INVOICED: 10_000, "assets:bank": 65_000, "income:contributions": -75_000}

    # Refunded the rest, it owes what the chargeback took back, and nothing else.
    await give_back(pledges, pledge, 650, "refund", corrects=True)
    rest = await pledges.pledge_by_token(pledge.token)
    assert (rest.status, rest.amount, rest.paid, rest.billed) == (
        PledgeStatus.due,
        Money.euros(100),
        Money.zero(),
        Money.euros(100),
    )
    assert [d.amount for d in await invoices.of_pledge(pledge.id)][-1] == Money.euros(650)
    assert await balances(ledger) == {INVOICED: 10_000, "income:contributions": -10_000}

    # Refunded in full, an invoiced pledge is withdrawn by its credit note.
    other = await pledges.pledge("2026", cash(buyers["utrecht"], 300))
    await pledges.receive(
        other.id,
        Money.euros(300),
        occurred_on=date(2026, 3, 1),
        kind="bank_transfer",
        account="assets:bank",
        reference=None,
        idempotency_key="bank:3",
    )
    await give_back(pledges, other, 300, "refund", corrects=True)
    ended = await pledges.pledge_by_token(other.token)
    assert ended.status is PledgeStatus.cancelled and ended.billed == Money.zero()
    assert await balances(ledger) == {INVOICED: 10_000, "income:contributions": -10_000}
    assert (await ledger.verify()).ok


async def give_back(pledges, pledge, euros: int, kind: str, *, corrects: bool = False):
    return await pledges.repay(
        pledge.id,
        Money.euros(euros),
        held=Money.zero(),
        occurred_on=date(2026, 3, 1),
        kind=kind,
        account="assets:bank",
        reference=None,
        idempotency_key=f"{kind}:{pledge.id}:{euros}",
        what="Terugbetaald",
        corrects=corrects,
    )


async def test_an_amount_change_credits_the_old_invoice_and_issues_a_new_one(invoices, fund, buyers, ledger):
    pledges = invoices.pledges
    pledge = await pledges.pledge("2026", cash(buyers["amsterdam"], 1000))
    await pledges.change(pledge.token, Change(amount=Money.euros(1500)))
    documents = await invoices.of_pledge(pledge.id)
    assert [(d.number, d.kind, d.amount, d.corrects) for d in documents] == [
        ("2026-0001", DocumentKind.invoice, Money.euros(1000), None),
        ("2026-0002", DocumentKind.credit_note, Money.euros(1000), "2026-0001"),
        ("2026-0003", DocumentKind.invoice, Money.euros(1500), None),
    ]
    assert await balances(ledger) == {INVOICED: 150_000, "income:contributions": -150_000}


async def test_staff_credit_part_of_an_invoice_and_not_more_than_it_asks(invoices, fund, buyers, ledger, peppol):
    pledge = await invoices.pledges.pledge("2026", cash(buyers["utrecht"], 1000))
    credit = await invoices.credit("2026-0001", Money.euros(200), reason="Korting afgesproken")
    assert credit.number == "2026-0002" and credit.corrects == "2026-0001" and credit.amount == Money.euros(200)
    peppol.assert_valid((await invoices.file(credit.number, "xml"))[1], "a partial credit note")
    with pytest.raises(InvoiceError, match=message(TOO_MUCH)):
        await invoices.credit("2026-0001", Money.euros(801), reason="nog meer")
    with pytest.raises(InvoiceError, match=message("A credit note corrects an invoice, not another credit note.")):
        await invoices.credit("2026-0002", Money.euros(1), reason="op de creditnota")
    lowered = await invoices.pledges.pledge_by_token(pledge.token)
    assert (lowered.billed, lowered.amount) == (Money.euros(800), Money.euros(800))
    assert await balances(ledger) == {INVOICED: 80_000, "income:contributions": -80_000}
    with pytest.raises(InvoiceError, match=message(ALL_OF_IT)):
        await invoices.credit("2026-0001", Money.euros(800), reason="alles")
    # Cancelled afterwards, the rest is credited.
    await invoices.pledges.cancel(pledge.token, reason="toch niet")
    assert [(d.number, d.amount) for d in await invoices.of_pledge(pledge.id)][-1] == ("2026-0003", Money.euros(800))
    assert await balances(ledger) == {}


async def test_stored_documents_cannot_be_changed_or_removed(invoices, fund, buyers, database):
    await invoices.pledges.pledge("2026", cash(buyers["amsterdam"]))
    with pytest.raises(Exception, match=r"append-only|refuse|permission"):
        await Invoice.update({Invoice.amount_cents: 1}).where(Invoice.number == "2026-0001")
    with pytest.raises(Exception, match=r"append-only|refuse|permission"):
        await Invoice.delete().where(Invoice.number == "2026-0001")
    with pytest.raises(Exception, match=r"append-only|refuse|permission"):
        await InvoiceDelivery.delete().where(InvoiceDelivery.id > 0)
