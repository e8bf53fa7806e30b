"""The hand-off to the Peppol network, as it is done here: an outbox folder.

A Dutch public buyer receives e-invoices through Peppol: the seller's access point (a service
provider) looks the receiver's participant id up (`0190:<OIN>`, `0106:<KvK>`) and delivers the
UBL to the buyer's access point. No access point can be reached from here, so
`OutboxAccessPoint` writes what one would be handed, the UBL and its envelope (sender, receiver,
document type and process), for a person or a job to upload. A real one implements the same
`AccessPoint.deliver` with its provider's API and answers the provider's message id.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

INVOICE_DOCUMENT_TYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2::Invoice##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
CREDIT_NOTE_DOCUMENT_TYPE = (
    "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2::CreditNote##"
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0::2.1"
)
PROCESS = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"


class OutboxAccessPoint:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def deliver(self, *, number: str, xml: bytes, sender: str, receiver: str, credit_note: bool) -> str:
        """Leave `<number>.xml` and `<number>.json` (the envelope) in the folder; the message id
        is the XML's file name. Delivering again writes the same files."""
        return await asyncio.to_thread(self._write, number, xml, sender, receiver, credit_note)

    def _write(self, number: str, xml: bytes, sender: str, receiver: str, credit_note: bool) -> str:
        self.folder.mkdir(parents=True, exist_ok=True)
        envelope = {
            "sender": f"iso6523-actorid-upis::{sender}",
            "receiver": f"iso6523-actorid-upis::{receiver}",
            "document_type": CREDIT_NOTE_DOCUMENT_TYPE if credit_note else INVOICE_DOCUMENT_TYPE,
            "process": PROCESS,
            "document": f"{number}.xml",
        }
        (self.folder / f"{number}.xml").write_bytes(xml)
        (self.folder / f"{number}.json").write_text(json.dumps(envelope, indent=2) + "\n", encoding="utf-8")
        return f"outbox:{number}.xml"
