"""A pledge's invoices and credit notes, for its pledger: asked for on the pledge's page, read
there as HTML, downloaded as the PDF and the e-invoice (UBL) exactly as they were issued.

The addresses hang under the pledge's private address (its unguessable token), so they are as
private as the pledge page: never cached by others, never indexed.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, PathParameter
from litestar.response import Redirect, Template

from funding.i18n import _, current_locale
from funding.invoicing.render import render_html
from funding.invoicing.service import InvoiceError, InvoiceNotFound, InvoiceService
from funding.payments.service import PaymentService
from funding.pledges.service import PledgeService
from funding.programme.service import ProgrammeService
from funding.public.pledging import PledgePage
from funding.web.documents import stored_file
from funding.web.errors import page_error_responses
from funding.web.security import PRIVATE

DocumentFile = Annotated[
    str,
    PathParameter(
        pattern=r"^[0-9]{4}-[0-9]{4,6}(\.(pdf|xml))?$",
        description="The number (`2026-0001`: the HTML view), or the number with `.pdf` or `.xml`",
    ),
]


class InvoiceController(Controller):
    path = "/pledges/{token:str}"
    tags = ("pledging",)

    @post("/invoice", name="pledge_invoice", status_code=303, responses=page_error_responses(400, 403, 404, 429))
    async def request_invoice(
        self,
        invoices: NamedDependency[InvoiceService],
        payments: NamedDependency[PaymentService],
        programmes: NamedDependency[ProgrammeService],
        programme: NamedDependency[dict | None],
        state: State,
        token: FromPath[str],
    ) -> Response:
        """Ask for an invoice (a due pledge, not invoiced yet): it is issued, mailed, and listed."""
        pledges = invoices.pledges
        try:
            await invoices.issue_by_token(token)
        except InvoiceError as refused:
            page = await PledgePage.of(pledges, payments, programmes, programme, state.settings, token, invoices)
            return page.render(errors={"invoice": str(refused)}, status=400)
        return Redirect(path=f"/pledges/{token}?done=invoiced", status_code=303)

    @get("/invoices/{file:str}", name="pledge_document", responses=page_error_responses(400, 404))
    async def document(
        self,
        invoices: NamedDependency[InvoiceService],
        pledges: NamedDependency[PledgeService],
        programme: NamedDependency[dict | None],
        token: FromPath[str],
        file: DocumentFile,
    ) -> Response:
        """An issued invoice or credit note: as HTML, or its stored PDF or XML, byte for byte."""
        pledge = await pledges.pledge_by_token(token)
        number, _dot, suffix = file.partition(".")
        issued = await invoices.get(number)
        if issued.pledge_id != pledge.id:
            raise InvoiceNotFound(_("There is no invoice with this number."))
        if not suffix:
            return Template(
                "public/invoice.html",
                context={
                    "programme": programme,
                    "pledge": pledge,
                    "issued": issued,
                    "document_html": render_html(issued.document),
                    "entry_seq": await invoices.entry_seq(issued),
                    "locale": current_locale(),
                },
                headers=PRIVATE,
            )
        return await stored_file(invoices, issued, suffix)
