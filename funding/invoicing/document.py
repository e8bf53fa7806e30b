"""What an invoice or credit note says, as one value: the PDF, the HTML view and the UBL
e-invoice are all rendered from it, and nothing else, so the three cannot disagree."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

import msgspec

from funding.money import Money


class DocumentKind(StrEnum):
    invoice = "invoice"
    credit_note = "credit_note"


class Party(msgspec.Struct, frozen=True, kw_only=True):
    """Seller or buyer as the document names them. `endpoint_scheme` / `endpoint_id` are the
    Peppol electronic address: `0190` + the 20-digit OIN for Dutch public bodies, `0106` + the
    8-digit KvK number otherwise; `legal_id_scheme` / `legal_id` the same pair as the party's
    legal registration (empty when the buyer has neither)."""

    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    country: str = "NL"
    endpoint_scheme: str = ""
    endpoint_id: str = ""
    legal_id_scheme: str = ""
    legal_id: str = ""
    vat_number: str = ""
    contact_name: str = ""
    contact_email: str = ""


class Line(msgspec.Struct, frozen=True, kw_only=True):
    """One line: a pledge's contribution to a round (quantity 1, so its amount is its price)."""

    description: str
    amount: Money


class Document(msgspec.Struct, frozen=True, kw_only=True):
    """An issued invoice or credit note. Amounts are positive on both kinds: a credit note's
    kind says it takes back. Texts are already in the document's `language` (`nl` or `en`)."""

    kind: DocumentKind
    number: str
    """`2026-0001`: sequential per year, without gaps, shared by invoices and credit notes."""
    issue_date: date
    due_date: date
    language: str
    seller: Party
    buyer: Party
    seller_iban: str
    seller_bic: str
    payment_reference: str
    """The pledge's ISO 11649 creditor reference (`RF…`), without spaces."""
    buyer_reference: str
    """The purchase-order number or buyer reference given with the pledge; may be empty."""
    lines: tuple[Line, ...]
    vat_exemption_reason: str
    """Why no VAT is charged: a contribution is outside the scope of VAT (category `O`)."""
    billed_invoice: str = ""
    """Credit notes: the number of the invoice they correct."""
    billed_invoice_date: date | None = None
    note: str = ""
    """Why a credit note was issued (its reason), or a free note on an invoice."""
    title: str = ""
    """The round it bills, for headings: "Bijdrage 2027"."""

    @property
    def total(self) -> Money:
        return sum((line.amount for line in self.lines), Money.zero())

    @property
    def currency(self) -> str:
        return "EUR"
