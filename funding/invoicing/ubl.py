"""The e-invoice: a `Document` as a UBL 2.1 `Invoice` or `CreditNote` per Peppol BIS Billing 3.0,
the form Dutch public bodies receive invoices in (through their Peppol access point).

What a contribution is shapes the document. It is outside the scope of VAT, so there is one VAT
breakdown of category `O` with the document's exemption reason and no VAT amounts, and no VAT
number of either party appears (rules BR-O-01…BR-O-14 forbid them next to category `O`). Every
line is one contribution: quantity 1 of unit `C62` (one), price = amount. Payment is by SEPA
credit transfer (means code 58) to the seller's IBAN, quoting the pledge's RF reference.

The tree is built with `xml.etree.ElementTree`, which escapes text and attributes. Tags carry
their `cbc:`/`cac:` prefix and the root declares the namespaces itself, so the output needs no
registered prefixes (module-wide state) and the same document always gives the same bytes.
`tests/invoicing/test_ubl.py` checks every sample against the UBL schema and the CEN and Peppol
rules (`tests/invoicing/peppol.py`).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import date

from babel.dates import format_date

from funding.invoicing.document import Document, DocumentKind, Line, Party
from funding.money import CURRENCY, Money

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ROOT_NAMESPACE = {
    DocumentKind.invoice: "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    DocumentKind.credit_note: "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
}
INVOICE_TYPE_CODE = "380"
"""UNTDID 1001: commercial invoice."""
CREDIT_NOTE_TYPE_CODE = "381"
"""UNTDID 1001: credit note."""
SEPA_CREDIT_TRANSFER = "58"
"""UNTDID 4461; one of the codes NL-R-008 allows for a Dutch buyer."""
OUTSIDE_SCOPE_OF_VAT = "O"
UNIT_ONE = "C62"
"""UN/ECE recommendation 20: "one", a unit without dimension."""
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
"""Written out: ElementTree's own uses single quotes, which is valid but unusual."""
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""Characters outside XML 1.0's `Char` production."""
PAYMENT_TERMS = {
    "nl": "Te betalen vóór {due} onder vermelding van {reference}.",
    "en": "Please pay by {due}, quoting {reference}.",
}


def render_ubl(document: Document) -> bytes:
    """The document as Peppol BIS 3 UBL: UTF-8 with an XML declaration, indented.

    A buyer reference (BT-10) or an order reference (BT-13) must be present (PEPPOL-EN16931-R003).
    When the buyer gave no reference, the pledge's payment reference stands in as the buyer
    reference: it identifies the pledge the document bills, and it is what the buyer's payment
    will quote. Credit notes carry the invoice they correct (BT-25, NL-R-001) and no payment
    means, terms or due date: nothing is to be paid to the seller, and NL-R-007 asks for payment
    means only when the buyer pays.

    Whether the result can travel over Peppol depends on the parties: a buyer known only by an
    e-mail address (endpoint scheme `EM`) passes EN 16931 but not Peppol's list of address
    schemes (PEPPOL-EN16931-CL008); send that buyer the document by e-mail.
    """
    credit = document.kind is DocumentKind.credit_note
    root = ET.Element(
        "CreditNote" if credit else "Invoice",
        {"xmlns": ROOT_NAMESPACE[document.kind], "xmlns:cac": CAC, "xmlns:cbc": CBC},
    )
    _text(root, "cbc:CustomizationID", CUSTOMIZATION_ID)
    _text(root, "cbc:ProfileID", PROFILE_ID)
    _text(root, "cbc:ID", document.number)
    _text(root, "cbc:IssueDate", document.issue_date.isoformat())
    if credit:
        _text(root, "cbc:CreditNoteTypeCode", CREDIT_NOTE_TYPE_CODE)
    else:
        _text(root, "cbc:DueDate", document.due_date.isoformat())
        _text(root, "cbc:InvoiceTypeCode", INVOICE_TYPE_CODE)
    if document.note:
        _text(root, "cbc:Note", document.note)
    _text(root, "cbc:DocumentCurrencyCode", document.currency)
    _text(root, "cbc:BuyerReference", document.buyer_reference or document.payment_reference)
    if credit and document.billed_invoice:
        reference = ET.SubElement(ET.SubElement(root, "cac:BillingReference"), "cac:InvoiceDocumentReference")
        _text(reference, "cbc:ID", document.billed_invoice)
        if document.billed_invoice_date:
            _text(reference, "cbc:IssueDate", document.billed_invoice_date.isoformat())
    _party(ET.SubElement(root, "cac:AccountingSupplierParty"), document.seller)
    _party(ET.SubElement(root, "cac:AccountingCustomerParty"), document.buyer)
    if not credit:
        _payment(root, document)
    total = document.total
    tax = ET.SubElement(root, "cac:TaxTotal")
    _amount(tax, "cbc:TaxAmount", Money.zero())
    subtotal = ET.SubElement(tax, "cac:TaxSubtotal")
    _amount(subtotal, "cbc:TaxableAmount", total)
    _amount(subtotal, "cbc:TaxAmount", Money.zero())
    _tax_category(subtotal, "cac:TaxCategory", document.vat_exemption_reason)
    totals = ET.SubElement(root, "cac:LegalMonetaryTotal")
    for name in ("LineExtensionAmount", "TaxExclusiveAmount", "TaxInclusiveAmount", "PayableAmount"):
        _amount(totals, f"cbc:{name}", total)
    for number, line in enumerate(document.lines, start=1):
        _line(root, credit, number, line)
    ET.indent(root)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode").encode() + b"\n"


def _party(role: ET.Element, party: Party) -> None:
    """Seller (BG-4) or buyer (BG-7); the address elements that are empty are left out, so a
    Dutch party without street, postcode or city fails NL-R-002/NL-R-004 instead of passing
    with blanks."""
    element = ET.SubElement(role, "cac:Party")
    _text(element, "cbc:EndpointID", party.endpoint_id, schemeID=party.endpoint_scheme)
    address = ET.SubElement(element, "cac:PostalAddress")
    for tag, value in (
        ("cbc:StreetName", party.street),
        ("cbc:CityName", party.city),
        ("cbc:PostalZone", party.postcode),
    ):
        if value:
            _text(address, tag, value)
    _text(ET.SubElement(address, "cac:Country"), "cbc:IdentificationCode", party.country)
    legal = ET.SubElement(element, "cac:PartyLegalEntity")
    _text(legal, "cbc:RegistrationName", party.name)
    if party.legal_id:
        _text(legal, "cbc:CompanyID", party.legal_id, schemeID=party.legal_id_scheme)
    if party.contact_name or party.contact_email:
        contact = ET.SubElement(element, "cac:Contact")
        if party.contact_name:
            _text(contact, "cbc:Name", party.contact_name)
        if party.contact_email:
            _text(contact, "cbc:ElectronicMail", party.contact_email)


def _payment(root: ET.Element, document: Document) -> None:
    means = ET.SubElement(root, "cac:PaymentMeans")
    _text(means, "cbc:PaymentMeansCode", SEPA_CREDIT_TRANSFER)
    _text(means, "cbc:PaymentID", document.payment_reference)
    account = ET.SubElement(means, "cac:PayeeFinancialAccount")
    _text(account, "cbc:ID", document.seller_iban)
    if document.seller_bic:
        _text(ET.SubElement(account, "cac:FinancialInstitutionBranch"), "cbc:ID", document.seller_bic)
    terms = PAYMENT_TERMS.get(document.language, PAYMENT_TERMS["en"])
    due = _long_date(document.due_date, document.language)
    _text(
        ET.SubElement(root, "cac:PaymentTerms"), "cbc:Note", terms.format(due=due, reference=document.payment_reference)
    )


def _line(root: ET.Element, credit: bool, number: int, line: Line) -> None:
    element = ET.SubElement(root, "cac:CreditNoteLine" if credit else "cac:InvoiceLine")
    _text(element, "cbc:ID", str(number))
    _text(element, "cbc:CreditedQuantity" if credit else "cbc:InvoicedQuantity", "1", unitCode=UNIT_ONE)
    _amount(element, "cbc:LineExtensionAmount", line.amount)
    item = ET.SubElement(element, "cac:Item")
    _text(item, "cbc:Name", line.description)
    _tax_category(item, "cac:ClassifiedTaxCategory")
    _amount(ET.SubElement(element, "cac:Price"), "cbc:PriceAmount", line.amount)


def _tax_category(parent: ET.Element, tag: str, exemption_reason: str = "") -> None:
    """Category `O` without a rate: BR-O-05 and BR-O-12 forbid one. The breakdown carries the
    exemption reason (BR-O-10), the lines do not."""
    category = ET.SubElement(parent, tag)
    _text(category, "cbc:ID", OUTSIDE_SCOPE_OF_VAT)
    if exemption_reason:
        _text(category, "cbc:TaxExemptionReason", exemption_reason)
    _text(ET.SubElement(category, "cac:TaxScheme"), "cbc:ID", "VAT")


def _amount(parent: ET.Element, tag: str, money: Money) -> None:
    """Two decimals from whole cents (`1000.00`, `1234.57`): `Money.to_decimal` is exact."""
    _text(parent, tag, f"{money.to_decimal():.2f}", currencyID=CURRENCY)


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    """A child with text; empty attributes are left out. ElementTree escapes markup but writes
    control characters as they are, which no XML parser reads back: those are refused."""
    if bad := _NOT_XML.search(text):
        raise ValueError(f"{tag} holds {bad.group()!r}, which XML cannot carry: {text!r}")
    element = ET.SubElement(parent, tag, {name: value for name, value in attributes.items() if value})
    element.text = text
    return element


def _long_date(day: date, language: str) -> str:
    """`31 december 2026` / `31 December 2026`, for the payment terms a person reads."""
    return format_date(day, format="long", locale="nl" if language == "nl" else "en_GB")
