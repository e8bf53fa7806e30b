"""Funding rounds and pledges. Public in aggregate (round pages, fair-share tables); a pledge's
contact, token and history are private to its pledger and staff."""

from enum import StrEnum
from typing import Any

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.table import Table

from funding.organisations.tables import Organisation
from funding.programme.tables import BudgetPeriod

REQUIRED: dict[str, Any] = {"null": False, "default": None}
OPTIONAL: dict[str, Any] = {"null": True, "default": None}
KEPT: dict[str, Any] = {"on_delete": OnDelete.restrict, "on_update": OnUpdate.restrict}


class RoundModel(StrEnum):
    all_or_nothing = "all_or_nothing"
    """Pledges are conditional until the close; they become due only if the target was met."""
    keep_it_all = "keep_it_all"
    """Every pledge is due at once, whatever the round raises."""


class RoundStatus(StrEnum):
    open = "open"
    succeeded = "succeeded"
    """An all-or-nothing round that met its target at the close: its pledges became due."""
    failed = "failed"
    """An all-or-nothing round that missed its target: its pledges were released."""
    closed = "closed"
    """A keep-it-all round after its close date."""


class PledgeStatus(StrEnum):
    conditional = "conditional"
    due = "due"
    partially_paid = "partially_paid"
    paid = "paid"
    cancelled = "cancelled"
    released = "released"


LIVE_STATUSES = (PledgeStatus.conditional, PledgeStatus.due, PledgeStatus.partially_paid, PledgeStatus.paid)
"""A pledge in one of these holds its organisation's place in the round."""
BOOKED_STATUSES = (PledgeStatus.due, PledgeStatus.partially_paid, PledgeStatus.paid)
"""Only these are in the journal (DESIGN.md: conditional pledges are shown, not booked)."""


class ContributionForm(StrEnum):
    cash = "cash"
    hours = "hours"
    """In kind: hours × an hourly rate."""
    goods = "goods"
    """In kind: goods or services at a stated value."""


class PaymentPreference(StrEnum):
    online = "online"
    invoice = "invoice"
    """An invoice, paid by bank transfer."""


class PledgeSource(StrEnum):
    form = "form"
    staff = "staff"
    """Recorded by staff after a council or board decision."""


class FundingRound(Table):
    id: Serial
    slug = Varchar(length=80, unique=True, **REQUIRED)
    period = ForeignKey(references=BudgetPeriod, index=True, **REQUIRED, **KEPT)
    name = Varchar(length=200, **REQUIRED)
    name_en = Varchar(length=200, **REQUIRED)
    description = Text(**REQUIRED)
    target_cents = BigInt(help_text="Euro cents of cash the round asks for", **REQUIRED)
    opens_on = Date(**REQUIRED)
    closes_on = Date(help_text="The last day pledges are taken", **REQUIRED)
    model = Varchar(length=20, choices=RoundModel, **REQUIRED)
    cost_sharing_key = Text(help_text="funding.pledges.keys.CostSharingKey as JSON", **REQUIRED)
    status = Varchar(length=20, choices=RoundStatus, **REQUIRED)
    decided_at = Timestamptz(**OPTIONAL)


class RoundEvent(Table):
    """A round's transitions, when and why (append-only)."""

    id: Serial
    round = ForeignKey(references=FundingRound, index=True, **REQUIRED, **KEPT)
    at = Timestamptz(**REQUIRED)
    from_status = Varchar(length=20, **REQUIRED)
    to_status = Varchar(length=20, **REQUIRED)
    reason = Text(**REQUIRED)


class Pledge(Table):
    id: Serial
    round = ForeignKey(references=FundingRound, index=True, **REQUIRED, **KEPT)
    organisation = ForeignKey(references=Organisation, index=True, **REQUIRED, **KEPT)
    token = Varchar(length=64, unique=True, help_text="The private page's unguessable key", **REQUIRED)
    reference = Varchar(length=25, unique=True, help_text="ISO 11649 creditor reference (RF…)", **REQUIRED)
    status = Varchar(length=20, choices=PledgeStatus, **REQUIRED)
    form = Varchar(length=10, choices=ContributionForm, **REQUIRED)
    amount_cents = BigInt(help_text="Cash, or the value of what is given in kind", **REQUIRED)
    paid_cents = BigInt(help_text="Received so far", **REQUIRED)
    hours = Integer(**OPTIONAL)
    hourly_rate_cents = BigInt(**OPTIONAL)
    in_kind_description = Text(**REQUIRED)
    budget_line = Varchar(length=60, help_text="In kind: the budget line it helps", **REQUIRED)
    payment_preference = Varchar(length=10, choices=PaymentPreference, **REQUIRED)
    buyer_reference = Varchar(length=100, help_text="Purchase order or buyer reference", **REQUIRED)
    contact_name = Varchar(length=200, **REQUIRED)
    contact_email = Varchar(length=254, **REQUIRED)
    publish_name = Boolean(help_text="The organisation agreed to be named", **REQUIRED)
    locale = Varchar(length=5, help_text="The pledger's language, for the mail we send", **REQUIRED)
    source = Varchar(length=10, choices=PledgeSource, **REQUIRED)
    decision_reference = Varchar(length=200, **REQUIRED)
    decision_date = Date(**OPTIONAL)
    created_at = Timestamptz(**REQUIRED)
    booked_seq = BigInt(help_text="The journal entry that booked it as due, while it stands", **OPTIONAL)
    booking = Integer(help_text="How often it was booked: part of each booking's idempotency key", **REQUIRED)
    billed_cents = BigInt(
        default=0, help_text="What its invoice claims, net of credit notes (0: not invoiced)", null=False
    )


class PledgeCover(Table):
    """The organisations a live pledge covers: its own, and an umbrella pledge's members. Unique
    per round and organisation (migration 0007), so no organisation is asked twice; the rows go
    when the pledge is cancelled or released (`PledgeMember` keeps who an umbrella pledge was for)."""

    id: Serial
    round = ForeignKey(references=FundingRound, **REQUIRED, **KEPT)
    organisation = ForeignKey(references=Organisation, **REQUIRED, **KEPT)
    pledge = ForeignKey(references=Pledge, index=True, **REQUIRED, **KEPT)
    share_cents = BigInt(help_text="equal_split: this organisation's share of the pledge", **REQUIRED)


class PledgeMember(Table):
    """The members an umbrella pledge was made for, as it was made (append-only, migration 0009):
    its page lists them after the pledge ended too, when its `PledgeCover` rows are gone."""

    id: Serial
    pledge = ForeignKey(references=Pledge, index=True, **REQUIRED, **KEPT)
    organisation = ForeignKey(references=Organisation, **REQUIRED, **KEPT)


class PledgeEvent(Table):
    """A pledge's history, kept for its pledger and staff (append-only): never public."""

    id: Serial
    pledge = ForeignKey(references=Pledge, index=True, **REQUIRED, **KEPT)
    at = Timestamptz(**REQUIRED)
    action = Varchar(length=30, **REQUIRED)
    from_status = Varchar(length=20, **REQUIRED)
    to_status = Varchar(length=20, **REQUIRED)
    amount_cents = BigInt(help_text="The amount after the event", **REQUIRED)
    previous_cents = BigInt(help_text="The amount before, where the event changed it", **OPTIONAL)
    note = Text(**REQUIRED)
