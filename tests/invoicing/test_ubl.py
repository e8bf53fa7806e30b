"""The UBL e-invoice: every edge case passes what a Peppol access point checks, and the checks
themselves are shown to bite (a broken document fails them, the official examples pass)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import msgspec
import pytest

from funding.invoicing.ubl import render_ubl
from tests.invoicing.peppol import PeppolValidator
from tests.invoicing.samples import EDGE_CASES, MUNICIPALITY, SELLER, credit_note, invoice

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
NOT_ON_PEPPOL = {"without identifiers": {"PEPPOL-EN16931-CL008"}}
"""The edge cases Peppol rejects by nature, and the only rules they break."""
EXAMPLES = ("base-example.xml", "vat-category-O.xml", "base-creditnote-correction.xml")


def parsed(xml: bytes) -> ET.Element:
    return ET.fromstring(xml)


def text(root: ET.Element, path: str) -> str | None:
    return root.findtext(path, namespaces=NS)


@pytest.mark.parametrize("case", [case for case in EDGE_CASES if case not in NOT_ON_PEPPOL])
def test_every_edge_case_is_valid_peppol(peppol: PeppolValidator, case: str) -> None:
    peppol.assert_valid(render_ubl(EDGE_CASES[case]), name=case)


@pytest.mark.parametrize("case", NOT_ON_PEPPOL)
def test_a_buyer_known_by_email_only_is_valid_en16931_but_not_peppol(peppol: PeppolValidator, case: str) -> None:
    """Peppol's list of electronic address schemes (PEPPOL-EN16931-CL008) leaves out `EM`, which
    EN 16931's allows: such a buyer cannot be reached over Peppol at all. This is why the invoice
    service refuses to invoice an organisation with neither OIN nor KvK number (the renderer
    alone would still make schema- and EN 16931-valid UBL of it)."""
    report = peppol.check(render_ubl(EDGE_CASES[case]))
    assert not report.schema_errors, report
    assert report.fatal_rules == NOT_ON_PEPPOL[case], report


@pytest.mark.parametrize("example", EXAMPLES)
def test_the_official_examples_pass_the_validator(peppol: PeppolValidator, example: str) -> None:
    peppol.assert_valid((peppol.folder / "examples" / example).read_bytes(), name=example)


def test_a_foreign_currency_is_rejected(peppol: PeppolValidator) -> None:
    xml = render_ubl(invoice()).replace(b">EUR</cbc:DocumentCurrencyCode>", b">XXX</cbc:DocumentCurrencyCode>")
    report = peppol.check(xml)
    assert not report.schema_errors
    assert {"BR-CO-15", "PEPPOL-EN16931-R051"} <= report.fatal_rules, report


def test_a_buyer_without_electronic_address_is_rejected(peppol: PeppolValidator) -> None:
    tree = parsed(render_ubl(invoice()))
    buyer = tree.find("cac:AccountingCustomerParty/cac:Party", NS)
    endpoint = buyer.find("cbc:EndpointID", NS) if buyer is not None else None
    assert buyer is not None and endpoint is not None
    buyer.remove(endpoint)
    report = peppol.check(ET.tostring(tree, encoding="utf-8"))
    assert "PEPPOL-EN16931-R010" in report.fatal_rules, report


def test_a_dutch_buyer_without_street_is_rejected_not_blanked(peppol: PeppolValidator) -> None:
    buyer = msgspec.structs.replace(EDGE_CASES["plain"].buyer, street="")
    report = peppol.check(render_ubl(invoice(buyer=buyer)))
    assert "NL-R-004" in report.fatal_rules, report


def test_a_credit_note_without_the_invoice_it_corrects_is_rejected(peppol: PeppolValidator) -> None:
    report = peppol.check(render_ubl(credit_note(billed_invoice="", billed_invoice_date=None)))
    assert "NL-R-001" in report.fatal_rules, report


@pytest.mark.parametrize(
    ("blanked", "rules"),
    [
        ({"seller": msgspec.structs.replace(SELLER, street="")}, {"NL-R-002"}),
        ({"seller": msgspec.structs.replace(SELLER, legal_id_scheme="")}, {"NL-R-003"}),
        ({"seller": msgspec.structs.replace(SELLER, endpoint_scheme="")}, {"BR-62"}),
        ({"buyer": msgspec.structs.replace(MUNICIPALITY, city="")}, {"NL-R-004"}),
        ({"buyer": msgspec.structs.replace(MUNICIPALITY, legal_id_scheme="")}, {"NL-R-005"}),
        ({"seller_iban": ""}, {"BR-50"}),
        ({"vat_exemption_reason": ""}, {"BR-O-10"}),
    ],
    ids=[
        "seller street",
        "seller legal id scheme",
        "seller endpoint scheme",
        "buyer city",
        "buyer legal id scheme",
        "IBAN",
        "VAT exemption reason",
    ],
)
def test_what_an_issued_invoice_cannot_do_without(
    peppol: PeppolValidator, blanked: dict[str, object], rules: set[str]
) -> None:
    report = peppol.check(render_ubl(invoice(**blanked)))
    assert rules <= report.fatal_rules, report


def test_elements_out_of_order_fail_the_schema(peppol: PeppolValidator) -> None:
    tree = parsed(render_ubl(invoice()))
    first = tree[0]
    tree.remove(first)
    tree.append(first)  # CustomizationID after the lines
    report = peppol.check(ET.tostring(tree, encoding="utf-8"))
    assert report.schema_errors and not report.valid


def test_markup_in_names_is_escaped_and_reads_back_unchanged() -> None:
    document = EDGE_CASES["markup in names"]
    tree = parsed(render_ubl(document))
    buyer = "cac:AccountingCustomerParty/cac:Party/"
    assert text(tree, buyer + "cac:PartyLegalEntity/cbc:RegistrationName") == 'Waterschap "Aa & Maas" <Brabant>'
    assert text(tree, buyer + "cac:PostalAddress/cbc:StreetName") == "Pettelaarpark 70 & 't Hof"
    assert text(tree, "cac:InvoiceLine/cac:Item/cbc:Name") == document.lines[0].description
    assert not tree.findall(".//script")


def test_a_control_character_is_refused_not_written() -> None:
    buyer = msgspec.structs.replace(MUNICIPALITY, name="Gemeente\x0bAmsterdam")
    with pytest.raises(ValueError, match="XML cannot carry"):
        render_ubl(invoice(buyer=buyer))


def test_accents_are_written_as_utf8() -> None:
    xml = render_ubl(EDGE_CASES["accents"])
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert "Gemeente Súdwest-Fryslân".encode() in xml


@pytest.mark.parametrize(
    ("case", "amount"),
    [("with cents", "1234.57"), ("plain", "1000.00"), ("large amount", "123456789.01")],
)
def test_amounts_have_two_decimals(case: str, amount: str) -> None:
    tree = parsed(render_ubl(EDGE_CASES[case]))
    for path in (
        "cac:LegalMonetaryTotal/cbc:PayableAmount",
        "cac:LegalMonetaryTotal/cbc:LineExtensionAmount",
        "cac:TaxTotal/cac:TaxSubtotal/cbc:TaxableAmount",
        "cac:InvoiceLine/cbc:LineExtensionAmount",
        "cac:InvoiceLine/cac:Price/cbc:PriceAmount",
    ):
        assert text(tree, path) == amount, path
    assert text(tree, "cac:TaxTotal/cbc:TaxAmount") == "0.00"


def test_the_same_document_gives_the_same_bytes() -> None:
    for document in EDGE_CASES.values():
        assert render_ubl(document) == render_ubl(document)


def test_invoice_header_payment_and_parties() -> None:
    tree = parsed(render_ubl(invoice()))
    assert tree.tag == "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
    assert text(tree, "cbc:InvoiceTypeCode") == "380"
    assert text(tree, "cbc:DueDate") == "2026-12-31"
    assert text(tree, "cbc:BuyerReference") == "PO-2026-118"
    assert text(tree, "cac:PaymentMeans/cbc:PaymentMeansCode") == "58"
    assert text(tree, "cac:PaymentMeans/cbc:PaymentID") == "RF471234567890123456"
    assert text(tree, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "NL91ABNA0417164300"
    assert text(tree, "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == "ABNANL2A"
    assert text(tree, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == "O"
    seller = tree.find("cac:AccountingSupplierParty/cac:Party/cbc:EndpointID", NS)
    buyer = tree.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert seller is not None and (seller.get("schemeID"), seller.text) == ("0106", SELLER.endpoint_id)
    assert buyer is not None and (buyer.get("schemeID"), buyer.text) == ("0190", "00000001002564440000")


def test_without_buyer_reference_the_payment_reference_stands_in() -> None:
    for case in ("without OIN", "without identifiers"):
        tree = parsed(render_ubl(EDGE_CASES[case]))
        assert text(tree, "cbc:BuyerReference") == "RF471234567890123456", case


def test_a_buyer_known_by_email_only_gets_an_em_endpoint_and_no_company_id() -> None:
    tree = parsed(render_ubl(EDGE_CASES["without identifiers"]))
    endpoint = tree.find("cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert endpoint is not None and (endpoint.get("schemeID"), endpoint.text) == (
        "EM",
        "penningmeester@buurtkracht.example",
    )
    assert tree.find("cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:CompanyID", NS) is None


def test_credit_note_references_the_invoice_with_positive_amounts_and_no_payment() -> None:
    tree = parsed(render_ubl(EDGE_CASES["credit note"]))
    assert tree.tag == "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
    assert text(tree, "cbc:CreditNoteTypeCode") == "381"
    assert text(tree, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == "2026-0001"
    assert text(tree, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == "2026-12-01"
    assert text(tree, "cbc:Note") == "Toezegging ingetrokken"
    assert text(tree, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "1000.00"
    assert text(tree, "cac:CreditNoteLine/cbc:CreditedQuantity") == "1"
    assert tree.find("cac:PaymentMeans", NS) is None


def test_english_payment_terms() -> None:
    tree = parsed(render_ubl(EDGE_CASES["English"]))
    assert text(tree, "cac:PaymentTerms/cbc:Note") == "Please pay by 31 December 2026, quoting RF471234567890123456."
