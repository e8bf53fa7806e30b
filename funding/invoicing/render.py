"""An invoice or credit note as a PDF and as HTML, both from the one template `document.html`.

The PDF is made with xhtml2pdf: HTML and CSS laid out by ReportLab, pure Python from pip with
no system libraries (WeasyPrint would need Pango), so the PDF and the HTML view share one Jinja
template and cannot say different things. ReportLab's own fonts are Bitstream Vera (a licence
that allows redistribution; € and the accents of Dutch and Frisian names are in it), embedded
as subsets, so no PDF reader substitutes a font of its own.

Rendering is deterministic: the same document gives the same bytes (dated its issue date, with
an ID from its content, not the clock), because ReportLab's "invariant" mode is on while a
document is made. That mode, and the font a page starts in, are ReportLab module settings, so
documents are made one at a time (xhtml2pdf does so anyway: ReportLab keeps its fonts in module
globals). A PDF takes some 50-100 ms: call `render_pdf` in a worker thread from a request.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import reportlab
from babel.dates import format_date
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup
from reportlab import rl_config
from reportlab.pdfbase.pdfdoc import PDFInfo
from reportlab.platypus import tables
from stdnum import iban, iso11649
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

from funding import i18n
from funding.invoicing.document import Document, DocumentKind, Party
from funding.money import Money, babel_locale

DATE_LOCALES = {"nl": "nl", "en": "en_GB"}
"""The Babel locale a document's dates are written in, by its language."""
FONT_DIR = Path(reportlab.__file__).parent / "fonts"
"""Bitstream Vera, as ReportLab ships it (`bitstream-vera-license.txt` beside the fonts)."""
FONT_FAMILY = "vera"
"""The name `pdf.css` gives the fonts; xhtml2pdf registers the regular face as `vera_00`."""

# A document may read its fonts and nothing else: no network, no other file.
POLICY = ResourceAccessPolicy(allow_remote=False, base_dir=FONT_DIR, max_render_seconds=30)

_rendering = threading.Lock()

environment = Environment(
    loader=PackageLoader("funding.invoicing"),
    autoescape=True,
    undefined=StrictUndefined,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
# The i18n extension adds this method to the Environment; jinja2's types do not know it.
environment.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


class RenderError(RuntimeError):
    """xhtml2pdf reported errors while making the PDF."""


def _money(value: Money) -> str:
    return value.format(i18n.current_locale())


def day(value: date) -> str:
    """`1 december 2026`, `1 December 2026`: day first in English too, as British English and the
    EU write it (the site's `format_day` follows Babel's `en`, which is American: `December 1, 2026`)."""
    return format_date(value, format="long", locale=babel_locale(DATE_LOCALES.get(i18n.current_locale(), "nl")))


def _nobreak(value: str) -> str:
    """A reference or IBAN kept on one line in running text: its spaces do not break."""
    return value.replace(" ", "\u00a0")


environment.filters.update(money=_money, day=day, nobreak=_nobreak)


def render_html(document: Document) -> str:
    """The document as an HTML fragment (`<article class="invoice">`), in its own language, for a
    site page to put in its content block (`templates/public/invoice.html`). It is `Markup` (a
    `str` whose texts are escaped already), so a template shows it as it is."""
    with i18n.use_locale(document.language):
        return Markup(environment.get_template("document.html").render(_context(document)))


def render_pdf(document: Document) -> bytes:
    """The document as an A4 PDF in its own language: selectable text, fonts embedded."""
    with i18n.use_locale(document.language):
        html = environment.get_template("pdf.html").render(
            _context(document), font_dir=FONT_DIR.as_posix(), font_family=FONT_FAMILY
        )
    out = io.BytesIO()
    with _reportlab_settings(document.issue_date):
        status = pisa.CreatePDF(html, dest=out, resource_policy=POLICY)
    if status.err:
        raise RenderError(f"xhtml2pdf reported {status.err} error(s) rendering {document.number}")
    return out.getvalue()


def title(document: Document) -> str:
    """`Factuur 2026-0001`, `Credit note 2026-0002`: in the document's language."""
    with i18n.use_locale(document.language):
        return _heading(document)


@contextmanager
def _reportlab_settings(issued: date) -> Iterator[None]:
    """ReportLab's invariant mode (an ID made from the content, not from the clock), the issue
    date as the PDF's creation date, and the embedded font as the one each page and each table
    cell starts in: else every page names Helvetica, which is not embedded, though no text is set
    in it. All are module settings, so they hold for one document at a time."""
    regular = f"{FONT_FAMILY}_00"
    stamp = f"D:{issued:%Y%m%d}000000+00'00'"
    settings: dict[tuple[object, str], object] = {
        (rl_config, "invariant"): 1,
        (rl_config, "canvas_basefontname"): regular,
        (tables.CellStyle, "fontname"): regular,
        (PDFInfo, "_dateFormatter"): staticmethod(lambda *_ymdhms: stamp),  # what Canvas.setDateFormatter sets
    }
    with _rendering:
        before = {(owner, name): getattr(owner, name) for owner, name in settings}
        for (owner, name), value in settings.items():
            setattr(owner, name, value)
        try:
            yield
        finally:
            for (owner, name), value in before.items():
                setattr(owner, name, value)


def _heading(document: Document) -> str:
    _ = i18n.gettext
    if document.kind == DocumentKind.credit_note:
        return _("Credit note %(number)s") % {"number": document.number}
    return _("Invoice %(number)s") % {"number": document.number}


def _context(document: Document) -> dict[str, object]:
    return {
        "doc": document,
        "credit": document.kind == DocumentKind.credit_note,
        "heading": _heading(document),
        "reference": iso11649.format(document.payment_reference),
        "iban": iban.format(document.seller_iban),
        "seller_ids": identifiers(document.seller),
        "buyer_ids": identifiers(document.buyer),
        "seller_country": _country(document.seller),
        "buyer_country": _country(document.buyer),
    }


def identifiers(party: Party) -> list[tuple[str, str]]:
    """The party's registrations and addresses as (label, value), in the current language:
    OIN or KvK number (its legal ID, else its Peppol address), VAT number, e-mail."""
    _ = i18n.gettext
    labels = {"0190": _("OIN"), "0106": _("KvK number")}
    found: list[tuple[str, str]] = []
    for scheme, value in ((party.legal_id_scheme, party.legal_id), (party.endpoint_scheme, party.endpoint_id)):
        if scheme in labels and value and (labels[scheme], value) not in found:
            found.append((labels[scheme], value))
    if party.vat_number:
        found.append((_("VAT number"), party.vat_number))
    email = party.contact_email or (party.endpoint_id if party.endpoint_scheme == "EM" else "")
    if email:
        found.append((_("E-mail"), email))
    return found


def _country(party: Party) -> str:
    """The country's name when it is not the Netherlands (a Dutch address needs none)."""
    if party.country in ("", "NL"):
        return ""
    return babel_locale(i18n.current_locale()).territories.get(party.country, party.country)
