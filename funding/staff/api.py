"""The staff JSON API: book journal entries and reversals, open accounts.

Machine clients (bank imports, scripts) authenticate with a bearer token, so browsers' cookies
play no part and CSRF does not apply. `Idempotency-Key` makes a retried request book once.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec
from litestar import Controller, post
from litestar.di import NamedDependency
from litestar.params import Body, FromPath, HeaderParameter

from funding.ledger.chain import EntryRecord
from funding.ledger.service import MAX_POSTING, Leg, LedgerService
from funding.money import Money
from funding.staff.guards import require_api_token
from funding.web.errors import error_responses

Cents = Annotated[int, msgspec.Meta(ge=-MAX_POSTING.cents, le=MAX_POSTING.cents, description="Euro cents; debit positive, credit negative")]
AccountName = Annotated[str, msgspec.Meta(min_length=3, max_length=120, pattern=r"^[a-z]+(:[a-z0-9-]+)+$")]


class NewPosting(msgspec.Struct, forbid_unknown_fields=True):
    account: AccountName
    amount: Cents


class NewEntry(msgspec.Struct, forbid_unknown_fields=True):
    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z][a-z_]*$")]
    description: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    occurred_on: date
    postings: Annotated[list[NewPosting], msgspec.Meta(min_length=2, max_length=100)]
    reference: Annotated[str, msgspec.Meta(max_length=200)] | None = None


class NewReversal(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    occurred_on: date | None = None


class NewAccount(msgspec.Struct, forbid_unknown_fields=True):
    name: AccountName
    label: Annotated[str, msgspec.Meta(max_length=200)] = ""


class OpenedAccount(msgspec.Struct):
    name: str


IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key", min_length=1, max_length=200,
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
        data: Annotated[NewEntry, Body()],
        idempotency_key: IdempotencyKey = None,
    ) -> EntryRecord:
        """Book one journal entry (postings must sum to zero)."""
        return await ledger.append(
            kind=data.kind,
            description=data.description,
            occurred_on=data.occurred_on,
            reference=data.reference,
            legs=[Leg(p.account, Money(p.amount)) for p in data.postings],
            idempotency_key=f"api:{idempotency_key}" if idempotency_key else None,
        )

    @post("/journal/entries/{seq:int}/reversal", name="staff_api_reverse", responses=error_responses(401, 403, 404))
    async def reverse(
        self,
        ledger: NamedDependency[LedgerService],
        seq: FromPath[int],
        data: Annotated[NewReversal, Body()],
    ) -> EntryRecord:
        """Correct an entry by booking its reversal; the original stays as it was."""
        return await ledger.reverse(seq, reason=data.reason, occurred_on=data.occurred_on or date.today())

    @post("/accounts", name="staff_api_open_account", responses=error_responses(401, 403))
    async def open_account(
        self, ledger: NamedDependency[LedgerService], data: Annotated[NewAccount, Body()]
    ) -> OpenedAccount:
        """Open an account (idempotent)."""
        await ledger.open_account(data.name, data.label)
        return OpenedAccount(name=data.name)
