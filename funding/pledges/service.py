"""Funding rounds and the life of a pledge (DESIGN.md "Pledge life").

Every change to a round's pledges happens in one write transaction holding the round's lock, so
checks ("is this organisation covered already?", "is the round still open?") and the changes
they allow cannot interleave with another pledger's; the unique cover per round and
organisation (migration 0007) says the same in the database. Journal bookings happen in that
same transaction, under idempotency keys derived from the pledge, so a pledge is booked once
whatever is retried. Mail goes out after the commit: a mail server that is down never undoes a
pledge.
"""

from __future__ import annotations

import logging
import re
import secrets
import sqlite3
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

import asyncpg
from stdnum import iso11649
from stdnum.iso7064 import mod_97_10

from funding.db import as_date, as_datetime, fetch, lock_transaction, write_transaction
from funding.i18n import _, format_day
from funding.ledger.chain import EntryRecord
from funding.ledger.service import LedgerService, Leg
from funding.money import Money
from funding.organisations.service import OrganisationService, always_public
from funding.organisations.tables import ALWAYS_PUBLIC, Organisation, OrganisationKind
from funding.pledges.keys import (
    CostSharingKey,
    CostSharingKeyError,
    KeyKind,
    Member,
    equal_shares,
    equal_split_reached,
    share_asker,
    share_history,
    suggested_share,
)
from funding.pledges.tables import (
    BOOKED_STATUSES,
    LIVE_STATUSES,
    ContributionForm,
    FundingRound,
    PaymentPreference,
    Pledge,
    PledgeCover,
    PledgeEvent,
    PledgeMember,
    PledgeSource,
    PledgeStatus,
    RoundEvent,
    RoundModel,
    RoundStatus,
)
from funding.programme.service import ProgrammeService, in_kind_account

if TYPE_CHECKING:
    from funding.pledges.notices import PledgeNotices

log = logging.getLogger(__name__)
PROGRAMME_TIME = ZoneInfo("Europe/Amsterdam")

ROUND_LOCK = 30_000_000
"""Plus the round's id: the PostgreSQL advisory lock that serialises changes to one round."""
RECEIVABLE, CONTRIBUTIONS, IN_KIND_INCOME = "assets:receivable:pledges", "income:contributions", "income:in-kind"
INVOICED = "assets:receivable:invoices"
"""The part of the receivable an invoice claims: issuing one moves the pledge's claim here under
the invoice's number, so the public ledger and the invoice point at each other; payments settle
the invoice first; a credit note moves what it takes back to `RECEIVABLE`."""
REFUNDS = "liabilities:refunds"
"""Money received that no pledge can take (overpaid, cancelled, released): owed back until a person acts."""
INVOICED_LABEL = "Gefactureerde bijdragen"
ANONYMOUS = "anonieme bijdrager"
"""How the public journal names a contributor that is not to be named (it is in Dutch, as the journal is)."""
ASKED_KINDS = tuple(kind.value for kind in ALWAYS_PUBLIC)
"""Who a round asks to contribute: the fair-share table lists every organisation of these kinds,
pledged or not, so each of them is always named (never anonymous: that would name it by
elimination). Other contributors (other public bodies, companies, individuals) are listed only
when they pledge and may be named; the rest are counted together."""
MAX_PLEDGE = Money.euros(1_000_000)
"""The most one pledge may be unless configured (`FUNDING_MAX_PLEDGE`): more is a typo or a call."""
UMBRELLA_KINDS = (OrganisationKind.other_public.value,)
"""Who may pledge for members through the form: associations of municipalities, provinces …"""
FAIR_SHARE_PAGE = 50
"""Organisations on a page of a round's fair-share table (and of the API's, by default)."""
MAX_MEMBERS = 500
MAX_HOURS = 10_000
_SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")
"""What `secrets.token_urlsafe` makes: anything else is no pledge's, and never reaches the database."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class PledgeError(ValueError):
    """A pledge or round that breaks a rule; `field` names the form field it is about, if any."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RoundNotFound(PledgeError):
    pass


class PledgeNotFound(PledgeError):
    pass


class RoundNotOpen(PledgeError):
    pass


class AlreadyCovered(PledgeError):
    """The organisation (or one of an umbrella's members) already has a standing pledge in the
    round; `organisation_ids` are the ones covered. Its link is never in the message."""

    def __init__(self, message: str, organisation_ids: Sequence[int], field: str | None = "organisation") -> None:
        super().__init__(message, field)
        self.organisation_ids = tuple(organisation_ids)


class NotChangeable(PledgeError):
    pass


class NotBillable(PledgeError):
    """A pledge that cannot be invoiced (not due, in kind, paid in part, or invoiced already)."""


class Billing(Protocol):
    """What invoicing does when a pledge's claim changes; the app sets one on the service.

    `credit_note` runs inside the pledge's write transaction, under its round's lock, and answers
    the number of the credit note it issued: the service books it. `became_due` and
    `send_pending` run after the commit (an invoice that fails to render or a mail server that
    is down never undoes a pledge, and no mail goes out for a document that was rolled back)."""

    async def reserve(self) -> None:
        """Take the numbering lock now, inside a pledge's transaction, before the ledger's: every
        path takes the round's lock, then the numbering lock, then the ledger's append lock."""

    async def credit_note(self, pledge: PledgeRecord, amount: Money, reason: str) -> str: ...

    async def became_due(self, pledge: PledgeRecord) -> None: ...

    async def send_pending(self) -> None:
        """Send the credit notes issued by transactions that have committed (inside a
        transaction still open, it waits for the outermost caller to call it again)."""


@dataclass(frozen=True)
class Round:
    id: int
    slug: str
    period_id: int
    name: str
    name_en: str
    description: str
    target: Money
    opens_on: date
    closes_on: date
    model: RoundModel
    key: CostSharingKey
    status: RoundStatus
    decided_at: datetime | None

    def title(self, locale: str) -> str:
        return self.name_en if locale == "en" and self.name_en else self.name

    def accepts_pledges(self, today: date) -> bool:
        return self.status is RoundStatus.open and self.opens_on <= today <= self.closes_on

    @property
    def is_conditional(self) -> bool:
        return self.model is RoundModel.all_or_nothing


@dataclass(frozen=True)
class PledgeEventRecord:
    at: datetime
    action: str
    from_status: str
    to_status: str
    amount: Money
    """The amount after the event."""
    note: str
    """Staff's or the pledger's words (a decision, a reason); for `share_recomputed`, why:
    `joined` or `left` (another organisation joined or left the round)."""
    previous: Money | None = None
    """The amount before, for the events that change it (`amount_changed`, `share_recomputed`)."""


@dataclass(frozen=True)
class PledgeRecord:
    id: int
    round_id: int
    organisation_id: int
    organisation_name: str
    token: str
    reference: str
    status: PledgeStatus
    form: ContributionForm
    amount: Money
    paid: Money
    hours: int | None
    hourly_rate: Money | None
    in_kind_description: str
    budget_line: str
    payment_preference: PaymentPreference
    buyer_reference: str
    contact_name: str
    contact_email: str
    publish_name: bool
    locale: str
    source: PledgeSource
    decision_reference: str
    decision_date: date | None
    created_at: datetime
    booked_seq: int | None
    billed: Money = field(default_factory=Money.zero)
    """What its invoice claims, net of credit notes (zero: not invoiced)."""
    members: tuple[tuple[int, str], ...] = ()
    """An umbrella pledge's members (id, name), not counting the umbrella body itself, as the
    pledge was made: an ended pledge lists them too."""
    history: tuple[PledgeEventRecord, ...] = ()

    @property
    def is_in_kind(self) -> bool:
        return self.form is not ContributionForm.cash

    @property
    def open_amount(self) -> Money:
        return self.amount - self.paid

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def changeable(self) -> bool:
        """The pledger may change or cancel it while nothing is paid."""
        return self.status in (PledgeStatus.conditional, PledgeStatus.due) and not self.paid

    @property
    def invoice_open(self) -> Money:
        """What of its invoice's claim is still open: payments settle the invoice first."""
        return invoice_open(self.billed, self.paid)

    @property
    def formatted_reference(self) -> str:
        return iso11649.format(self.reference)


@dataclass(frozen=True)
class NewPledge:
    """What a pledger (or staff, for a decision) says; checked by `PledgeService.pledge`."""

    organisation_id: int
    contact_name: str
    contact_email: str
    form: ContributionForm = ContributionForm.cash
    amount: Money | None = None
    """Cash, or the value of goods; for hours it is hours × rate."""
    hours: int | None = None
    hourly_rate: Money | None = None
    in_kind_description: str = ""
    budget_line: str = ""
    payment_preference: PaymentPreference = PaymentPreference.invoice
    buyer_reference: str = ""
    publish_name: bool = True
    locale: str = "nl"
    members: tuple[int, ...] = ()
    source: PledgeSource = PledgeSource.form
    decision_reference: str = ""
    decision_date: date | None = None


@dataclass(frozen=True)
class Change:
    """A pledger's new amount: cash or a value, or hours (× the pledge's rate)."""

    amount: Money | None = None
    hours: int | None = None


@dataclass(frozen=True)
class FairShareRow:
    organisation_id: int | None
    """None for the aggregated row of contributors that are not named."""
    name: str
    kind: str
    suggested: Money | None
    """What the key asks; None for the aggregated row: the round does not ask those it counts,
    and a suggestion worked out from their kinds or populations would help tell who they are."""
    pledged: Money
    in_kind: Money
    paid: Money
    status: str
    """A pledge status, `covered` (by an umbrella), `none` (not pledged), or `anonymous`."""
    covered_by: str = ""
    """The umbrella body's name, when its pledge covers this organisation and it may be named."""
    count: int = 1
    """How many contributors the row stands for (more than one only for the anonymous row)."""


@dataclass(frozen=True)
class RoundTotals:
    """A round's cash pledged (conditional and due apart), received, in kind, and how many
    organisations its standing pledges cover (umbrella members included)."""

    round: Round
    pledged_conditional: Money
    pledged_due: Money
    received: Money
    in_kind: Money
    covered_count: int
    pledges: int = 0
    """Standing pledges (cash and in kind)."""

    @property
    def pledged(self) -> Money:
        return self.pledged_conditional + self.pledged_due

    @property
    def percent(self) -> int:
        """Cash pledged as a whole percentage of the target, at most 100 (for the progress bar)."""
        return min(100, self.pledged.cents * 100 // self.round.target.cents)

    @property
    def target_met(self) -> bool:
        if self.round.key.kind is KeyKind.equal_split:
            return equal_split_reached(self.round.key, self.round.target, self.covered_count)
        return self.pledged >= self.round.target


@dataclass(frozen=True)
class RoundSummary(RoundTotals):
    """A round page's totals, how many of those covered are named, and the aggregated row of
    those who are not: grouped queries, whatever the number of pledges."""

    named_count: int = 0
    """Organisations covered (umbrella members included) that the round's pages name."""
    anonymous_count: int = 0
    anonymous: FairShareRow | None = None
    """The fair-share table's aggregated row of those not named, if any are covered."""
    share_history: tuple[tuple[int, Money], ...] = ()
    """equal_split: the share each joiner had when n had joined, for n = 1 … now."""


@dataclass(frozen=True)
class InKindItem:
    """A standing in-kind pledge as the round page lists it."""

    contributor: str
    """The contributor's public name, or `ANONYMOUS`."""
    budget_line: str
    line_name: str
    line_name_en: str
    value: Money

    def line(self, locale: str) -> str:
        return self.line_name_en if locale == "en" else self.line_name

    @property
    def named(self) -> bool:
        return self.contributor != ANONYMOUS


@dataclass(frozen=True)
class FairSharePage:
    """A page of a round's fair-share table: the organisations it lists by name, in order of
    name (then id), after the one whose id is `after` (keyset pagination)."""

    rows: list[FairShareRow]
    after: int | None
    next_after: int | None
    """The last row's organisation id when more rows follow, else None."""
    anonymous: FairShareRow | None
    """The aggregated row of those not named: not in the name order, so on every page."""

    @property
    def ends_table(self) -> bool:
        """The last page of rows (not a page after an id the table does not list)."""
        return self.next_after is None and (bool(self.rows) or self.after is None)


@dataclass(frozen=True)
class RoundView:
    """What a round's page shows of it (`PledgeService.round_view`)."""

    summary: RoundSummary
    page: FairSharePage
    in_kind: list[InKindItem]
    """Empty unless asked for."""


@dataclass(frozen=True)
class KindTotals:
    kind: str
    pledges: int
    pledged: Money
    in_kind: Money
    paid: Money


@dataclass(frozen=True)
class Receipt:
    """What one sum received or paid back did: the part `applied` to the pledge and the part
    `held` on liabilities:refunds, booked as journal entry `seq` (`new`: just now, not before)."""

    pledge: PledgeRecord
    applied: Money
    held: Money
    seq: int
    new: bool


@dataclass
class _Outcome:
    """What a transaction decided, for the mail sent after it commits."""

    released: list[PledgeRecord] = field(default_factory=list)
    due: list[PledgeRecord] = field(default_factory=list)


class PledgeService:
    def __init__(
        self,
        ledger: LedgerService | None = None,
        organisations: OrganisationService | None = None,
        programmes: ProgrammeService | None = None,
        notices: PledgeNotices | None = None,
        *,
        billing: Billing | None = None,
        max_pledge: Money = MAX_PLEDGE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.ledger = ledger or LedgerService()
        self.organisations = organisations or OrganisationService()
        self.programmes = programmes or ProgrammeService(self.ledger)
        self.notices = notices
        self.billing = billing
        self.max_pledge = max_pledge
        self.clock = clock or (lambda: datetime.now(UTC))

    def today(self) -> date:
        """The day in the Netherlands: a round's close date is its last day there."""
        return self.clock().astimezone(PROGRAMME_TIME).date()

    # -- rounds -------------------------------------------------------------------------------
    async def create_round(
        self,
        *,
        slug: str,
        period_id: int,
        name: str,
        target: Money,
        opens_on: date,
        closes_on: date,
        model: RoundModel,
        key: CostSharingKey,
        name_en: str = "",
        description: str = "",
    ) -> Round:
        if not _SLUG.fullmatch(slug):
            raise PledgeError(_("A slug is 1–80 lower-case letters, digits and hyphens."), "slug")
        if not name.strip() or len(name) > 200 or len(name_en) > 200:
            raise PledgeError(_("A round needs a name of at most 200 characters."), "name")
        if target.cents <= 0:
            raise PledgeError(_("A round's target must be more than zero."), "target")
        if closes_on < opens_on:
            raise PledgeError(_("A round cannot close before it opens."), "closes_on")
        try:
            key.validate()
        except CostSharingKeyError as error:
            raise PledgeError(str(error), "key") from error
        if key.kind is KeyKind.equal_split and model is not RoundModel.all_or_nothing:
            raise PledgeError(
                _("An equal split is only known when the round closes: it needs the all-or-nothing model."), "key"
            )
        if await self.programmes.period(period_id) is None:
            raise PledgeError(_("There is no such budget period."), "period")
        for account, label in ((RECEIVABLE, "Toegezegde bijdragen"), (CONTRIBUTIONS, "Bijdragen in geld")):
            await self.ledger.open_account(account, label)
        await self.ledger.open_account(IN_KIND_INCOME, "Bijdragen in natura")
        await self.ledger.open_account(REFUNDS, "Terug te betalen bijdragen")
        await self.ledger.open_account(INVOICED, INVOICED_LABEL)
        async with write_transaction():
            if await FundingRound.exists().where(FundingRound.slug == slug):
                raise PledgeError(_("There is a round with this slug already."), "slug")
            rows = await FundingRound.insert(
                FundingRound(
                    slug=slug,
                    period=period_id,
                    name=name.strip(),
                    name_en=name_en.strip(),
                    description=description.strip(),
                    target_cents=target.cents,
                    opens_on=opens_on,
                    closes_on=closes_on,
                    model=model.value,
                    cost_sharing_key=key.to_json(),
                    status=RoundStatus.open.value,
                    decided_at=None,
                )
            )
            await self._round_event(rows[0]["id"], "", RoundStatus.open, "created")
        return await self.round(slug)

    async def round(self, slug: str) -> Round:
        row = await FundingRound.select().where(FundingRound.slug == slug).first() if _SLUG.fullmatch(slug) else None
        if row is None:
            raise RoundNotFound(_("There is no round %(slug)s.") % {"slug": slug[:80]})
        return _round(row)

    async def round_by_id(self, round_id: int) -> Round:
        row = await FundingRound.select().where(FundingRound.id == round_id).first()
        if row is None:
            raise RoundNotFound(_("There is no round %(slug)s.") % {"slug": round_id})
        return _round(row)

    async def rounds(self) -> list[Round]:
        """Every round, the latest to close first."""
        rows = await FundingRound.select().order_by(FundingRound.closes_on, ascending=False).order_by(FundingRound.id)
        return [_round(row) for row in rows]

    async def round_events(self, round_id: int) -> list[dict]:
        return await RoundEvent.select().where(RoundEvent.round == round_id).order_by(RoundEvent.id)

    # -- pledging -----------------------------------------------------------------------------
    async def pledge(self, slug: str, new: NewPledge) -> PledgeRecord:
        """A new pledge: conditional in an all-or-nothing round, else due (and booked) at once."""
        fund = await self.round(slug)
        new = self._checked(fund, new)
        organisation = await self.organisations.get(new.organisation_id)
        if organisation is None:
            raise PledgeError(_("Choose your organisation from the registry."), "organisation")
        if new.members and new.source is PledgeSource.form and organisation["kind"] not in UMBRELLA_KINDS:
            # Anyone may use the form: covering others is for umbrella bodies (staff record the rest).
            raise PledgeError(_("Only an umbrella body can pledge on behalf of members."), "members")
        members = await self.organisations.get_many(new.members)
        if len(members) != len(set(new.members)):
            raise PledgeError(_("An umbrella pledge can only cover organisations in the registry."), "members")
        if not new.publish_name and any(always_public(o["kind"]) for o in [organisation, *members.values()]):
            # The table lists these by name whatever they do: anonymity would name them by elimination.
            raise PledgeError(
                _(
                    "A public body that the rounds ask to contribute is always named, and so is an umbrella "
                    "pledge for one: their money is public (Wet open overheid)."
                ),
                "publish_name",
            )
        if new.budget_line and new.budget_line not in {
            line["code"] for line in await self.programmes.budget_lines(fund.period_id)
        }:
            raise PledgeError(_("Choose what your contribution in kind is for."), "budget_line")
        now = self.clock()
        try:
            async with write_transaction():
                await lock_transaction(ROUND_LOCK + fund.id)
                fund = await self.round(slug)  # as it is now, under the lock
                if not fund.accepts_pledges(self.today()):
                    raise self._not_open(fund, self.today())
                covered = [new.organisation_id, *new.members]
                taken = await PledgeCover.select(PledgeCover.organisation).where(
                    (PledgeCover.round == fund.id) & PledgeCover.organisation.is_in(covered)
                )
                if taken:
                    raise _already_covered(new.organisation_id, [row["organisation"] for row in taken])
                status = PledgeStatus.conditional if fund.is_conditional else PledgeStatus.due
                amount = new.amount or Money(1)  # equal_split: the share, set just below
                rows = await Pledge.insert(
                    Pledge(
                        round=fund.id,
                        organisation=new.organisation_id,
                        token=secrets.token_urlsafe(32),
                        reference=new_reference(),
                        status=status.value,
                        form=new.form.value,
                        amount_cents=amount.cents,
                        paid_cents=0,
                        hours=new.hours,
                        hourly_rate_cents=new.hourly_rate.cents if new.hourly_rate else None,
                        in_kind_description=new.in_kind_description,
                        budget_line=new.budget_line,
                        payment_preference=new.payment_preference.value,
                        buyer_reference=new.buyer_reference,
                        contact_name=new.contact_name,
                        contact_email=new.contact_email,
                        publish_name=new.publish_name,
                        locale=new.locale,
                        source=new.source.value,
                        decision_reference=new.decision_reference,
                        decision_date=new.decision_date,
                        created_at=now,
                        booked_seq=None,
                        booking=0,
                    )
                )
                pledge_id = rows[0]["id"]
                await PledgeCover.insert(
                    *[PledgeCover(round=fund.id, organisation=org, pledge=pledge_id, share_cents=0) for org in covered]
                )
                if new.members:
                    await PledgeMember.insert(*[PledgeMember(pledge=pledge_id, organisation=m) for m in new.members])
                if fund.key.kind is KeyKind.equal_split:
                    await self._recompute_equal_shares(fund, "joined", joining=pledge_id)
                pledged = await self._pledge(pledge_id)
                action = "recorded" if new.source is PledgeSource.staff else "pledged"
                await self._event(pledged, action, "", status, note=new.decision_reference)
                if status is PledgeStatus.due:
                    pledged = await self._book_due(pledged, fund)
        except (sqlite3.IntegrityError, asyncpg.UniqueViolationError) as refused:
            if "pledge_cover" not in str(refused):
                raise
            # Two pledges for one organisation at once (the lock and the check above make it rare).
            raise _already_covered(new.organisation_id, []) from refused
        pledged = await self.pledge_by_token(pledged.token)
        if self.notices:
            await self.notices.confirmed(pledged, fund)
        if self.billing and pledged.status is PledgeStatus.due:
            await self.billing.became_due(pledged)
        return await self.pledge_by_token(pledged.token)

    def _checked(self, fund: Round, new: NewPledge) -> NewPledge:
        """The pledge's own rules, before anything is read; amounts come out whole."""
        name, email = new.contact_name.strip(), new.contact_email.strip()
        if not name or len(name) > 200:
            raise PledgeError(_("Enter the name of a contact person (at most 200 characters)."), "contact_name")
        if not _EMAIL.fullmatch(email) or len(email) > 254:
            raise PledgeError(_("Enter an e-mail address like name@example.nl."), "contact_email")
        if len(new.buyer_reference) > 100:
            raise PledgeError(_("A purchase-order number is at most 100 characters."), "buyer_reference")
        if len(new.decision_reference) > 200:
            raise PledgeError(_("A decision reference is at most 200 characters."), "decision_reference")
        if len(new.members) > MAX_MEMBERS or new.organisation_id in new.members:
            raise PledgeError(_("An umbrella pledge covers at most 500 other organisations."), "members")
        new = replace(
            new,
            contact_name=name,
            contact_email=email,
            buyer_reference=new.buyer_reference.strip(),
            in_kind_description=new.in_kind_description.strip(),
            locale=new.locale if new.locale in ("nl", "en") else "nl",
            members=tuple(dict.fromkeys(new.members)),
        )
        if fund.key.kind is KeyKind.equal_split:
            if new.form is not ContributionForm.cash:
                raise PledgeError(_("This round shares its target equally: it takes cash pledges only."), "form")
            return replace(new, amount=None, hours=None, hourly_rate=None, budget_line="")
        if new.form is ContributionForm.cash:
            return replace(
                new, amount=self._checked_amount(new.amount, "amount"), hours=None, hourly_rate=None, budget_line=""
            )
        if not new.in_kind_description or len(new.in_kind_description) > 500:
            raise PledgeError(_("Describe what you give in kind (at most 500 characters)."), "in_kind_description")
        if not new.budget_line:
            raise PledgeError(_("Choose what your contribution in kind is for."), "budget_line")
        if new.form is ContributionForm.hours:
            if new.hours is None or not 1 <= new.hours <= MAX_HOURS:
                raise PledgeError(_("Enter a whole number of hours from 1 to 10,000."), "hours")
            rate = self._checked_amount(new.hourly_rate, "hourly_rate")
            return replace(new, hourly_rate=rate, amount=self._checked_amount(rate * new.hours, "hours"))
        return replace(new, amount=self._checked_amount(new.amount, "amount"), hours=None, hourly_rate=None)

    def _checked_amount(self, amount: Money | None, field_name: str) -> Money:
        if amount is None or amount.cents <= 0:
            raise PledgeError(_("Enter an amount of more than € 0."), field_name)
        if amount > self.max_pledge:
            raise PledgeError(
                _("One pledge can be at most %(maximum)s; please contact us for more.")
                % {"maximum": self.max_pledge.format()},
                field_name,
            )
        return amount

    def _not_open(self, fund: Round, today: date) -> RoundNotOpen:
        if fund.status is RoundStatus.open and today < fund.opens_on:
            return RoundNotOpen(_("This round opens on %(day)s.") % {"day": format_day(fund.opens_on)})
        return RoundNotOpen(_("This round is closed: it no longer takes pledges."))

    async def _recompute_equal_shares(self, fund: Round, why: str, *, joining: int | None = None) -> None:
        """Share the target among everyone covered now, earliest joiners taking the odd cents;
        each pledge owes the shares of the organisations it covers. Under the round's lock.

        Every other pledge whose amount this changes gets a `share_recomputed` event (old and new
        amount, and `why`: `joined` or `left`); the `joining` pledge's own first event says its
        amount."""
        covers = await PledgeCover.select().where(PledgeCover.round == fund.id).order_by(PledgeCover.id)
        cap = Money(fund.key.cap_cents) if fund.key.cap_cents is not None else None
        owed: dict[int, int] = {}
        for cover, share in zip(covers, equal_shares(fund.target, len(covers)), strict=True):
            if (
                cap is not None and share > cap
            ):  # nobody owes more than the cap; until enough join, the round falls short
                share = cap
            if cover["share_cents"] != share.cents:
                await PledgeCover.update({PledgeCover.share_cents: share.cents}).where(PledgeCover.id == cover["id"])
            owed[cover["pledge"]] = owed.get(cover["pledge"], 0) + share.cents
        pledges = await Pledge.select(Pledge.id, Pledge.amount_cents, Pledge.status).where(
            Pledge.id.is_in(list(owed) or [0])
        )
        events = []
        for row in pledges:
            if row["amount_cents"] != owed[row["id"]]:
                await Pledge.update({Pledge.amount_cents: owed[row["id"]]}).where(Pledge.id == row["id"])
                if row["id"] != joining:
                    events.append(
                        PledgeEvent(
                            pledge=row["id"],
                            at=self.clock(),
                            action="share_recomputed",
                            from_status=row["status"],
                            to_status=row["status"],
                            amount_cents=owed[row["id"]],
                            previous_cents=row["amount_cents"],
                            note=why,
                        )
                    )
        if events:
            await PledgeEvent.insert(*events)

    # -- the pledger's changes ----------------------------------------------------------------
    async def change(self, token: str, change: Change, *, note: str = "", by_staff: bool = False) -> PledgeRecord:
        """A new amount while nothing is paid; a booked pledge is reversed and booked again. Staff
        may change it after the round closed too (a corrected council decision)."""
        pledge = await self.pledge_by_token(token)
        fund = await self.round_by_id(pledge.round_id)
        if fund.key.kind is KeyKind.equal_split:
            raise NotChangeable(_("In this round the amount is your equal share: it cannot be changed."), "amount")
        if pledge.form is ContributionForm.hours:
            if change.hours is None or not 1 <= change.hours <= MAX_HOURS:
                raise PledgeError(_("Enter a whole number of hours from 1 to 10,000."), "hours")
            assert pledge.hourly_rate is not None
            amount = self._checked_amount(pledge.hourly_rate * change.hours, "hours")
        else:
            amount = self._checked_amount(change.amount, "amount")
        async with write_transaction():
            await lock_transaction(ROUND_LOCK + fund.id)
            pledge = await self._pledge(pledge.id)
            if not pledge.changeable:
                raise NotChangeable(_("This pledge can no longer be changed."))
            if amount == pledge.amount and change.hours == pledge.hours:
                return await self.pledge_by_token(token)
            if not by_staff and not fund.accepts_pledges(self.today()):
                raise NotChangeable(_("The round has closed: please contact us to change this pledge."))
            rebill = bool(pledge.billed)
            if rebill:
                await self._credit(pledge, fund, pledge.billed, "bedrag gewijzigd")
            if pledge.booked_seq is not None:
                await self._unbook(pledge, "bedrag gewijzigd")
            await Pledge.update({Pledge.amount_cents: amount.cents, Pledge.hours: change.hours}).where(
                Pledge.id == pledge.id
            )
            changed = await self._pledge(pledge.id)
            await self._event(
                changed, "amount_changed", pledge.status, pledge.status, note=note, previous=pledge.amount
            )
            if pledge.booked_seq is not None:
                await self._book_due(changed, fund)
        changed = await self.pledge_by_token(token)
        await self.send_pending()
        if self.billing and rebill:
            await self.billing.became_due(changed)
        return await self.pledge_by_token(token)

    async def cancel(self, token: str, *, reason: str, by_staff: bool = False) -> PledgeRecord:
        """Withdraw a pledge while nothing is paid; a booked one is reversed in the journal."""
        reason = reason.strip()[:500]
        pledge = await self.pledge_by_token(token)
        fund = await self.round_by_id(pledge.round_id)
        async with write_transaction():
            await lock_transaction(ROUND_LOCK + fund.id)
            pledge = await self._pledge(pledge.id)
            if pledge.status is PledgeStatus.cancelled:
                return await self.pledge_by_token(token)
            if not pledge.changeable and not (by_staff and pledge.is_live and not pledge.paid):
                raise NotChangeable(_("This pledge can no longer be cancelled."))
            if not by_staff and not fund.accepts_pledges(self.today()):
                raise NotChangeable(_("The round has closed: please contact us to change this pledge."))
            if pledge.billed:
                await self._credit(pledge, fund, pledge.billed, reason or "toezegging ingetrokken")
            if pledge.booked_seq is not None:
                await self._unbook(pledge, "toezegging ingetrokken")
            await self._end(pledge, PledgeStatus.cancelled, "cancelled", reason)
            if fund.key.kind is KeyKind.equal_split and fund.status is RoundStatus.open:
                await self._recompute_equal_shares(fund, "left")
        await self.send_pending()
        return await self.pledge_by_token(token)

    async def resend_link(self, slug: str, organisation_id: int) -> bool:
        """Mail the standing pledge's link to the contact on record (never to who asks)."""
        fund = await self.round(slug)
        cover = (
            await PledgeCover.select(PledgeCover.pledge)
            .where((PledgeCover.round == fund.id) & (PledgeCover.organisation == organisation_id))
            .first()
        )
        if cover is None:
            return False
        pledge = await self._pledge(cover["pledge"])
        if self.notices:
            await self.notices.again(await self.pledge_by_token(pledge.token), fund)
        return True

    # -- deciding rounds ----------------------------------------------------------------------
    async def close_round(self, slug: str, *, reason: str) -> Round:
        """Decide a round now: an all-or-nothing round that met its target turns its conditional
        pledges due (booked), one that missed releases them and tells their pledgers; a
        keep-it-all round just stops taking pledges. A decided round stays as it was."""
        fund = await self.round(slug)
        outcome = _Outcome()
        now = self.clock()
        async with write_transaction():
            await lock_transaction(ROUND_LOCK + fund.id)
            fund = await self.round(slug)
            if fund.status is not RoundStatus.open:
                return fund
            if not fund.is_conditional:
                decided = RoundStatus.closed
            else:
                summary = await self.summary(fund.slug)
                decided = RoundStatus.succeeded if summary.target_met else RoundStatus.failed
            await FundingRound.update({FundingRound.status: decided.value, FundingRound.decided_at: now}).where(
                FundingRound.id == fund.id
            )
            await self._round_event(fund.id, fund.status, decided, reason)
            fund = await self.round(slug)
            conditional = await Pledge.select(Pledge.id).where(
                (Pledge.round == fund.id) & (Pledge.status == PledgeStatus.conditional.value)
            )
            for row in conditional:
                pledge = await self._pledge(row["id"])
                if decided is RoundStatus.succeeded:
                    await Pledge.update({Pledge.status: PledgeStatus.due.value}).where(Pledge.id == pledge.id)
                    await self._event(pledge, "became_due", pledge.status, PledgeStatus.due, note=reason)
                    await self._book_due(replace(pledge, status=PledgeStatus.due), fund)
                    outcome.due.append(pledge)
                else:
                    await self._end(pledge, PledgeStatus.released, "released", reason)
                    outcome.released.append(pledge)
        if self.notices:
            for pledge in outcome.released:
                await self.notices.released(await self.pledge_by_token(pledge.token), fund)
        if self.billing:
            for pledge in outcome.due:
                await self.billing.became_due(await self.pledge_by_token(pledge.token))
        return fund

    async def close_due_rounds(self) -> list[Round]:
        """Decide every open round whose close date has passed (`funding rounds close`)."""
        today = self.today()
        due = [fund for fund in await self.rounds() if fund.status is RoundStatus.open and fund.closes_on < today]
        return [await self.close_round(fund.slug, reason="close date passed") for fund in due]

    # -- money received -----------------------------------------------------------------------
    async def receive(
        self,
        pledge_id: int,
        amount: Money,
        *,
        occurred_on: date,
        kind: str,
        account: str,
        reference: str | None,
        idempotency_key: str,
        what: str = "Bijdrage ontvangen",
    ) -> Receipt:
        """Money received for a pledge (a bank transfer, a Mollie payment), booked once under
        `idempotency_key`. What the pledge still owes is applied to it (`Cr receivable`); the
        rest is never dropped: an overpayment, or money for a pledge that is cancelled,
        released or not yet due, is held on `liabilities:refunds` until a person refunds or
        reassigns it. The pledge becomes partially paid or paid from the sum applied."""
        if amount.cents <= 0:
            raise PledgeError(_("Enter an amount of more than € 0."), "amount")
        async with write_transaction():
            pledge = await self._locked(pledge_id)
            if booked := await self.ledger.booked(idempotency_key):
                return _receipt(pledge, booked, new=False)
            takes = pledge.status in BOOKED_STATUSES and not pledge.is_in_kind
            applied = min(amount, max(pledge.open_amount, Money.zero())) if takes else Money.zero()
            held = amount - applied
            if held:
                what += ", te verrekenen of terug te betalen" if not applied else ", deels terug te betalen"
            settled = pledge.invoice_open - invoice_open(pledge.billed, pledge.paid + applied)
            entry = await self.ledger.append(
                kind=kind,
                description=f"{what}: {await self._public_name(pledge)}",
                occurred_on=occurred_on,
                legs=_nonzero(
                    Leg(account, amount),
                    Leg(INVOICED, -settled),
                    Leg(RECEIVABLE, settled - applied),
                    Leg(REFUNDS, -held),
                ),
                reference=reference,
                idempotency_key=idempotency_key,
            )
            if applied:
                pledge = await self._paid(pledge, pledge.paid + applied, "payment_received", applied, entry.seq)
            if held:
                await self._event(
                    pledge, "payment_held", pledge.status, pledge.status, amount=held, note=f"#{entry.seq}"
                )
            return _receipt(pledge, entry, new=True)

    async def repay(
        self,
        pledge_id: int,
        amount: Money,
        *,
        held: Money,
        occurred_on: date,
        kind: str,
        account: str,
        reference: str | None,
        idempotency_key: str,
        what: str,
        corrects: bool = False,
    ) -> Receipt:
        """Money going back out (a refund, a chargeback), booked once: first from what
        `liabilities:refunds` holds for it (`held`, which the caller knows), then from what was
        applied to the pledge, which then owes that part again. Anything beyond both (a card
        payment refunded more than it paid) is owed to us on `liabilities:refunds`.

        A chargeback reopens what it takes back (the invoice asks for it again). A refund we
        made (`corrects`) of money an invoice was paid with corrects that invoice: a credit note
        takes that part off the invoice and off the pledge, which then owes nothing more for it."""
        if amount.cents <= 0 or held.cents < 0 or held > amount:
            raise PledgeError(_("Enter an amount of more than € 0."), "amount")
        async with write_transaction():
            pledge = await self._locked(pledge_id)
            if booked := await self.ledger.booked(idempotency_key):
                return _receipt(pledge, booked, new=False)
            billing = self.billing if corrects and pledge.billed else None
            if billing:
                await billing.reserve()
            applied = min(amount - held, pledge.paid)
            reopened = invoice_open(pledge.billed, pledge.paid - applied) - pledge.invoice_open
            entry = await self.ledger.append(
                kind=kind,
                description=f"{what}: {await self._public_name(pledge)}",
                occurred_on=occurred_on,
                legs=_nonzero(
                    Leg(INVOICED, reopened),
                    Leg(RECEIVABLE, applied - reopened),
                    Leg(REFUNDS, amount - applied),
                    Leg(account, -amount),
                ),
                reference=reference,
                idempotency_key=idempotency_key,
            )
            if applied:
                pledge = await self._paid(pledge, pledge.paid - applied, "payment_returned", applied, entry.seq)
            if reopened and billing:
                await self._lower(pledge, await self.round_by_id(pledge.round_id), reopened, "terugbetaald")
        await self.send_pending()
        return _receipt(pledge, entry, new=True)

    # -- invoices -----------------------------------------------------------------------------
    async def bill(self, pledge_id: int, issue: Callable[[PledgeRecord, Round], Awaitable[str]]) -> PledgeRecord:
        """Invoice a due pledge that nothing has been paid on yet: `issue` makes the invoice under
        the round's lock and answers its number; the journal then moves the pledge's claim to
        `INVOICED` under that number, in the same transaction (a failure leaves neither)."""
        async with write_transaction():
            pledge = await self._locked(pledge_id)
            if pledge.is_in_kind:
                raise NotBillable(_("A contribution in kind is not invoiced."))
            if pledge.billed:
                raise NotBillable(_("This pledge has been invoiced already."))
            if pledge.status is not PledgeStatus.due:
                raise NotBillable(_("Only a pledge that is due, with nothing paid yet, can be invoiced."))
            fund = await self.round_by_id(pledge.round_id)
            number = await issue(pledge, fund)
            await self.ledger.open_account(INVOICED, INVOICED_LABEL)
            await self.ledger.append(
                kind="invoice",
                description=f"Gefactureerd met factuur {number} ({fund.name}): {await self._public_name(pledge)}",
                occurred_on=self.today(),
                legs=[Leg(INVOICED, pledge.amount), Leg(RECEIVABLE, -pledge.amount)],
                reference=number,
                idempotency_key=billing_key("invoice", number),
            )
            await Pledge.update({Pledge.billed_cents: pledge.amount.cents}).where(Pledge.id == pledge.id)
            await self._event(pledge, "invoiced", pledge.status, pledge.status, note=number)
        return await self.pledge_by_token(pledge.token)

    async def credit(self, pledge_id: int, amount: Money, reason: str) -> PledgeRecord:
        """Staff correct an invoice: a credit note takes `amount` off it and off the pledge (which
        is booked again for what is left). All of it is a cancellation: cancel the pledge."""
        async with write_transaction():
            pledge = await self._locked(pledge_id)
            if pledge.billed and pledge.invoice_open >= amount >= pledge.amount:
                raise NotBillable(
                    _("A credit note for all of the invoice withdraws the pledge: cancel it instead."), "amount"
                )
            await self._lower(pledge, await self.round_by_id(pledge.round_id), amount, reason)
        await self.send_pending()
        return await self.pledge_by_token(pledge.token)

    async def send_pending(self) -> None:
        """Send the credit notes committed transactions issued (see `Billing.send_pending`)."""
        if self.billing:
            await self.billing.send_pending()

    async def _lower(self, pledge: PledgeRecord, fund: Round, amount: Money, reason: str) -> None:
        """A credit note for `amount`, and the pledge lowered by it: its booking is reversed and
        booked again for what is left, as an amount change is (all of it: the pledge ends)."""
        await self._credit(pledge, fund, amount, reason)
        credited = await self._pledge(pledge.id)
        if credited.booked_seq is not None:
            await self._unbook(credited, "gecrediteerd")
        lowered = credited.amount - amount
        if not lowered:  # all of it paid back: the pledge is withdrawn
            await self._end(credited, PledgeStatus.cancelled, "cancelled", reason)
            return
        status = credited.status
        if status in (PledgeStatus.due, PledgeStatus.partially_paid) and credited.paid >= lowered:
            status = PledgeStatus.paid
        await Pledge.update({Pledge.amount_cents: lowered.cents, Pledge.status: status.value}).where(
            Pledge.id == pledge.id
        )
        changed = await self._pledge(pledge.id)
        await self._event(changed, "amount_changed", credited.status, status, note=reason, previous=credited.amount)
        if credited.booked_seq is not None:
            await self._book_due(changed, fund)

    async def _credit(self, pledge: PledgeRecord, fund: Round, amount: Money, reason: str) -> None:
        """Inside the pledge's locked transaction: the billing issues a credit note for `amount`,
        booked back from `INVOICED` to `RECEIVABLE` under its number."""
        if self.billing is None:
            raise NotBillable(_("Invoicing is not set up here."))
        if amount.cents <= 0 or amount > pledge.invoice_open:
            raise NotBillable(_("A credit note can take back at most what the invoice still asks."), "amount")
        number = await self.billing.credit_note(pledge, amount, reason)
        await self.ledger.append(
            kind="credit_note",
            description=f"Gecrediteerd met creditnota {number} ({fund.name}): {await self._public_name(pledge)}",
            occurred_on=self.today(),
            legs=[Leg(RECEIVABLE, amount), Leg(INVOICED, -amount)],
            reference=number,
            idempotency_key=billing_key("credit_note", number),
        )
        await Pledge.update({Pledge.billed_cents: (pledge.billed - amount).cents}).where(Pledge.id == pledge.id)
        await self._event(pledge, "credited", pledge.status, pledge.status, amount=amount, note=number)

    async def _locked(self, pledge_id: int) -> PledgeRecord:
        """The pledge, read again once its round's lock is held (call inside a write transaction)."""
        pledge = await self._pledge(pledge_id)
        await lock_transaction(ROUND_LOCK + pledge.round_id)
        return await self._pledge(pledge_id)

    async def _paid(self, pledge: PledgeRecord, paid: Money, action: str, amount: Money, seq: int) -> PledgeRecord:
        """Set what the pledge has received; a booked pledge's status follows from it."""
        status = pledge.status
        if status in BOOKED_STATUSES:
            status = PledgeStatus.paid if paid >= pledge.amount else PledgeStatus.partially_paid
            if not paid:
                status = PledgeStatus.due
        await Pledge.update({Pledge.paid_cents: paid.cents, Pledge.status: status.value}).where(Pledge.id == pledge.id)
        await self._event(pledge, action, pledge.status, status, amount=amount, note=f"#{seq}")
        return replace(pledge, paid=paid, status=status)

    # -- reading ------------------------------------------------------------------------------
    async def pledge_by_token(self, token: str) -> PledgeRecord:
        row = await Pledge.select().where(Pledge.token == token).first() if _TOKEN.fullmatch(token) else None
        if row is None:
            raise PledgeNotFound(_("There is no pledge at this address."))
        pledge = _pledge(row, await self._names([row["organisation"]]))
        # As made (an ended pledge's covers are gone, its members stay).
        rows = (
            await PledgeMember.select(PledgeMember.organisation)
            .where(PledgeMember.pledge == pledge.id)
            .order_by(PledgeMember.id)
        )
        member_ids = [row["organisation"] for row in rows]
        names = await self._names(member_ids)
        events = await PledgeEvent.select().where(PledgeEvent.pledge == pledge.id).order_by(PledgeEvent.id)
        return replace(
            pledge,
            members=tuple((org, names[org]) for org in member_ids),
            history=tuple(
                PledgeEventRecord(
                    at=as_datetime(e["at"]),
                    action=e["action"],
                    from_status=e["from_status"],
                    to_status=e["to_status"],
                    amount=Money(e["amount_cents"]),
                    note=e["note"],
                    previous=Money(e["previous_cents"]) if e["previous_cents"] is not None else None,
                )
                for e in events
            ),
        )

    async def pledge_by_id(self, pledge_id: int) -> PledgeRecord:
        """The pledge with its members and history, for staff (who know it by its number)."""
        row = await Pledge.select(Pledge.token).where(Pledge.id == pledge_id).first()
        if row is None:
            raise PledgeNotFound(_("There is no pledge with this number."))
        return await self.pledge_by_token(row["token"])

    async def remind(self, pledge_id: int) -> PledgeRecord:
        """Mail the pledger a reminder of what is still open (a booked cash pledge only)."""
        pledge = await self.pledge_by_id(pledge_id)
        if pledge.status not in BOOKED_STATUSES or pledge.is_in_kind or not pledge.open_amount:
            raise NotChangeable(_("Only a pledge that is due and still owes money gets a reminder."))
        if self.notices:
            await self.notices.reminder(pledge, await self.round_by_id(pledge.round_id))
        return pledge

    async def pledge_by_reference(self, reference: str) -> PledgeRecord:
        """The pledge whose payment reference is `reference` (`RF…`, spaces and case as typed)."""
        compact = iso11649.compact(reference)
        row = await Pledge.select(Pledge.token).where(Pledge.reference == compact).first()
        if row is None:
            raise PledgeNotFound(_("There is no pledge with this reference."))
        return await self.pledge_by_token(row["token"])

    async def pledges(self, round_id: int) -> list[PledgeRecord]:
        rows = await Pledge.select().where(Pledge.round == round_id).order_by(Pledge.id)
        names = await self._names(row["organisation"] for row in rows)
        return [_pledge(row, names) for row in rows]

    async def figures(self, slug: str | None = None) -> list[RoundTotals]:
        """Every round's totals (or the one round's), the latest to close first: one query of
        grouped sums, however many rounds and pledges there are."""
        return [_totals(row) for row in await self._figures(slug, _COVER_COUNTS)]

    async def summary(self, slug: str) -> RoundSummary:
        """A round's totals, how many it covers named and not named, and the aggregated row of
        those not named: one query of grouped sums, however many pledges there are."""
        [row] = await self._figures(slug, _COVER_NAMES)
        return _summary(row)

    async def in_kind_items(self, fund: Round) -> list[InKindItem]:
        """The round's standing in-kind pledges, with their contributors' public names and their
        budget lines' names: one query, bounded by the in-kind pledges."""
        return [_in_kind_item(row) for row in await Pledge.raw(_IN_KIND.replace("<FUND>", "{}"), fund.id)]

    async def _figures(self, slug: str | None, covers: str) -> Sequence[Mapping[str, Any]]:
        if slug is None:
            query = _FIGURES.replace("<ROUND>", "").replace("<COVERS>", covers.replace("<ROUND>", ""))
            return await fetch(query.replace("<WHERE>", ""))
        query = _one_round(covers)
        rows = await fetch(query, *[_slug(slug)] * query.count("{}"))
        if not rows:
            raise RoundNotFound(_("There is no round %(slug)s.") % {"slug": slug[:80]})
        return rows

    async def round_view(
        self, slug: str, *, after: int | None = None, limit: int = FAIR_SHARE_PAGE, in_kind: bool = False
    ) -> RoundView:
        """`summary`, the page `fair_share_page` would give with it, and (`in_kind`) what
        `in_kind_items` would: one query."""
        summary_query = _one_round(_COVER_NAMES)
        page = _PAGE.replace("<AFTER>", "" if after is None else _AFTER).replace("<FUND>", _FUND_BY_SLUG)
        items = _IN_KIND.replace("<FUND>", _FUND_BY_SLUG) if in_kind else _NO_IN_KIND
        query = _ROUND_VIEW.replace("<SUMMARY>", summary_query).replace("<PAGE>", page).replace("<IN_KIND>", items)
        args: list = [_slug(slug)] * summary_query.count("{}")
        args += [slug, slug, after, limit + 1] if after is not None else [slug, limit + 1]
        args += [slug] if in_kind else []
        rows = await fetch(query, *args)
        if not rows:
            raise RoundNotFound(_("There is no round %(slug)s.") % {"slug": slug[:80]})
        summary = _summary(rows[0])
        listed = [row for row in rows if row["part"] == 0]
        return RoundView(
            summary=summary,
            page=_page(summary, listed, after=after, limit=limit),
            in_kind=[_in_kind_item(row) for row in rows if row["part"] == 1],
        )

    async def fair_share_page(
        self, summary: RoundSummary, *, after: int | None = None, limit: int = FAIR_SHARE_PAGE
    ) -> FairSharePage:
        """One page of the round's fair-share table (`summary` is the round's, for the number
        joined and the aggregated row): one query, whatever the size of the registry."""
        fund = summary.round
        if after is None:
            rows = await Organisation.raw(_PAGE.replace("<AFTER>", "").replace("<FUND>", "{}"), fund.id, limit + 1)
        else:
            page = _PAGE.replace("<AFTER>", _AFTER).replace("<FUND>", "{}")
            rows = await Organisation.raw(page, fund.id, fund.id, after, limit + 1)
        return _page(summary, rows, after=after, limit=limit)

    async def fair_share(self, slug: str) -> list[FairShareRow]:
        """The whole table, page by page: the named organisations by name, then the aggregated
        row of those not named, if any (for tests and scripts; pages and the API take a page)."""
        summary = await self.summary(slug)
        rows: list[FairShareRow] = []
        after = None
        while True:
            page = await self.fair_share_page(summary, after=after, limit=500)
            rows += page.rows
            if page.next_after is None:
                break
            after = page.next_after
        return [*rows, summary.anonymous] if summary.anonymous else rows

    async def suggested(self, fund: Round, organisation: dict) -> Money:
        """What the round's key asks of `organisation` now (equal_split: its share if it joins)."""
        joined = await PledgeCover.count().where(PledgeCover.round == fund.id)
        cover = (
            await PledgeCover.select(PledgeCover.share_cents)
            .where((PledgeCover.round == fund.id) & (PledgeCover.organisation == organisation["id"]))
            .first()
        )
        if cover is not None and fund.key.kind is KeyKind.equal_split:
            return Money(cover["share_cents"])
        return suggested_share(fund.key, _member(organisation), target=fund.target, joined=joined)

    async def totals_by_kind(self, slug: str | None = None) -> list[KindTotals]:
        """Pledged, in kind and paid per organisation kind, of one round or all of them."""
        query = Pledge.select(Pledge.organisation, Pledge.form, Pledge.amount_cents, Pledge.paid_cents).where(
            Pledge.status.is_in([s.value for s in LIVE_STATUSES])
        )
        if slug is not None:
            query = query.where(Pledge.round == (await self.round(slug)).id)
        rows = await query
        organisations = await self.organisations.get_many(row["organisation"] for row in rows)
        sums: dict[str, list[int]] = {}
        for row in rows:
            found = sums.setdefault(organisations[row["organisation"]]["kind"], [0, 0, 0, 0])
            found[0] += 1
            found[1 if row["form"] == ContributionForm.cash.value else 2] += row["amount_cents"]
            found[3] += row["paid_cents"]
        return [
            KindTotals(kind, n, Money(cash), Money(in_kind), Money(paid))
            for kind, (n, cash, in_kind, paid) in sorted(sums.items())
        ]

    # -- inside a transaction -----------------------------------------------------------------
    async def _pledge(self, pledge_id: int) -> PledgeRecord:
        row = await Pledge.select().where(Pledge.id == pledge_id).first()
        if row is None:
            raise PledgeNotFound(_("There is no pledge at this address."))
        return _pledge(row, await self._names([row["organisation"]]))

    async def _names(self, ids: Iterable[int]) -> dict[int, str]:
        return {org_id: org["name"] for org_id, org in (await self.organisations.get_many(ids)).items()}

    async def _public_name(self, pledge: PledgeRecord) -> str:
        organisation = await self.organisations.get(pledge.organisation_id)
        assert organisation is not None
        return public_name(organisation, pledge.publish_name)

    async def _book_due(self, pledge: PledgeRecord, fund: Round) -> PledgeRecord:
        """Book a pledge that became due; its key holds how often it was booked, so a retry
        finds the same entry and an amount change books anew."""
        name = await self._public_name(pledge)
        if pledge.is_in_kind:
            legs = [Leg(in_kind_account(pledge.budget_line), pledge.amount), Leg(IN_KIND_INCOME, -pledge.amount)]
            description = f"Bijdrage in natura toegezegd ({fund.name}, {pledge.budget_line}): {name}"
        else:
            legs = [Leg(RECEIVABLE, pledge.amount), Leg(CONTRIBUTIONS, -pledge.amount)]
            description = f"Bijdrage toegezegd ({fund.name}): {name}"
        booking = await Pledge.select(Pledge.booking).where(Pledge.id == pledge.id).first()
        assert booking is not None
        entry = await self.ledger.append(
            kind="pledge_due",
            description=description,
            occurred_on=min(self.today(), fund.closes_on) if fund.is_conditional else self.today(),
            legs=legs,
            reference=pledge.reference,
            idempotency_key=f"pledge:{pledge.id}:due:{booking['booking'] + 1}",
        )
        await Pledge.update({Pledge.booked_seq: entry.seq, Pledge.booking: booking["booking"] + 1}).where(
            Pledge.id == pledge.id
        )
        return replace(pledge, booked_seq=entry.seq)

    async def _unbook(self, pledge: PledgeRecord, why: str) -> None:
        """Reverse the pledge's booking; the reason is public, so it is ours, not the pledger's."""
        assert pledge.booked_seq is not None
        await self.ledger.reverse(
            pledge.booked_seq,
            reason=f"{why} ({pledge.reference})",
            occurred_on=self.today(),
            idempotency_key=f"pledge:{pledge.id}:reversal:{pledge.booked_seq}",
        )
        await Pledge.update({Pledge.booked_seq: None}).where(Pledge.id == pledge.id)

    async def _end(self, pledge: PledgeRecord, status: PledgeStatus, action: str, note: str) -> None:
        """Cancelled or released: the pledge frees the organisations it covered."""
        await Pledge.update({Pledge.status: status.value}).where(Pledge.id == pledge.id)
        await PledgeCover.delete().where(PledgeCover.pledge == pledge.id)
        await self._event(pledge, action, pledge.status, status, note=note)

    async def _event(
        self,
        pledge: PledgeRecord,
        action: str,
        from_status: str,
        to_status: str,
        *,
        amount: Money | None = None,
        note: str = "",
        previous: Money | None = None,
    ) -> None:
        current = await Pledge.select(Pledge.amount_cents).where(Pledge.id == pledge.id).first()
        assert current is not None
        await PledgeEvent.insert(
            PledgeEvent(
                pledge=pledge.id,
                at=self.clock(),
                action=action,
                from_status=str(from_status),
                to_status=str(to_status),
                amount_cents=amount.cents if amount is not None else current["amount_cents"],
                previous_cents=previous.cents if previous is not None else None,
                note=note,
            )
        )

    async def _round_event(self, round_id: int, from_status: str, to_status: str, reason: str) -> None:
        await RoundEvent.insert(
            RoundEvent(
                round=round_id, at=self.clock(), from_status=str(from_status), to_status=str(to_status), reason=reason
            )
        )


_ZERO = Money.zero()
_ASKED_SQL = "(" + ", ".join(f"'{kind}'" for kind in ASKED_KINDS) + ")"
_LIVE_SQL = "(" + ", ".join(f"'{status.value}'" for status in LIVE_STATUSES) + ")"


def _named_sql(o: str, p: str) -> str:
    """`is_named` in SQL, for organisation `o` covered by pledge `p`."""
    return f"({o}.kind IN {_ASKED_SQL} OR ({o}.is_public AND {p}.publish_name AND {o}.kind <> 'individual'))"


def _listed_sql(o: str, c: str, p: str) -> str:
    """Whether the fair-share table lists `o` by name: asked, or covered (`c`) and named."""
    return f"({o}.kind IN {_ASKED_SQL} OR ({c}.id IS NOT NULL AND {_named_sql(o, p)}))"


_FIGURES = f"""
SELECT r.*,
  coalesce(s.conditional, 0) AS sum_conditional, coalesce(s.due, 0) AS sum_due,
  coalesce(s.received, 0) AS sum_received, coalesce(s.in_kind, 0) AS sum_in_kind,
  coalesce(s.pledges, 0) AS pledge_count, c.*
FROM funding_round r
LEFT JOIN (
  SELECT round,
    sum(CASE WHEN form = 'cash' AND status = 'conditional' THEN amount_cents ELSE 0 END) AS conditional,
    sum(CASE WHEN form = 'cash' AND status <> 'conditional' THEN amount_cents ELSE 0 END) AS due,
    sum(CASE WHEN form = 'cash' THEN paid_cents ELSE 0 END) AS received,
    sum(CASE WHEN form <> 'cash' THEN amount_cents ELSE 0 END) AS in_kind,
    count(*) AS pledges
  FROM pledge WHERE status IN {_LIVE_SQL} <ROUND> GROUP BY round
) s ON s.round = r.id
LEFT JOIN (<COVERS>) c ON c.cover_round = r.id
<WHERE>
ORDER BY r.closes_on DESC, r.id
"""
"""Rounds with their totals (`<ROUND>` narrows the sums to one round, `<WHERE>` the rounds, and
`<COVERS>` is what is counted of the covers): standing cash pledges conditional and due apart,
cash received, value in kind, pledges."""
_FUND_BY_SLUG = "(SELECT id FROM funding_round WHERE slug = {})"
_ONE_ROUND = f"AND round = {_FUND_BY_SLUG}"
_ONE_COVER = f"WHERE c.round = {_FUND_BY_SLUG}"

_COVER_COUNTS = "SELECT c.round AS cover_round, count(*) AS covered_count FROM pledge_cover c <ROUND> GROUP BY c.round"
"""How many organisations each round's standing pledges cover (lists of rounds)."""

_HIDDEN_SQL = f"(o.kind NOT IN {_ASKED_SQL} AND NOT ({_named_sql('o', 'p')}))"

_COVER_NAMES = f"""
SELECT n.cover_round, n.covered_count, n.covered_count - coalesce(h.hidden, 0) AS named_count,
  coalesce(h.hidden, 0) AS hidden_count, h.hidden_pledged, h.hidden_in_kind, h.hidden_paid
FROM (SELECT c.round AS cover_round, count(*) AS covered_count FROM pledge_cover c <ROUND> GROUP BY c.round) n
LEFT JOIN (
  SELECT c.round, count(*) AS hidden,
    sum(CASE WHEN p.organisation = o.id AND p.form = 'cash' THEN p.amount_cents ELSE 0 END) AS hidden_pledged,
    sum(CASE WHEN p.organisation = o.id AND p.form <> 'cash' THEN p.amount_cents ELSE 0 END) AS hidden_in_kind,
    sum(CASE WHEN p.organisation = o.id THEN p.paid_cents ELSE 0 END) AS hidden_paid
  FROM organisation o JOIN pledge_cover c ON c.organisation = o.id JOIN pledge p ON p.id = c.pledge
  <ROUND> AND {_HIDDEN_SQL}
  GROUP BY c.round
) h ON h.round = n.cover_round
"""
"""A round's covers, and those of them not named (never a body the rounds ask, so only the few
others are joined) with what they pledged themselves (an umbrella's members pledged nothing of
their own): the fair-share table's aggregated row."""

_IN_KIND_COLUMNS = (
    "item_id",
    "item_kind",
    "item_public",
    "item_name",
    "item_publish_name",
    "budget_line",
    "item_cents",
    "line_name",
    "line_name_en",
)
_IN_KIND = f"""
SELECT p.id AS item_id, o.kind AS item_kind, o.is_public AS item_public, o.name AS item_name,
  p.publish_name AS item_publish_name, p.budget_line, p.amount_cents AS item_cents,
  bl.name AS line_name, bl.name_en AS line_name_en
FROM pledge p JOIN organisation o ON o.id = p.organisation
JOIN funding_round r ON r.id = p.round
LEFT JOIN budget_line bl ON bl.period = r.period AND bl.code = p.budget_line
WHERE p.round = <FUND> AND p.status IN {_LIVE_SQL} AND p.form <> 'cash'
ORDER BY p.id
"""
"""A round's standing in-kind pledges, each with its contributor and its budget line (the
columns are `_IN_KIND_COLUMNS`, named apart from a round's and a fair-share row's)."""

_PAGE_COLUMNS = """o.id AS org_id, o.kind AS org_kind, o.name AS org_name, o.population, c.share_cents,
  p.organisation AS pledger, p.status AS pledge_status, p.form, p.amount_cents, p.paid_cents, p.publish_name,
  u.name AS umbrella_name, u.kind AS umbrella_kind, u.is_public AS umbrella_public"""
"""A fair-share row's columns, named apart from a round's (`_ROUND_VIEW` has both)."""
_PAGE_WIDTH = _PAGE_COLUMNS.count(",") + 1

_PAGE = f"""
SELECT {_PAGE_COLUMNS}
FROM organisation o
LEFT JOIN pledge_cover c ON c.round = <FUND> AND c.organisation = o.id
LEFT JOIN pledge p ON p.id = c.pledge
LEFT JOIN organisation u ON u.id = p.organisation
WHERE {_listed_sql("o", "c", "p")} <AFTER>
ORDER BY o.name, o.id
LIMIT {{}}
"""
"""A page of the fair-share table: the organisations it lists by name (`_listed_sql`), in order
of name and id, each with its cover and the pledge covering it, in round `<FUND>`. Organisations
are a registry of public bodies (hundreds, a few thousand), and the (round, organisation) cover
index makes each join a lookup."""

_AFTER = f"""
AND (o.name, o.id) > (
  SELECT o2.name, o2.id FROM organisation o2
  LEFT JOIN pledge_cover c2 ON c2.round = <FUND> AND c2.organisation = o2.id
  LEFT JOIN pledge p2 ON p2.id = c2.pledge
  WHERE o2.id = {{}} AND {_listed_sql("o2", "c2", "p2")}
)
"""
"""After the row of organisation `after`, if the table lists it; after any other id, nothing
(so an id the table does not list tells nothing of where its name would be)."""

_ROUND_VIEW = f"""
SELECT s.*, f.* FROM (<SUMMARY>) s
LEFT JOIN (
  SELECT 0 AS part, pg.*, {", ".join(f"NULL AS {name}" for name in _IN_KIND_COLUMNS)} FROM (<PAGE>) pg
  UNION ALL
  SELECT 1, {", ".join(["NULL"] * _PAGE_WIDTH)}, ik.* FROM (<IN_KIND>) ik
) f ON 1 = 1
ORDER BY f.part, f.org_name, f.org_id, f.item_id
"""
"""A round's summary row with a page of its table and its in-kind pledges (`<IN_KIND>`, or a
query of none) beside it, a row for each (or the summary alone): one round trip where three
cost three times as much (each is a tenth of a round page)."""
_NO_IN_KIND = f"SELECT {', '.join(f'NULL AS {name}' for name in _IN_KIND_COLUMNS)} WHERE 1 = 0"


def _slug(slug: str) -> str:
    """A slug a round may have; any other is no round's, and never reaches the database."""
    if not _SLUG.fullmatch(slug):
        raise RoundNotFound(_("There is no round %(slug)s.") % {"slug": slug[:80]})
    return slug


def _one_round(covers: str) -> str:
    """`_FIGURES` for the round whose slug is the query's every argument."""
    query = _FIGURES.replace("<ROUND>", _ONE_ROUND).replace("<COVERS>", covers.replace("<ROUND>", _ONE_COVER))
    return query.replace("<WHERE>", "WHERE r.slug = {}")


def _summary(row: Mapping[str, Any]) -> RoundSummary:
    totals = _totals(row)
    fund, hidden = totals.round, int(row["hidden_count"] or 0)
    return RoundSummary(
        **{f: getattr(totals, f) for f in RoundTotals.__dataclass_fields__},
        named_count=int(row["named_count"] or 0),
        anonymous_count=hidden,
        anonymous=(
            FairShareRow(
                organisation_id=None,
                name=ANONYMOUS,
                kind="",
                suggested=None,
                pledged=Money(int(row["hidden_pledged"] or 0)),
                in_kind=Money(int(row["hidden_in_kind"] or 0)),
                paid=Money(int(row["hidden_paid"] or 0)),
                status="anonymous",
                count=hidden,
            )
            if hidden
            else None
        ),
        share_history=tuple(share_history(fund.target, totals.covered_count))
        if fund.key.kind is KeyKind.equal_split
        else (),
    )


def _in_kind_item(row: Mapping[str, Any]) -> InKindItem:
    contributor = {"kind": row["item_kind"], "is_public": row["item_public"], "name": row["item_name"]}
    return InKindItem(
        contributor=public_name(contributor, bool(row["item_publish_name"])),
        budget_line=row["budget_line"],
        line_name=row["line_name"] or row["budget_line"],
        line_name_en=row["line_name_en"] or row["line_name"] or row["budget_line"],
        value=Money(row["item_cents"]),
    )


def _page(summary: RoundSummary, rows: Sequence[Mapping[str, Any]], *, after: int | None, limit: int) -> FairSharePage:
    """The page of `rows` (`_PAGE`'s, one more than `limit` if more follow)."""
    more = len(rows) > limit
    fund = summary.round
    ask = share_asker(fund.key, target=fund.target, joined=summary.covered_count)
    shown = [_fair_share_row(fund, row, ask) for row in rows[:limit]]
    next_after = shown[-1].organisation_id if more and shown else None
    return FairSharePage(rows=shown, after=after, next_after=next_after, anonymous=summary.anonymous)


def _totals(row: Mapping[str, Any]) -> RoundTotals:
    return RoundTotals(
        round=_round(row),
        pledged_conditional=Money(int(row["sum_conditional"])),  # PostgreSQL sums bigints as numeric
        pledged_due=Money(int(row["sum_due"])),
        received=Money(int(row["sum_received"])),
        in_kind=Money(int(row["sum_in_kind"])),
        covered_count=int(row["covered_count"] or 0),
        pledges=int(row["pledge_count"]),
    )


def _fair_share_row(fund: Round, row: Mapping[str, Any], ask: Callable[[Member], Money]) -> FairShareRow:
    """A row of `_PAGE`; `ask` is what the key asks of a member (`share_asker`)."""
    covered = row["pledger"] is not None
    org_id, kind = row["org_id"], row["org_kind"]
    if covered and fund.key.kind is KeyKind.equal_split:
        suggested = Money(row["share_cents"])  # the share it has, fixed by when it joined
    else:
        suggested = ask(Member(organisation_id=org_id, kind=kind, population=row["population"]))
    zero = _ZERO
    if not covered:
        return FairShareRow(org_id, row["org_name"], kind, suggested, zero, zero, zero, "none")
    own = row["pledger"] == org_id
    in_kind = row["form"] != ContributionForm.cash.value
    umbrella = {"kind": row["umbrella_kind"], "is_public": row["umbrella_public"]}
    return FairShareRow(
        organisation_id=org_id,
        name=row["org_name"],
        kind=kind,
        suggested=suggested,
        pledged=Money(row["amount_cents"]) if own and not in_kind else zero,
        in_kind=Money(row["amount_cents"]) if own and in_kind else zero,
        paid=Money(row["paid_cents"]) if own else zero,
        status=row["pledge_status"] if own else "covered",
        covered_by="" if own or not is_named(umbrella, bool(row["publish_name"])) else row["umbrella_name"],
    )


def _nonzero(*legs: Leg) -> list[Leg]:
    return [leg for leg in legs if leg.amount]


def _receipt(pledge: PledgeRecord, entry: EntryRecord, *, new: bool) -> Receipt:
    """Read the split from the entry itself, so a retry reports what was booked the first time."""
    legs = {posting.account: Money(posting.amount) for posting in entry.postings}
    applied = abs(legs.get(RECEIVABLE, Money.zero())) + abs(legs.get(INVOICED, Money.zero()))
    held = legs.get(REFUNDS, Money.zero())
    return Receipt(pledge=pledge, applied=applied, held=abs(held), seq=entry.seq, new=new)


def invoice_open(billed: Money, paid: Money) -> Money:
    return max(billed - paid, Money.zero())


def billing_key(kind: str, number: str) -> str:
    """The idempotency key of the journal entry that books invoice or credit note `number`."""
    return f"{kind}:{number}"


def new_reference() -> str:
    """An ISO 11649 creditor reference, `RF` + check digits + 16 random digits: banks carry it in
    structured remittance information, and reconciliation finds the pledge by it."""
    body = f"{secrets.randbelow(10**16):016d}"
    reference = f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"
    return iso11649.validate(reference)


def is_named(organisation: dict, publish_name: bool) -> bool:
    """Whether public pages and the journal may name it: always a public body the rounds ask
    (`ASKED_KINDS`, whatever an older pledge's `publish_name` says); otherwise a public
    organisation that agreed to be named, and never a private person."""
    if always_public(organisation["kind"]):
        return True
    return bool(organisation["is_public"]) and publish_name and organisation["kind"] != OrganisationKind.individual


def public_name(organisation: dict, publish_name: bool) -> str:
    return organisation["name"] if is_named(organisation, publish_name) else ANONYMOUS


def _already_covered(organisation_id: int, taken: list[int]) -> AlreadyCovered:
    if not taken or organisation_id in taken:
        return AlreadyCovered(
            _(
                "Your organisation has already pledged to this round (or is covered by an umbrella pledge). "
                "We can send the link to that pledge to the contact address we have."
            ),
            taken or [organisation_id],
        )
    return AlreadyCovered(
        _("Some of these members are covered by a pledge already: remove them from this umbrella pledge."),
        taken,
        "members",
    )


def _member(organisation: dict) -> Member:
    return Member(organisation_id=organisation["id"], kind=organisation["kind"], population=organisation["population"])


def _round(row: Mapping[str, Any]) -> Round:
    return Round(
        id=row["id"],
        slug=row["slug"],
        period_id=row["period"],
        name=row["name"],
        name_en=row["name_en"],
        description=row["description"],
        target=Money(row["target_cents"]),
        opens_on=as_date(row["opens_on"]),
        closes_on=as_date(row["closes_on"]),
        model=RoundModel(row["model"]),
        key=CostSharingKey.from_json(row["cost_sharing_key"]),
        status=RoundStatus(row["status"]),
        decided_at=as_datetime(row["decided_at"]) if row["decided_at"] else None,
    )


def _pledge(row: dict, names: dict[int, str]) -> PledgeRecord:
    return PledgeRecord(
        id=row["id"],
        round_id=row["round"],
        organisation_id=row["organisation"],
        organisation_name=names.get(row["organisation"], ""),
        token=row["token"],
        reference=row["reference"],
        status=PledgeStatus(row["status"]),
        form=ContributionForm(row["form"]),
        amount=Money(row["amount_cents"]),
        paid=Money(row["paid_cents"]),
        hours=row["hours"],
        hourly_rate=Money(row["hourly_rate_cents"]) if row["hourly_rate_cents"] is not None else None,
        in_kind_description=row["in_kind_description"],
        budget_line=row["budget_line"],
        payment_preference=PaymentPreference(row["payment_preference"]),
        buyer_reference=row["buyer_reference"],
        contact_name=row["contact_name"],
        contact_email=row["contact_email"],
        publish_name=bool(row["publish_name"]),
        locale=row["locale"],
        source=PledgeSource(row["source"]),
        decision_reference=row["decision_reference"],
        decision_date=as_date(row["decision_date"]) if row["decision_date"] else None,
        created_at=as_datetime(row["created_at"]),
        booked_seq=row["booked_seq"],
        billed=Money(row["billed_cents"]),
    )
