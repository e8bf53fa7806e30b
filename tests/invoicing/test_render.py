"""The PDF and the HTML view of every edge case: what they say, in which language, and that the PDF
is A4, embeds its fonts, keeps its text on the page and is the same every time it is made."""

from __future__ import annotations

import io
import re
from functools import cache
from html import unescape
from types import SimpleNamespace

import pytest
from markupsafe import escape
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from reportlab.pdfbase.ttfonts import TTFont
from stdnum import iso11649

from funding.i18n import use_locale
from funding.invoicing.document import Document, Line, Party
from funding.invoicing.render import FONT_DIR, day, render_html, render_pdf, title
from funding.money import Money
from tests.invoicing.samples import EDGE_CASES, MUNICIPALITY, credit_note, invoice

A4 = (595.28, 841.89)
MARGIN = 51.0  # 18 mm, pdf.html's left and right margins
CASES = pytest.mark.parametrize("document", EDGE_CASES.values(), ids=EDGE_CASES.keys())

LONG_WORD = "Gemeentelijkebelastingsamenwerkingsverbandsadministratiekantoor" * 3
UNBROKEN = invoice(
    buyer=Party(name=LONG_WORD, street=LONG_WORD, city="Zwolle", contact_email="x" * 90 + "@example.org"),
    buyer_reference="PO" * 60,
    lines=tuple(Line(description=f"{i}: {LONG_WORD}", amount=Money(123_456_789_01)) for i in range(30)),
)
"""Words longer than any line, and more lines than fit on a page."""


@cache
def pdf(document: Document) -> bytes:
    return render_pdf(document)


def words(text: str) -> str:
    """Text with each run of white space (a space, a line break, a no-break space) as one space."""
    return " ".join(text.split())


def pdf_text(document: Document) -> str:
    return words("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf(document))).pages))


def html_text(document: Document) -> str:
    """The HTML view's text, without its tags, entities read back."""
    return words(unescape(re.sub(r"<[^>]+>", " ", render_html(document))))


def facts(document: Document) -> list[str]:
    """What a reader must find on the document, as the document's language writes it."""
    with use_locale(document.language):
        shown = [
            title(document),
            document.number,
            iso11649.format(document.payment_reference),
            document.total.format(document.language),
            document.buyer.name,
            document.seller.name,
            day(document.issue_date),
        ]
        if document.billed_invoice:
            shown += [document.billed_invoice, document.note]
        else:
            shown += ["NL91 ABNA 0417 1643 00", document.seller_bic, day(document.due_date)]
        if document.buyer_reference:
            shown.append(document.buyer_reference)
        shown += [line.description for line in document.lines]
    return [words(fact) for fact in shown]


@CASES
def test_the_pdf_says_the_documents_facts(document):
    text = pdf_text(document)
    assert [fact for fact in facts(document) if fact not in text] == []


@CASES
def test_the_html_view_says_the_same_facts(document):
    text = html_text(document)
    assert [fact for fact in facts(document) if fact not in text] == []


def test_the_facts_are_written_in_the_documents_language():
    dutch, english = pdf_text(EDGE_CASES["with cents"]), pdf_text(EDGE_CASES["English"])
    assert "Factuur 2026-0001" in dutch and "€ 1.234,57" in dutch and "31 december 2026" in dutch
    assert "Betalingskenmerk RF47 1234 5678 9012 3456" in dutch
    assert "Invoice 2026-0001" in english and "€1,000.00" in english and "31 December 2026" in english
    assert "Payment reference RF47 1234 5678 9012 3456" in english
    assert "€ 123.456.789,01" in pdf_text(EDGE_CASES["large amount"])


def test_an_invoice_asks_for_a_transfer_and_a_credit_note_says_nothing_is_owed():
    assert "Maak € 1.000,00 uiterlijk 31 december 2026 over naar NL91 ABNA 0417 1643 00" in pdf_text(invoice())
    credit = pdf_text(credit_note())
    assert "Creditnota 2026-0002" in credit and "Corrigeert factuur 2026-0001 van 1 december 2026" in credit
    assert "Reden Toezegging ingetrokken" in credit
    assert "vervalt € 1.000,00 van factuur 2026-0001: dat bedrag hoeft u niet te betalen" in credit
    assert "Vervaldatum" not in credit and "Maak" not in credit
    english = pdf_text(EDGE_CASES["English credit note"])
    assert "Credit note 2026-0002" in english and "Reason Pledge withdrawn" in english
    assert "you do not need to pay that amount" in english


def test_the_vat_treatment_is_stated():
    assert "Er wordt geen btw berekend: Bijdrage buiten de reikwijdte van de btw." in pdf_text(invoice())
    assert "No VAT is charged: Contribution outside the scope of VAT." in pdf_text(EDGE_CASES["English"])


def test_the_buyers_registration_is_named_by_its_scheme():
    assert "OIN 00000001002564440000" in pdf_text(invoice())
    assert "KvK-nummer 87654321" in pdf_text(EDGE_CASES["without OIN"])
    assert "E-mail penningmeester@buurtkracht.example" in pdf_text(EDGE_CASES["without identifiers"])
    assert "T.a.v. Team Financiën" in pdf_text(invoice())


@CASES
def test_every_page_is_a4(document):
    for page in PdfReader(io.BytesIO(pdf(document))).pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=1)


def fonts(resources: DictionaryObject) -> list[DictionaryObject]:
    """The fonts a page or form uses, its forms' fonts included."""
    found = [font.get_object() for font in resources.get("/Font", {}).values()]
    for xobject in resources.get("/XObject", {}).values():
        xobject = xobject.get_object()
        if "/Resources" in xobject:
            found += fonts(xobject["/Resources"].get_object())
    return found


@CASES
def test_every_font_is_embedded(document):
    reader = PdfReader(io.BytesIO(pdf(document)))
    used = [font for page in reader.pages for font in fonts(page["/Resources"].get_object())]
    assert used
    for font in used:
        descendants = font.get("/DescendantFonts") or [font]
        for face in (f.get_object() for f in descendants):
            descriptor = face.get("/FontDescriptor")
            assert descriptor is not None, f"{face['/BaseFont']} is not embedded (a standard font)"
            assert {"/FontFile2", "/FontFile3"} & set(descriptor.get_object()), face["/BaseFont"]


def text_runs(data: bytes) -> list[tuple[str, float, float, float, bool]]:
    """Every run of text in the PDF: (text, x, font size, page width, bold)."""
    runs = []
    for page in PdfReader(io.BytesIO(data)).pages:
        width = float(page.mediabox.width)

        def visit(text, cm, tm, font, size, width=width):
            if text.strip():
                bold = "Bold" in str((font or {}).get("/BaseFont", ""))
                runs.append((text.strip(), cm[4] + tm[4] * cm[0], size * tm[0] * cm[0], width, bold))

        page.extract_text(visitor_text=visit)
    return runs


@cache
def face(bold: bool) -> TTFont:
    return TTFont("measure", str(FONT_DIR / ("VeraBd.ttf" if bold else "Vera.ttf")))


@pytest.mark.parametrize("document", [*EDGE_CASES.values(), UNBROKEN], ids=[*EDGE_CASES.keys(), "unbroken words"])
def test_no_text_runs_off_the_page(document):
    runs = text_runs(pdf(document))
    assert runs
    for text, x, size, width, bold in runs:
        right = x + max(face(bold).stringWidth(line, size) for line in text.splitlines())
        assert x >= MARGIN - 1 and right <= width - MARGIN + 1, text


def test_long_words_break_and_long_documents_go_on_to_further_pages():
    reader = PdfReader(io.BytesIO(pdf(UNBROKEN)))
    assert len(reader.pages) > 1
    text = "".join(page.extract_text() for page in reader.pages)
    assert re.sub(r"\s", "", text).count(LONG_WORD) == 2 + 30  # name, street and every line, whole
    assert "pagina 2 / " in text


def test_the_pdf_is_the_same_every_time_and_its_metadata_come_from_the_document():
    document = EDGE_CASES["English"]
    assert render_pdf(document) == render_pdf(document)
    reader = PdfReader(io.BytesIO(render_pdf(document)))
    assert reader.metadata is not None
    assert reader.metadata.title == "Invoice 2026-0001"
    assert reader.metadata.author == "Stichting Kennisnetwerk Overheid"
    assert reader.metadata.subject == "Kennisnetwerk 2027"
    assert reader.trailer["/Root"]["/Lang"] == "en"
    assert reader.metadata["/CreationDate"] == "D:20261201000000+00'00'"  # the issue date, not the clock
    assert render_pdf(invoice(number="2026-0003")) != render_pdf(invoice())


def test_markup_in_names_is_text_in_the_pdf():
    text = pdf_text(EDGE_CASES["markup in names"])
    assert 'Waterschap "Aa & Maas" <Brabant>' in text
    assert 'Bijdrage <script>alert("x")</script> & meer' in text
    assert "&amp;" not in text and "&lt;" not in text


def test_markup_in_names_is_escaped_in_the_html_view():
    html = render_html(EDGE_CASES["markup in names"])
    assert "<script>" not in html and "<Brabant>" not in html
    assert escape('Waterschap "Aa & Maas" <Brabant>') in html
    assert escape('Bijdrage <script>alert("x")</script> & meer') in html
    assert escape("Pettelaarpark 70 & 't Hof") in html


def test_the_html_view_is_a_fragment_in_the_documents_language():
    html = render_html(EDGE_CASES["English credit note"])
    assert html.startswith('<article class="invoice" lang="en">') and html.rstrip().endswith("</article>")
    assert "<h1>Credit note 2026-0002</h1>" in html
    assert render_html(invoice()).startswith('<article class="invoice" lang="nl">')


def test_a_buyer_abroad_has_its_country_named():
    abroad = invoice(
        buyer=Party(name="Gemeente Antwerpen", street="Grote Markt 1", postcode="2000", city="Antwerpen", country="BE")
    )
    assert "2000 Antwerpen België" in pdf_text(abroad)
    assert "Nederland" not in pdf_text(invoice(buyer=MUNICIPALITY))


def fake_request() -> SimpleNamespace:
    """What base.html reads of a request: its path, its query and its route (none)."""
    return SimpleNamespace(
        url=SimpleNamespace(path="/invoices/2026-0001"), scope={}, query_params=SimpleNamespace(multi_items=list)
    )


def test_the_site_page_shows_the_fragment_once_escaped_in_the_sites_layout():
    from datetime import UTC, datetime

    from litestar.plugins.jinja import JinjaTemplateEngine

    from funding.invoicing.service import IssuedDocument
    from funding.settings import ROOT
    from funding.web.templating import configure

    engine = JinjaTemplateEngine(directory=ROOT / "templates")
    configure(engine)
    document = EDGE_CASES["markup in names"]
    issued = IssuedDocument(
        number=document.number,
        kind=document.kind,
        pledge_id=1,
        corrects=None,
        amount=document.total,
        issue_date=document.issue_date,
        due_date=document.due_date,
        language=document.language,
        document=document,
        pdf_sha256="a" * 64,
        xml_sha256="b" * 64,
        issued_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    with use_locale("en"):
        page = engine.engine.get_template("public/invoice.html").render(
            document_html=render_html(document),
            issued=issued,
            pledge=type("Pledge", (), {"token": "t" * 43})(),
            entry_seq=7,
            programme=None,
            request=fake_request(),
            url_for=lambda name, **params: f"/{name}/{params.get('file', '')}",
        )
    assert "<title>Invoice 2026-0001 · Funding ledger</title>" in page, "the page's own language"
    assert '<article class="invoice" lang="nl">' in page and "<h1>Factuur 2026-0001</h1>" in page
    assert page.count("<h1") == 1, "the document's heading is the page's"
    assert escape('Waterschap "Aa & Maas" <Brabant>') in page and "<script>" not in page
    assert 'href="/pledge_document/2026-0001.pdf" download' in page and "a" * 64 in page


@CASES
def test_the_font_has_every_character_the_pdf_shows(document):
    """Bitstream Vera covers Windows-1252 (€, the accents of Dutch and Frisian names), not all of
    Latin Extended-A (ő, ę): a character outside it would print as an empty box."""
    missing = {char for char in pdf_text(document) if ord(char) not in face(False).face.charToGlyph}
    assert missing <= {" "}


def test_rendering_leaves_reportlabs_settings_as_they_were():
    from reportlab import rl_config
    from reportlab.pdfbase.pdfdoc import PDFInfo
    from reportlab.platypus.tables import CellStyle

    before = rl_config.invariant, rl_config.canvas_basefontname, CellStyle.fontname, PDFInfo._dateFormatter
    render_pdf(invoice())
    assert (rl_config.invariant, rl_config.canvas_basefontname, CellStyle.fontname, PDFInfo._dateFormatter) == before
