"""The staff JSON API: book journal entries and reversals, open accounts.

Machine clients (bank imports, scripts) authenticate with a bearer token, so browsers' cookies
play no part and CSRF does not apply. `Idempotency-Key` makes a retried request book once.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, Response, get, post
from litestar.di import NamedDependency
from litestar.params import Body, HeaderParameter, KwargDefinition, PathParameter

from funding.invoicing.service import InvoiceService, IssuedDocument
from funding.ledger.chain import EntryRecord
from funding.ledger.service import ACCOUNT_ROOTS, MAX_POSTING, LedgerService, Leg
from funding.money import Money
from funding.staff.guards import require_api_token
from funding.web.documents import stored_file
from funding.web.errors import error_responses

Cents = Annotated[
    int,
    msgspec.Meta(
        ge=-MAX_POSTING.cents, le=MAX_POSTING.cents, description="Euro cents; debit positive, credit negative"
    ),
]
AccountName = Annotated[
    str, msgspec.Meta(min_length=3, max_length=120, pattern=rf"^({'|'.join(ACCOUNT_ROOTS)})(:[a-z0-9-]+)+$")
]
NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text cannot hold the NUL character."""
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=500, pattern=r"^[^\x00]*[^\x00\t\n\r ][^\x00]*$")]
"""Free text: not only blanks, and no NUL."""
CLOSED = {"additionalProperties": False}
"""What `forbid_unknown_fields` does, said in the OpenAPI schema: unknown fields are refused."""


class NewPosting(msgspec.Struct, forbid_unknown_fields=True):
    account: AccountName
    amount: Cents


Postings = Annotated[
    list[Annotated[NewPosting, KwargDefinition(schema_extra=CLOSED)]], msgspec.Meta(min_length=2, max_length=100)
]


class NewEntry(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z][a-z_]*$")]
    description: Text
    occurred_on: date
    postings: Postings
    reference: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] | None = None


class NewReversal(msgspec.Struct, forbid_unknown_fields=True):
    reason: Text
    occurred_on: date | None = None


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    name: AccountName
    label: Annotated[str, msgspec.Meta(max_length=200, pattern=NO_NUL)] = ""


class OpenedAccount(msgspec.Struct):
    name: str


class NewCreditNote(msgspec.Struct, forbid_unknown_fields=True):
    amount: Annotated[int, msgspec.Meta(ge=1, le=MAX_POSTING.cents, description="Euro cents to credit")]
    reason: Text


class IssuedSummary(msgspec.Struct):
    """An issued invoice or credit note; its files are at `/staff/api/v1/invoices/{number}/pdf` and `…/xml`."""

    number: str
    kind: str
    corrects: str | None
    amount: int
    issue_date: date
    due_date: date
    language: str
    buyer: str
    pdf_sha256: str
    xml_sha256: str
    journal_seq: int | None

    @classmethod
    async def of(cls, invoices: InvoiceService, issued: IssuedDocument) -> IssuedSummary:
        return cls(
            number=issued.number,
            kind=issued.kind.value,
            corrects=issued.corrects,
            amount=issued.amount.cents,
            issue_date=issued.issue_date,
            due_date=issued.due_date,
            language=issued.language,
            buyer=issued.document.buyer.name,
            pdf_sha256=issued.pdf_sha256,
            xml_sha256=issued.xml_sha256,
            journal_seq=await invoices.entry_seq(issued),
        )


Reference = Annotated[
    str, PathParameter(pattern=r"^RF[0-9]{2}[0-9A-Za-z]{1,21}$", description="The pledge's payment reference (RF…)")
]
Number = Annotated[str, PathParameter(pattern=r"^[0-9]{4}-[0-9]{4,6}$", description="`2026-0001`")]


KEY_PREFIX = "api:"
"""Keeps this API's idempotency keys apart from those of other bookers (imports, payments)."""
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        # The journal's idempotency_key column holds 200 characters, prefix included.
        name="Idempotency-Key",
        min_length=1,
        max_length=200 - len(KEY_PREFIX),
        pattern=NO_NUL,
        description="Send the same key when retrying: the entry is booked once.",
    ),
]


class StaffApiController(Controller):
    path = "/staff/api/v1"
    tags = ["staff API"]
    guards = [require_api_token]
    security = [{"bearer": []}]

    @post("/journal/entries", name="staff_api_append", responses=error_responses(401, 403, 409))
    async def append(
        self,
        ledger: NamedDependency[LedgerService],
        data: Annotated[NewEntry, Body(schema_extra=CLOSED)],
        idempotency_key: IdempotencyKey = None,
    ) -> EntryRecord:
        """Book one journal entry (postings must sum to zero)."""
        return await ledger.append(
            kind=data.kind,
            description=data.description,
            occurred_on=data.occurred_on,
            reference=data.reference,
            legs=[Leg(p.account, Money(p.amount)) for p in data.postings],
            idempotency_key=f"{KEY_PREFIX}{idempotency_key}" if idempotency_key else None,
        )

    @post(
        "/journal/entries/{seq:int}/reversal", name="staff_api_reverse", responses=error_responses(401, 403, 404, 409)
    )
    async def reverse(
        self,
        ledger: NamedDependency[LedgerService],
        seq: Annotated[int, PathParameter(ge=1, le=2**53)],
        data: Annotated[NewReversal, Body(schema_extra=CLOSED)],
        idempotency_key: IdempotencyKey = None,
    ) -> EntryRecord:
        """Correct an entry by booking its reversal; the original stays as it was. A retry (same
        reason, or the same `Idempotency-Key`) returns the reversal already booked."""
        return await ledger.reverse(
            seq,
            reason=data.reason,
            occurred_on=data.occurred_on,
            idempotency_key=f"{KEY_PREFIX}{idempotency_key}" if idempotency_key else None,
        )

    @post("/pledges/{reference:str}/invoice", name="staff_api_invoice", responses=error_responses(401, 403, 404))
    async def issue_invoice(self, invoices: NamedDependency[InvoiceService], reference: Reference) -> IssuedSummary:
        """Issue the invoice of a due pledge (once: a second request is refused), mail it and
        hand it to the Peppol outbox."""
        pledge = await invoices.pledges.pledge_by_reference(reference)
        return await IssuedSummary.of(invoices, await invoices.issue(pledge.id))

    @post("/invoices/{number:str}/credit-notes", name="staff_api_credit", responses=error_responses(401, 403, 404))
    async def credit(
        self,
        invoices: NamedDependency[InvoiceService],
        number: Number,
        data: Annotated[NewCreditNote, Body(schema_extra=CLOSED)],
    ) -> IssuedSummary:
        """Credit part or all of an invoice (at most what it still asks), with the reason the
        credit note gives."""
        return await IssuedSummary.of(invoices, await invoices.credit(number, Money(data.amount), data.reason))

    @get("/invoices/{number:str}", name="staff_api_invoice_summary", responses=error_responses(401, 403, 404))
    async def invoice(self, invoices: NamedDependency[InvoiceService], number: Number) -> IssuedSummary:
        """An issued document's facts; its stored files are at `…/{number}/pdf` and `…/{number}/xml`."""
        return await IssuedSummary.of(invoices, await invoices.get(number))

    @get(
        "/invoices/{number:str}/{suffix:str}",
        name="staff_api_invoice_file",
        responses=error_responses(401, 403, 404),
        media_type="application/octet-stream",
    )
    async def invoice_file(
        self,
        invoices: NamedDependency[InvoiceService],
        number: Number,
        suffix: Annotated[str, PathParameter(pattern=r"^(pdf|xml)$", description="`pdf` or `xml`")],
    ) -> Response:
        """The stored PDF or UBL, byte for byte as issued."""
        return await stored_file(invoices, await invoices.get(number), suffix)

    @post("/accounts", name="staff_api_open_account", responses=error_responses(401, 403))
    async def open_account(
        self, ledger: NamedDependency[LedgerService], data: Annotated[NewAccount, Body(schema_extra=CLOSED)]
    ) -> OpenedAccount:
        """Open an account (idempotent)."""
        await ledger.open_account(data.name, data.label)
        return OpenedAccount(name=data.name)
