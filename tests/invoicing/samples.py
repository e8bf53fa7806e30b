"""Documents for the renderers' tests: the ordinary case and the edges the acceptance names
(markup and accents in names, long names and addresses, large amounts, whole euros, a buyer
without OIN, English, a credit note)."""

from __future__ import annotations

from datetime import date

from funding.invoicing.document import Document, DocumentKind, Line, Party
from funding.money import Money

SELLER = Party(
    name="Stichting Kennisnetwerk Overheid",
    street="Lange Voorhout 1",
    postcode="2514 EA",
    city="Den Haag",
    endpoint_scheme="0106",
    endpoint_id="12345678",
    legal_id_scheme="0106",
    legal_id="12345678",
    contact_email="financien@kennisnetwerk.example",
)

MUNICIPALITY = Party(
    name="Gemeente Amsterdam",
    street="Amstel 1",
    postcode="1011 PN",
    city="Amsterdam",
    endpoint_scheme="0190",
    endpoint_id="00000001002564440000",
    legal_id_scheme="0190",
    legal_id="00000001002564440000",
    contact_name="Team Financiën",
    contact_email="crediteuren@amsterdam.example",
)


def invoice(**changes: object) -> Document:
    fields: dict[str, object] = {
        "kind": DocumentKind.invoice,
        "number": "2026-0001",
        "issue_date": date(2026, 12, 1),
        "due_date": date(2026, 12, 31),
        "language": "nl",
        "seller": SELLER,
        "buyer": MUNICIPALITY,
        "seller_iban": "NL91ABNA0417164300",
        "seller_bic": "ABNANL2A",
        "payment_reference": "RF471234567890123456",
        "buyer_reference": "PO-2026-118",
        "lines": (Line(description="Bijdrage aan Kennisnetwerk 2027", amount=Money(100_000)),),
        "vat_exemption_reason": "Bijdrage buiten de reikwijdte van de btw",
        "title": "Kennisnetwerk 2027",
    }
    fields.update(changes)
    return Document(**fields)  # type: ignore[arg-type]


def credit_note(**changes: object) -> Document:
    fields: dict[str, object] = {
        "kind": DocumentKind.credit_note,
        "number": "2026-0002",
        "billed_invoice": "2026-0001",
        "billed_invoice_date": date(2026, 12, 1),
        "note": "Toezegging ingetrokken",
    }
    fields.update(changes)
    return invoice(**fields)


EDGE_CASES: dict[str, Document] = {
    "plain": invoice(),
    "markup in names": invoice(
        buyer=Party(
            name='Waterschap "Aa & Maas" <Brabant>',
            street="Pettelaarpark 70 & 't Hof",
            postcode="5216 PP",
            city="'s-Hertogenbosch",
            endpoint_scheme="0190",
            endpoint_id="00000001821002193000",
            legal_id_scheme="0190",
            legal_id="00000001821002193000",
        ),
        lines=(Line(description='Bijdrage <script>alert("x")</script> & meer', amount=Money(50_000)),),
    ),
    "accents": invoice(
        buyer=Party(
            name="Gemeente Súdwest-Fryslân",
            street="Marktstraat 15",
            postcode="8601 CR",
            city="Sneek",
            endpoint_scheme="0190",
            endpoint_id="00000001823288444000",
        ),
    ),
    "long names": invoice(
        buyer=Party(
            name="Ministerie van Binnenlandse Zaken en Koninkrijksrelaties, Directoraat-Generaal Overheidsorganisatie, "
            "Directie Informatiesamenleving en Overheid",
            street="Turfmarkt 147, Gebouw Hoftoren, Verdieping 21, Kamer 21.118, "
            "t.a.v. de afdeling Crediteurenadministratie",
            postcode="2511 DP",
            city="Den Haag",
            endpoint_scheme="0190",
            endpoint_id="00000001003214345000",
        ),
        lines=(
            Line(
                description="Bijdrage aan het Kennisnetwerk Digitale Overheid voor het begrotingsjaar 2027, "
                "conform het besluit van de stuurgroep van 14 november 2026, inclusief de bijdrage aan de "
                "gezamenlijke kennisdag en de publicaties",
                amount=Money(250_000),
            ),
        ),
    ),
    "large amount": invoice(lines=(Line(description="Bijdrage 2027", amount=Money(123_456_789_01)),)),
    "with cents": invoice(lines=(Line(description="Bijdrage 2027", amount=Money(123_457)),)),
    "without OIN": invoice(
        buyer=Party(
            name="Adviesbureau De Brug B.V.",
            street="Stationsplein 3",
            postcode="3511 ED",
            city="Utrecht",
            endpoint_scheme="0106",
            endpoint_id="87654321",
            legal_id_scheme="0106",
            legal_id="87654321",
        ),
        buyer_reference="",
    ),
    "without identifiers": invoice(
        buyer=Party(
            name="Stichting Buurtkracht",
            street="Dorpsstraat 2",
            postcode="1234 AB",
            city="Ergens",
            endpoint_scheme="EM",
            endpoint_id="penningmeester@buurtkracht.example",
        ),
        buyer_reference="",
    ),
    "English": invoice(
        language="en",
        lines=(Line(description="Contribution to Knowledge Network 2027", amount=Money(100_000)),),
        vat_exemption_reason="Contribution outside the scope of VAT",
    ),
    "credit note": credit_note(),
    "English credit note": credit_note(
        language="en", note="Pledge withdrawn", vat_exemption_reason="Contribution outside the scope of VAT"
    ),
}
