"""Serving an issued invoice's stored files, to its pledger and to staff alike."""

from __future__ import annotations

from litestar import Response

from funding.invoicing.service import InvoiceService, IssuedDocument
from funding.web.security import PRIVATE

FILES = {"pdf": "application/pdf", "xml": "application/xml"}


async def stored_file(invoices: InvoiceService, issued: IssuedDocument, suffix: str) -> Response:
    """The stored bytes; the ETag is their SHA-256, which the document's page also shows."""
    _, data = await invoices.file(issued.number, suffix)
    digest = issued.pdf_sha256 if suffix == "pdf" else issued.xml_sha256
    disposition = "inline" if suffix == "pdf" else "attachment"
    return Response(
        content=data,
        media_type=FILES[suffix],
        headers={
            **PRIVATE,
            "etag": f'"{digest}"',
            "content-disposition": f'{disposition}; filename="{issued.filename(suffix)}"',
        },
    )
