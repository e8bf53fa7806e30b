"""Issued invoices and credit notes, and their deliveries. Private to the pledger and staff: the
journal holds the public side (the number and the amount it moved, never the buyer's details).

Both tables are append-only (migration 0015): an issued document is never edited or rendered
again; its PDF and XML are stored once, with their SHA-256, and served as stored."""

from enum import StrEnum

from piccolo.columns import BigInt, Boolean, Bytea, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from funding.invoicing.document import DocumentKind
from funding.pledges.tables import KEPT, OPTIONAL, REQUIRED, Pledge


class Invoice(Table):
    """An invoice or a credit note: one number series per year, without gaps (`2026-0001`)."""

    id: Serial
    number = Varchar(length=12, unique=True, **REQUIRED)
    year = Integer(**REQUIRED)
    sequence = Integer(help_text="1, 2, … within the year; unique with it (migration 0015)", **REQUIRED)
    kind = Varchar(length=12, choices=DocumentKind, **REQUIRED)
    pledge = ForeignKey(references=Pledge, index=True, **REQUIRED, **KEPT)
    corrects = Varchar(length=12, help_text="A credit note: the invoice it corrects", **OPTIONAL)
    source_key = Varchar(
        length=120,
        unique=True,
        help_text="What it was issued for (`pledge:<id>:due:<seq>`, `credit:<invoice>:<n>`): one document each",
        **REQUIRED,
    )
    amount_cents = BigInt(**REQUIRED)
    issue_date = Date(**REQUIRED)
    due_date = Date(**REQUIRED)
    language = Varchar(length=5, **REQUIRED)
    document = Text(help_text="The Document as issued (JSON), which the HTML view renders", **REQUIRED)
    pdf = Bytea(**REQUIRED)
    pdf_sha256 = Varchar(length=64, **REQUIRED)
    xml = Bytea(**REQUIRED)
    xml_sha256 = Varchar(length=64, **REQUIRED)
    issued_at = Timestamptz(**REQUIRED)


class DeliveryChannel(StrEnum):
    email = "email"
    peppol = "peppol"


class InvoiceDelivery(Table):
    """Each hand-off of a document: by e-mail, or to the Peppol access point (append-only)."""

    id: Serial
    invoice = ForeignKey(references=Invoice, index=True, **REQUIRED, **KEPT)
    channel = Varchar(length=10, choices=DeliveryChannel, **REQUIRED)
    at = Timestamptz(**REQUIRED)
    succeeded = Boolean(**REQUIRED)
    detail = Text(help_text="The access point's message id, or why it failed", **REQUIRED)
