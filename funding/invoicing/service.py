"""Issuing invoices and credit notes: numbers without gaps, documents stored once, sent by mail
and handed to a Peppol access point.

A number is taken inside the write transaction that stores the document and books it (through
`PledgeService.bill` / `credit`, under the round's lock), after the last number of the year,
under a lock of its own: two issues queue, and an issue that fails at any point rolls its number
back with everything else, so the series has no gap and no number is ever used twice (the unique
number and year+sequence say the same in the database). Rendering happens inside that
transaction too, because the number is in both documents; a PDF takes milliseconds.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

import anyio
import msgspec
from stdnum import iso11649

from funding.db import as_date, as_datetime, current_engine, lock_transaction
from funding.i18n import _, use_locale
from funding.invoicing.document import Document, DocumentKind, Line, Party
from funding.invoicing.render import render_pdf, title
from funding.invoicing.tables import DeliveryChannel, Invoice, InvoiceDelivery
from funding.invoicing.ubl import render_ubl
from funding.ledger.service import LedgerService
from funding.mail import Attachment, Mail, Mailer, MailError
from funding.money import Money
from funding.pledges.service import NotBillable, PledgeError, PledgeRecord, PledgeService, Round, billing_key
from funding.pledges.tables import ContributionForm, PaymentPreference
from funding.settings import Settings

log = logging.getLogger(__name__)

NUMBER_LOCK = 50_000_000
"""The PostgreSQL advisory lock under which a number is taken (SQLite has one writer already)."""


class InvoiceError(PledgeError):
    """Bad input for invoicing: the message says what, and nothing was written."""


class InvoiceNotFound(InvoiceError):
    pass


class AccessPoint(Protocol):
    """Hands an e-invoice to the Peppol network. A real access point (a Peppol service provider's
    API) would POST the UBL with the sender's and receiver's participant ids (`scheme:id`) and
    answer its message id; `funding.invoicing.peppol.OutboxAccessPoint` is the one used here."""

    async def deliver(self, *, number: str, xml: bytes, sender: str, receiver: str, credit_note: bool) -> str: ...


@dataclass(frozen=True)
class IssuedDocument:
    """An invoice or credit note as stored (the bytes are loaded only where they are served)."""

    number: str
    kind: DocumentKind
    pledge_id: int
    corrects: str | None
    amount: Money
    issue_date: date
    due_date: date
    language: str
    document: Document
    pdf_sha256: str
    xml_sha256: str
    issued_at: datetime

    @property
    def is_credit_note(self) -> bool:
        return self.kind is DocumentKind.credit_note

    def filename(self, suffix: str) -> str:
        stem = {"nl": "factuur", "en": "invoice"}.get(self.language, "invoice")
        if self.is_credit_note:
            stem = {"nl": "creditnota", "en": "credit-note"}.get(self.language, "credit-note")
        return f"{stem}-{self.number}.{suffix}"


@dataclass(frozen=True)
class Seller:
    party: Party
    iban: str
    bic: str
    payment_days: int
    exemption: dict[str, str]

    @classmethod
    def from_settings(cls, settings: Settings) -> Seller:
        scheme, identifier = ("0190", settings.seller_oin) if settings.seller_oin else ("0106", settings.seller_kvk)
        return cls(
            party=Party(
                name=settings.seller_name,
                street=settings.seller_street,
                postcode=settings.seller_postcode,
                city=settings.seller_city,
                endpoint_scheme=scheme,
                endpoint_id=identifier,
                legal_id_scheme=scheme,
                legal_id=identifier,
                vat_number=settings.seller_vat,
                contact_email=settings.seller_email,
            ),
            iban=settings.bank_iban,
            bic=settings.bank_bic,
            payment_days=settings.invoice_payment_days,
            exemption={"nl": settings.vat_exemption_nl, "en": settings.vat_exemption_en},
        )


class InvoiceService:
    """The `Billing` of the pledge service (see `PledgeService.billing`), and what pages and the
    command line ask of invoices."""

    def __init__(
        self,
        pledges: PledgeService,
        seller: Seller,
        *,
        mailer: Mailer | None = None,
        access_point: AccessPoint | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.pledges = pledges
        self.seller = seller
        self.mailer = mailer
        self.access_point = access_point
        self.clock = clock or (lambda: datetime.now(UTC))
        self._unsent: list[tuple[str, str]] = []
        """(number, source key) of credit notes issued in a transaction still open: `send_pending`
        mails them once it has committed, and only if that document is in the database."""
        pledges.billing = self

    @property
    def ledger(self) -> LedgerService:
        return self.pledges.ledger

    # -- issuing ------------------------------------------------------------------------------
    async def issue(self, pledge_id: int) -> IssuedDocument:
        """Invoice a due pledge (once per booking: a second request is refused), then send it."""
        issued: list[str] = []

        async def make(pledge: PledgeRecord, fund: Round) -> str:
            document = await self._invoice(pledge, fund, await self._next_number())
            await self._store(document, pledge.id, f"pledge:{pledge.id}:due:{pledge.booked_seq}")
            issued.append(document.number)
            return document.number

        try:
            await self.pledges.bill(pledge_id, make)
        except NotBillable as refused:
            raise InvoiceError(str(refused), refused.field) from refused
        document = await self.get(issued[0])
        await self.send(document)
        return document

    async def issue_by_token(self, token: str) -> IssuedDocument:
        """The pledger asked for an invoice on the pledge's page."""
        return await self.issue((await self.pledges.pledge_by_token(token)).id)

    async def became_due(self, pledge: PledgeRecord) -> None:
        """A cash pledge whose pledger chose to pay against an invoice gets one as it becomes due
        (and a new one after an amount change credited the old). A failure is logged, not
        raised: the pledge stands, and staff can issue it (`funding invoices issue`)."""
        if pledge.form is not ContributionForm.cash or pledge.payment_preference is not PaymentPreference.invoice:
            return
        try:
            await self.issue(pledge.id)
        except InvoiceError as refused:
            log.warning("pledge %s was not invoiced: %s", pledge.id, refused)
        except Exception:  # a renderer that fell over: the pledge stands, staff issue it later
            log.exception("pledge %s was not invoiced", pledge.id)

    async def credit_note(self, pledge: PledgeRecord, amount: Money, reason: str) -> str:
        """Issue a credit note for `amount` of the pledge's standing invoice (inside the pledge
        service's transaction; it books it). The credit note repeats the invoice's parties as
        they were billed, not as the registry says today."""
        invoice = await self._standing_invoice(pledge.id)
        if invoice is None:
            raise InvoiceError(_("This pledge has no invoice to credit."))
        credited = await Invoice.count().where(Invoice.corrects == invoice.number)
        with use_locale(invoice.language):
            line = _("Credit for invoice %(number)s") % {"number": invoice.number}
        billed = invoice.document
        number, today = await self._next_number(), self.pledges.today()
        document = msgspec.structs.replace(
            billed,
            kind=DocumentKind.credit_note,
            number=number,
            issue_date=today,
            due_date=today,
            lines=(Line(description=line, amount=amount),),
            billed_invoice=invoice.number,
            billed_invoice_date=invoice.issue_date,
            note=reason,
        )
        source_key = f"credit:{invoice.number}:{credited + 1}"
        await self._store(document, pledge.id, source_key)
        self._unsent.append((number, source_key))
        return number

    async def reserve(self) -> None:
        await lock_transaction(NUMBER_LOCK)

    async def credit(self, number: str, amount: Money, reason: str) -> IssuedDocument:
        """Staff correct invoice `number` by `amount` (at most what it still asks)."""
        invoice = await self.get(number)
        if invoice.is_credit_note:
            raise InvoiceError(_("A credit note corrects an invoice, not another credit note."))
        if not reason.strip():
            raise InvoiceError(_("Say why the invoice is credited."), "reason")
        standing = await self._standing_invoice(invoice.pledge_id)
        if standing is None or standing.number != invoice.number:
            raise InvoiceError(_("This invoice has been credited in full already."))
        try:
            await self.pledges.credit(invoice.pledge_id, amount, reason.strip())
        except NotBillable as refused:
            raise InvoiceError(str(refused), refused.field) from refused
        credit_notes = [d for d in await self.of_pledge(invoice.pledge_id) if d.corrects == invoice.number]
        return credit_notes[-1]

    async def send_pending(self) -> None:
        """Send the credit notes issued by transactions that committed. Inside a transaction still
        open nothing goes: the outermost caller calls again after its commit. A credit note whose
        transaction was rolled back is not in the database (or its number went to another
        document since): it is dropped, never sent."""
        if current_engine().transaction_exists():
            return
        pending, self._unsent = self._unsent, []
        for number, source_key in pending:
            if await Invoice.exists().where((Invoice.number == number) & (Invoice.source_key == source_key)):
                await self.send(await self.get(number))

    # -- reading ------------------------------------------------------------------------------
    async def get(self, number: str) -> IssuedDocument:
        row = await Invoice.select(*_SUMMARY).where(Invoice.number == number).first() if _fits(number) else None
        if row is None:
            raise InvoiceNotFound(_("There is no invoice with this number."))
        return _issued(row)

    async def of_pledge(self, pledge_id: int) -> list[IssuedDocument]:
        rows = await Invoice.select(*_SUMMARY).where(Invoice.pledge == pledge_id).order_by(Invoice.id)
        return [_issued(row) for row in rows]

    async def latest_invoices(self, pledge_ids: list[int]) -> dict[int, IssuedDocument]:
        """Each pledge's newest invoice (credit notes aside), in one query: for lists of pledges."""
        if not pledge_ids:
            return {}
        rows = (
            await Invoice.select(*_SUMMARY)
            .where(Invoice.pledge.is_in(pledge_ids) & (Invoice.kind == DocumentKind.invoice.value))
            .order_by(Invoice.id)
        )
        return {row["pledge"]: _issued(row) for row in rows}

    async def file(self, number: str, suffix: str) -> tuple[IssuedDocument, bytes]:
        """The stored PDF (`pdf`) or UBL (`xml`) of `number`, byte for byte as issued."""
        issued = await self.get(number)
        column = Invoice.pdf if suffix == "pdf" else Invoice.xml
        row = await Invoice.select(column).where(Invoice.number == number).first()
        assert row is not None
        return issued, bytes(row[column._meta.name])

    async def entry_seq(self, document: IssuedDocument) -> int | None:
        """The journal entry that booked it: the public ledger's side of the document."""
        entry = await self.ledger.booked(billing_key(document.kind.value, document.number))
        return entry.seq if entry else None

    # -- sending ------------------------------------------------------------------------------
    async def send(self, document: IssuedDocument) -> None:
        """Mail the PDF and the UBL to the buyer, and hand the UBL to the access point; each
        hand-off is recorded, and a failure is logged (the document stands; send it again)."""
        buyer = document.document.buyer
        pdf = (await self.file(document.number, "pdf"))[1]
        xml = (await self.file(document.number, "xml"))[1]
        if self.mailer and buyer.contact_email:
            with use_locale(document.language):
                subject = f"{title(document.document)}: {document.document.title}"
                text = self._mail_text(document)
            mail = Mail(
                to=buyer.contact_email,
                subject=subject,
                text=text,
                attachments=(
                    Attachment(document.filename("pdf"), "application/pdf", pdf),
                    Attachment(document.filename("xml"), "application/xml", xml),
                ),
            )
            try:
                await self.mailer.send(mail)
                await self._delivered(document, DeliveryChannel.email, True, "")
            except MailError as error:
                log.error("invoice %s was not mailed: %s", document.number, error)
                await self._delivered(document, DeliveryChannel.email, False, str(error))
        if self.access_point:
            seller = self.seller.party
            try:
                message = await self.access_point.deliver(
                    number=document.number,
                    xml=xml,
                    sender=f"{seller.endpoint_scheme}:{seller.endpoint_id}",
                    receiver=f"{buyer.endpoint_scheme}:{buyer.endpoint_id}",
                    credit_note=document.is_credit_note,
                )
                await self._delivered(document, DeliveryChannel.peppol, True, message)
            except OSError as error:
                log.error("invoice %s was not handed to the access point: %s", document.number, error)
                await self._delivered(document, DeliveryChannel.peppol, False, str(error))

    def _mail_text(self, document: IssuedDocument) -> str:
        facts = {
            "number": document.number,
            "amount": document.amount.format(document.language),
            "iban": self.seller.iban,
            "reference": iso11649.format(document.document.payment_reference),
            "due": document.due_date.isoformat(),
        }
        greeting = _("Dear %(name)s,") % {"name": document.document.buyer.contact_name or document.document.buyer.name}
        if document.is_credit_note:
            body = _(
                "Attached is credit note %(number)s for %(amount)s, as a PDF and as an e-invoice (UBL). "
                "It corrects invoice %(invoice)s."
            ) % {**facts, "invoice": document.corrects or ""}
        else:
            body = (
                _(
                    "Attached is invoice %(number)s for %(amount)s, as a PDF and as an e-invoice (UBL). "
                    "Please transfer the amount to %(iban)s with payment reference %(reference)s by %(due)s."
                )
                % facts
            )
        return f"{greeting}\n\n{body}\n"

    async def _delivered(self, document: IssuedDocument, channel: DeliveryChannel, ok: bool, detail: str) -> None:
        row = await Invoice.select(Invoice.id).where(Invoice.number == document.number).first()
        assert row is not None
        await InvoiceDelivery.insert(
            InvoiceDelivery(invoice=row["id"], channel=channel.value, at=self.clock(), succeeded=ok, detail=detail)
        )

    async def deliveries(self, number: str) -> list[dict]:
        row = await Invoice.select(Invoice.id).where(Invoice.number == number).first()
        if row is None:
            return []
        return (
            await InvoiceDelivery.select(InvoiceDelivery.channel, InvoiceDelivery.at, InvoiceDelivery.succeeded)
            .where(InvoiceDelivery.invoice == row["id"])
            .order_by(InvoiceDelivery.id)
        )

    # -- inside the issuing transaction -------------------------------------------------------
    async def _next_number(self) -> str:
        """The year's next number, under the number lock (call inside a write transaction)."""
        await lock_transaction(NUMBER_LOCK)
        year = self.pledges.today().year
        row = (
            await Invoice.select(Invoice.sequence)
            .where(Invoice.year == year)
            .order_by(Invoice.sequence, ascending=False)
            .first()
        )
        return f"{year}-{(row['sequence'] if row else 0) + 1:04d}"

    async def _invoice(self, pledge: PledgeRecord, fund: Round, number: str) -> Document:
        organisation = await self.pledges.organisations.get(pledge.organisation_id)
        assert organisation is not None
        if not (organisation["oin"] or organisation["kvk"]):
            # Peppol addresses a buyer by one of them; an e-invoice without is refused (PEPPOL-EN16931-CL008).
            raise NotBillable(
                _("We need the organisation's OIN or KvK number to send it an e-invoice: please contact us.")
            )
        if not (organisation["address"].strip() and organisation["postcode"] and organisation["city"]):
            # A Dutch buyer's access point refuses an e-invoice without its address (NL-R-004).
            raise NotBillable(
                _(
                    "We need the organisation's postal address (street, postcode and city) to invoice it: "
                    "please contact us."
                )
            )
        language = pledge.locale if pledge.locale in ("nl", "en") else "nl"
        with use_locale(language):
            title = fund.title(language)
            line = _("Contribution to %(round)s") % {"round": title}
        today = self.pledges.today()
        return Document(
            kind=DocumentKind.invoice,
            number=number,
            issue_date=today,
            due_date=today + timedelta(days=self.seller.payment_days),
            language=language,
            seller=self.seller.party,
            buyer=buyer_party(organisation, pledge),
            seller_iban=self.seller.iban,
            seller_bic=self.seller.bic,
            payment_reference=pledge.reference,
            buyer_reference=pledge.buyer_reference,
            lines=(Line(description=line, amount=pledge.amount),),
            vat_exemption_reason=self.seller.exemption[language],
            title=title,
        )

    async def _store(self, document: Document, pledge_id: int, source_key: str) -> None:
        if await Invoice.exists().where(Invoice.source_key == source_key):
            raise NotBillable(_("This pledge has been invoiced already."))
        # ReportLab lays a PDF out in tens of milliseconds of CPU: not on the event loop.
        pdf, xml = await anyio.to_thread.run_sync(render_pdf, document), render_ubl(document)
        year, sequence = document.number.split("-")
        await Invoice.insert(
            Invoice(
                number=document.number,
                year=int(year),
                sequence=int(sequence),
                kind=document.kind.value,
                pledge=pledge_id,
                corrects=document.billed_invoice or None,
                source_key=source_key,
                amount_cents=document.total.cents,
                issue_date=document.issue_date,
                due_date=document.due_date,
                language=document.language,
                document=encode_document(document),
                pdf=pdf,
                pdf_sha256=hashlib.sha256(pdf).hexdigest(),
                xml=xml,
                xml_sha256=hashlib.sha256(xml).hexdigest(),
                issued_at=self.clock(),
            )
        )

    async def _standing_invoice(self, pledge_id: int) -> IssuedDocument | None:
        """The pledge's newest invoice, unless credit notes took it back in full."""
        documents = await self.of_pledge(pledge_id)
        invoices = [d for d in documents if not d.is_credit_note]
        if not invoices:
            return None
        newest = invoices[-1]
        credited = sum((d.amount for d in documents if d.corrects == newest.number), Money.zero())
        return newest if credited < newest.amount else None


def buyer_party(organisation: dict, pledge: PledgeRecord) -> Party:
    """The buyer as the registry and the pledge say: a Dutch public body by its OIN (scheme 0190),
    anyone else by its KvK number (0106); `_invoice` refuses a buyer with neither."""
    email = organisation["billing_email"] or pledge.contact_email
    scheme, identifier = ("0190", organisation["oin"]) if organisation["oin"] else ("0106", organisation["kvk"])
    return Party(
        name=organisation["name"],
        street=", ".join(line.strip() for line in organisation["address"].splitlines() if line.strip()),
        postcode=organisation["postcode"],
        city=organisation["city"],
        endpoint_scheme=scheme,
        endpoint_id=identifier,
        legal_id_scheme=scheme,
        legal_id=identifier,
        vat_number=organisation["vat_number"],
        contact_name=pledge.contact_name,
        contact_email=email,
    )


def _enc(value: object) -> object:
    if isinstance(value, Money):
        return value.cents
    raise NotImplementedError(type(value))


def _dec(kind: type, value: object) -> object:
    if kind is Money and isinstance(value, int):
        return Money(value)
    raise NotImplementedError(kind)


def encode_document(document: Document) -> str:
    return msgspec.json.encode(document, enc_hook=_enc).decode()


def decode_document(text: str) -> Document:
    return msgspec.json.decode(text, type=Document, dec_hook=_dec)


_SUMMARY = (
    Invoice.number,
    Invoice.kind,
    Invoice.pledge,
    Invoice.corrects,
    Invoice.amount_cents,
    Invoice.issue_date,
    Invoice.due_date,
    Invoice.language,
    Invoice.document,
    Invoice.pdf_sha256,
    Invoice.xml_sha256,
    Invoice.issued_at,
)


def _issued(row: dict) -> IssuedDocument:
    return IssuedDocument(
        number=row["number"],
        kind=DocumentKind(row["kind"]),
        pledge_id=row["pledge"],
        corrects=row["corrects"],
        amount=Money(row["amount_cents"]),
        issue_date=as_date(row["issue_date"]),
        due_date=as_date(row["due_date"]),
        language=row["language"],
        document=decode_document(row["document"]),
        pdf_sha256=row["pdf_sha256"],
        xml_sha256=row["xml_sha256"],
        issued_at=as_datetime(row["issued_at"]),
    )


def _fits(number: str) -> bool:
    return len(number) <= 12 and number[:4].isdigit() and number[4:5] == "-" and number[5:].isdigit()
