"""Spending and corrections (DESIGN.md: Expense; issue #11).

A treasurer (or an admin) records an expense with its receipt; an approver (or an admin) who did
not submit it approves or rejects it: four eyes, checked here against the staff account as the
database has it now (not as the caller remembers it), and by the database too (migration 0021).
Approving books `Dr expenses:<line> / Cr liabilities:payables`, paying
`Dr liabilities:payables / Cr assets:bank`; reversing an expense reverses what it booked. An
expense beyond what its budget line has left in the period needs a second approver, who is
neither the submitter nor the approver, and is recorded as such.

Every change runs in one write transaction holding the expense's lock (approving also the
period's, so two approvals cannot both spend the same remaining budget), writes the expense's
history and the staff audit trail, and books under idempotency keys derived from the expense, so
a retry books nothing twice. Journal texts are public: they name the payee, the budget line and
the description, never a staff member or a receipt's file name.

`correct` reverses any other journal entry for a reason, by a treasurer or an admin; a reversal
of more than the threshold (EUR 10,000 unless configured) needs a second person as well.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import anyio

from funding.accounts.service import AccountNotFound, AccountService, StaffAccount
from funding.accounts.tables import Role
from funding.db import as_date, as_datetime, lock_transaction, write_transaction
from funding.i18n import _, current_locale
from funding.ledger.chain import EntryRecord
from funding.ledger.service import (
    FIRST_DAY,
    MAX_POSTING,
    AlreadyReversed,
    CannotReverse,
    EntryNotFound,
    IdempotencyConflict,
    LedgerService,
    Leg,
)
from funding.money import Money
from funding.programme.service import ProgrammeService, expense_account
from funding.spending.errors import ExpenseNotFound, NotAllowed, SpendingError
from funding.spending.receipts import Receipt, ReceiptStore
from funding.spending.tables import Expense, ExpenseEvent, ExpenseStatus, ReceiptType

PROGRAMME_TIME = ZoneInfo("Europe/Amsterdam")
PAYABLES, BANK = "liabilities:payables", "assets:bank"
APPROVED_KIND, PAID_KIND = "expense_approved", "expense_paid"
EXPENSE_LOCK = 50_000_000
"""Plus the expense's id: the PostgreSQL advisory lock that serialises changes to one expense."""
CORRECTION_LOCK = 49_000_000
"""The PostgreSQL advisory lock under which `correct` asks whether it booked before, then books."""
BUDGET_LOCK = 60_000_000
"""Plus the period's id: held while an approval reads what a line has left and books against it."""
CORRECTION_THRESHOLD = Money.euros(10_000)
"""A reversal of more than this needs a second person (unless configured otherwise)."""
SUBMITTERS = (Role.treasurer, Role.admin)
APPROVERS = (Role.approver, Role.admin)
CORRECTORS = (Role.treasurer, Role.admin)
SECONDS = (Role.admin, Role.treasurer, Role.approver)
"""Who may be the second person of a large correction."""
BOOKED = (ExpenseStatus.approved, ExpenseStatus.paid, ExpenseStatus.reversed)
"""An expense in one of these is in the public journal."""
MAX_PAYEE, MAX_DESCRIPTION, MAX_REASON = 200, 500, 500


@dataclass(frozen=True)
class ExpenseEventRecord:
    at: datetime
    actor_id: int
    actor: str
    """The staff member's e-mail address."""
    action: str
    from_status: str
    to_status: str
    note: str


@dataclass(frozen=True)
class ExpenseRecord:
    id: int
    payee: str
    occurred_on: date
    amount: Money
    period_id: int
    budget_line: str
    description: str
    receipt: Receipt
    receipt_public: bool
    status: ExpenseStatus
    submitted_by: int
    submitted_at: datetime
    decided_by: int | None
    decided_at: datetime | None
    override_by: int | None
    reason: str
    approved_seq: int | None
    paid_on: date | None
    paid_seq: int | None
    reversal_seq: int | None
    payment_reversal_seq: int | None
    history: tuple[ExpenseEventRecord, ...] = ()

    @property
    def is_public(self) -> bool:
        """In the public journal (approved, and paid or reversed since)."""
        return self.status in BOOKED

    @property
    def seqs(self) -> tuple[int, ...]:
        """The journal entries it booked, reversals included, in the order they were booked."""
        seqs = (self.approved_seq, self.paid_seq, self.payment_reversal_seq, self.reversal_seq)
        return tuple(seq for seq in seqs if seq is not None)


def public_text(expense: ExpenseRecord) -> str:
    """What the journal says of an expense (in Dutch, as the journal is): payee, line, description."""
    return f"Uitgave {expense.budget_line}: {expense.payee} – {expense.description}"


class SpendingService:
    def __init__(
        self,
        ledger: LedgerService,
        programmes: ProgrammeService,
        accounts: AccountService,
        receipts: ReceiptStore,
        clock: Callable[[], datetime] | None = None,
        *,
        correction_threshold: Money = CORRECTION_THRESHOLD,
    ) -> None:
        self.ledger = ledger
        self.programmes = programmes
        self.accounts = accounts
        self.receipts = receipts
        self.clock = clock or (lambda: datetime.now(UTC))
        self.correction_threshold = correction_threshold

    def today(self) -> date:
        return self.clock().astimezone(PROGRAMME_TIME).date()

    # -- recording ----------------------------------------------------------------------------
    async def submit(
        self,
        by: StaffAccount,
        *,
        payee: str,
        occurred_on: date,
        amount: Money,
        period_id: int,
        budget_line: str,
        description: str,
        receipt: bytes,
        receipt_name: str,
        receipt_public: bool = False,
        address: str = "",
    ) -> ExpenseRecord:
        """Record an expense with its receipt, for an approver to decide; nothing is booked yet."""
        actor = await self._acting(by, SUBMITTERS, _("Only a treasurer or an admin records spending."))
        payee = _text(payee, MAX_PAYEE, _("Enter who is paid (at most 200 characters, on one line)."), "payee")
        description = _text(
            description,
            MAX_DESCRIPTION,
            _("Describe the expense (at most 500 characters, on one line)."),
            "description",
        )
        if not isinstance(amount, Money) or not 0 < amount.cents <= MAX_POSTING.cents:
            raise SpendingError(_("Enter an amount of more than zero euros."), "amount")
        period = await self.programmes.period(period_id)
        if period is None:
            raise SpendingError(_("There is no such budget period."), "period")
        line = await self.programmes.budget_line(period_id, budget_line)
        if line is None:
            raise SpendingError(_("Choose one of the period's budget lines."), "budget_line")
        starts_on, ends_on = as_date(period["starts_on"]), as_date(period["ends_on"])
        if not isinstance(occurred_on, date) or not starts_on <= occurred_on <= ends_on:
            raise SpendingError(_("The expense's date lies outside the budget period."), "occurred_on")
        if occurred_on > self.today() or occurred_on < FIRST_DAY:
            raise SpendingError(_("The expense's date cannot be in the future."), "occurred_on")
        stored = await anyio.to_thread.run_sync(self.receipts.store, receipt, receipt_name)
        now = self.clock()
        async with write_transaction():
            rows = await Expense.insert(
                Expense(
                    payee=payee,
                    occurred_on=occurred_on,
                    amount_cents=amount.cents,
                    period=period_id,
                    budget_line=budget_line,
                    description=description,
                    receipt_sha256=stored.sha256,
                    receipt_media_type=stored.media_type.value,
                    receipt_size=stored.size,
                    receipt_filename=stored.filename,
                    receipt_public=bool(receipt_public),
                    status=ExpenseStatus.submitted.value,
                    submitted_by=actor.id,
                    submitted_at=now,
                    decided_by=None,
                    decided_at=None,
                    override_by=None,
                    reason="",
                    approved_seq=None,
                    paid_on=None,
                    paid_seq=None,
                    reversal_seq=None,
                    payment_reversal_seq=None,
                )
            )
            expense_id = rows[0]["id"]
            await self._event(expense_id, actor, "submitted", "", ExpenseStatus.submitted, f"{amount} {budget_line}")
            await self._audit(actor, "expense_submitted", expense_id, f"{amount} {budget_line}: {payee}", address)
        return await self.expense(expense_id)

    # -- deciding -----------------------------------------------------------------------------
    async def approve(
        self, expense_id: int, by: StaffAccount, *, override_by: StaffAccount | None = None, address: str = ""
    ) -> ExpenseRecord:
        """Approve and book a submitted expense; beyond the line's remaining budget only with
        `override_by`, a second approver who is neither the submitter nor `by`."""
        actor = await self._acting(by, APPROVERS, _("Only an approver or an admin approves spending."))
        async with write_transaction():
            expense = await self._locked(expense_id)
            if expense.status is ExpenseStatus.approved and expense.decided_by == actor.id:
                return await self.expense(expense_id)  # a retry: booked once
            self._deciding(expense, actor)
            await lock_transaction(BUDGET_LOCK + expense.period_id)
            remaining = await self.remaining(expense.period_id, expense.budget_line)
            second = None
            if expense.amount > remaining:
                if override_by is None:
                    raise SpendingError(
                        _(
                            "This expense is more than the %(remaining)s left on its budget line: "
                            "a second approver must allow it."
                        )
                        % {"remaining": max(remaining, Money.zero()).format(current_locale())},
                        "override_by",
                    )
                second = await self._acting(
                    override_by, APPROVERS, _("Only an approver or an admin can allow spending beyond the budget.")
                )
                if second.id in (expense.submitted_by, actor.id):
                    raise NotAllowed(
                        _("A third person allows spending beyond the budget: not the submitter, not the approver."),
                        "override_by",
                    )
            entry = await self.ledger.append(
                kind=APPROVED_KIND,
                description=public_text(expense),
                occurred_on=expense.occurred_on,
                legs=[Leg(expense_account(expense.budget_line), expense.amount), Leg(PAYABLES, -expense.amount)],
                reference=f"expense:{expense.id}",
                idempotency_key=f"expense:{expense.id}:approved",
            )
            await Expense.update(
                {
                    Expense.status: ExpenseStatus.approved.value,
                    Expense.decided_by: actor.id,
                    Expense.decided_at: self.clock(),
                    Expense.override_by: second.id if second else None,
                    Expense.approved_seq: entry.seq,
                }
            ).where(Expense.id == expense.id)
            if second is not None:
                over = f"{expense.amount - max(remaining, Money.zero())} beyond the {remaining} left"
                await self._event(expense.id, second, "override", expense.status, expense.status, over)
                await self._audit(second, "expense_override", expense.id, over, address)
            await self._event(expense.id, actor, "approved", expense.status, ExpenseStatus.approved, f"#{entry.seq}")
            await self._audit(actor, "expense_approved", expense.id, f"#{entry.seq}", address)
        return await self.expense(expense_id)

    async def reject(self, expense_id: int, by: StaffAccount, reason: str, *, address: str = "") -> ExpenseRecord:
        """Refuse a submitted expense, saying why; nothing is booked."""
        actor = await self._acting(by, APPROVERS, _("Only an approver or an admin rejects spending."))
        reason = _text(reason, MAX_REASON, _("Say why (at most 500 characters, on one line)."), "reason")
        async with write_transaction():
            expense = await self._locked(expense_id)
            if expense.status is ExpenseStatus.rejected and expense.decided_by == actor.id:
                return await self.expense(expense_id)
            self._deciding(expense, actor)
            await Expense.update(
                {
                    Expense.status: ExpenseStatus.rejected.value,
                    Expense.decided_by: actor.id,
                    Expense.decided_at: self.clock(),
                    Expense.reason: reason,
                }
            ).where(Expense.id == expense.id)
            await self._event(expense.id, actor, "rejected", expense.status, ExpenseStatus.rejected, reason)
            await self._audit(actor, "expense_rejected", expense.id, reason, address)
        return await self.expense(expense_id)

    # -- paying and reversing -----------------------------------------------------------------
    async def mark_paid(self, expense_id: int, by: StaffAccount, paid_on: date, *, address: str = "") -> ExpenseRecord:
        """Book the payment of an approved expense from the bank account."""
        actor = await self._acting(by, CORRECTORS, _("Only a treasurer or an admin marks spending paid."))
        if not isinstance(paid_on, date) or isinstance(paid_on, datetime) or not FIRST_DAY <= paid_on <= self.today():
            raise SpendingError(_("The payment date cannot be in the future."), "paid_on")
        async with write_transaction():
            expense = await self._locked(expense_id)
            if expense.status is ExpenseStatus.paid:
                return await self.expense(expense_id)
            if expense.status is not ExpenseStatus.approved:
                raise SpendingError(_("Only an approved expense can be paid."))
            entry = await self.ledger.append(
                kind=PAID_KIND,
                description=f"Betaling: {public_text(expense)}",
                occurred_on=paid_on,
                legs=[Leg(PAYABLES, expense.amount), Leg(BANK, -expense.amount)],
                reference=f"expense:{expense.id}",
                idempotency_key=f"expense:{expense.id}:paid",
            )
            await Expense.update(
                {Expense.status: ExpenseStatus.paid.value, Expense.paid_on: paid_on, Expense.paid_seq: entry.seq}
            ).where(Expense.id == expense.id)
            await self._event(expense.id, actor, "paid", expense.status, ExpenseStatus.paid, f"#{entry.seq} {paid_on}")
            await self._audit(actor, "expense_paid", expense.id, f"#{entry.seq} {paid_on}", address)
        return await self.expense(expense_id)

    async def reverse(
        self,
        expense_id: int,
        by: StaffAccount,
        reason: str,
        *,
        second: StaffAccount | None = None,
        address: str = "",
    ) -> ExpenseRecord:
        """Reverse what an approved (or paid) expense booked, payment first; the reason is public
        (it is in the reversing entries). Over the correction threshold, `second` must agree."""
        actor = await self._acting(by, CORRECTORS, _("Only a treasurer or an admin corrects the ledger."))
        reason = _text(reason, MAX_REASON, _("Say why (at most 500 characters, on one line)."), "reason")
        async with write_transaction():
            expense = await self._locked(expense_id)
            if expense.status is ExpenseStatus.reversed:
                return await self.expense(expense_id)  # booked once
            if expense.status not in (ExpenseStatus.approved, ExpenseStatus.paid):
                raise SpendingError(_("Only a booked expense can be reversed: reject a submitted one instead."))
            agreed = await self._second(actor, second, expense.amount)
            today = self.today()
            reversals: dict[str, int] = {}
            for column, seq in (("payment_reversal_seq", expense.paid_seq), ("reversal_seq", expense.approved_seq)):
                if seq is not None:
                    entry = await self.ledger.reverse(
                        seq,
                        reason=f"{reason} (uitgave {expense.id})",
                        occurred_on=today,
                        idempotency_key=f"expense:{expense.id}:reversal:{seq}",
                    )
                    reversals[column] = entry.seq
            await Expense.update(
                {
                    Expense.status: ExpenseStatus.reversed.value,
                    Expense.reason: reason,
                    Expense.reversal_seq: reversals["reversal_seq"],
                    Expense.payment_reversal_seq: reversals.get("payment_reversal_seq"),
                }
            ).where(Expense.id == expense.id)
            note = f"{', '.join(f'#{seq}' for seq in reversals.values())}: {reason}"
            await self._event(expense.id, actor, "reversed", expense.status, ExpenseStatus.reversed, note)
            await self._audit(actor, "expense_reversed", expense.id, _with_second(note, agreed), address)
            if agreed is not None:
                await self._event(expense.id, agreed, "second_agreed", expense.status, ExpenseStatus.reversed, note)
                await self._audit(agreed, "reversal_agreed", f"expense:{expense.id}", note, address)
        return await self.expense(expense_id)

    async def correct(
        self, seq: int, by: StaffAccount, reason: str, *, second: StaffAccount | None = None, address: str = ""
    ) -> EntryRecord:
        """Reverse journal entry `seq` for `reason` (public: it is in the reversal); over the
        correction threshold only with `second`. Asking again for the same reason answers the
        reversal booked before; an entry an expense booked is corrected by reversing the expense."""
        actor = await self._acting(by, CORRECTORS, _("Only a treasurer or an admin corrects the ledger."))
        reason = _text(reason, MAX_REASON, _("Say why (at most 500 characters, on one line)."), "reason")
        try:
            original = await self.ledger.entry(seq)
        except EntryNotFound:
            raise SpendingError(_("There is no entry with this number."), "seq") from None
        if original.reverses is not None:
            raise SpendingError(_("This entry is itself a reversal: book a new entry instead."), "seq")
        if original.kind in (APPROVED_KIND, PAID_KIND):
            raise SpendingError(_("This entry belongs to an expense: reverse the expense instead."), "seq")
        key = f"correction:{seq}"
        async with write_transaction():
            await lock_transaction(CORRECTION_LOCK)
            booked = await self.ledger.booked(key)
            if booked is not None and booked.description.endswith(f": {reason}"):
                return booked
            agreed = await self._second(actor, second, _debits(original))
            try:
                reversal = await self.ledger.reverse(seq, reason=reason, occurred_on=self.today(), idempotency_key=key)
            except (AlreadyReversed, IdempotencyConflict, CannotReverse):
                raise SpendingError(_("This entry has been reversed already."), "seq") from None
            detail = _with_second(f"#{reversal.seq}: {reason}", agreed)
            await self.accounts.audit(actor.email, "entry_reversed", f"entry:{seq}", detail, address)
            if agreed is not None:
                await self.accounts.audit(agreed.email, "reversal_agreed", f"entry:{seq}", detail, address)
        return reversal

    # -- receipts -----------------------------------------------------------------------------
    async def set_receipt_public(
        self, expense_id: int, by: StaffAccount, public: bool, *, address: str = ""
    ) -> ExpenseRecord:
        """Show the receipt with the public ledger, or stop showing it (it holds no personal data)."""
        actor = await self._acting(by, CORRECTORS, _("Only a treasurer or an admin decides what is public."))
        async with write_transaction():
            expense = await self._locked(expense_id)
            if expense.receipt_public == public:
                return expense
            await Expense.update({Expense.receipt_public: public}).where(Expense.id == expense.id)
            action = "receipt_published" if public else "receipt_withdrawn"
            await self._event(expense.id, actor, action, expense.status, expense.status, "")
            await self._audit(actor, action, expense.id, expense.receipt.sha256, address)
        return await self.expense(expense_id)

    async def receipt(self, expense_id: int, by: StaffAccount) -> tuple[Receipt, bytes]:
        """An expense's receipt for staff (every role may read it)."""
        await self._acting(by, tuple(Role), _("Only staff read receipts."))
        expense = await self.expense(expense_id)
        return expense.receipt, await anyio.to_thread.run_sync(self.receipts.open, expense.receipt.sha256)

    async def public_receipt(self, expense_id: int) -> tuple[Receipt, bytes]:
        """The receipt of a booked expense marked public; any other is not found (to anyone asking)."""
        expense = await self.expense(expense_id)
        if not (expense.is_public and expense.receipt_public):
            raise ExpenseNotFound(_("There is no public receipt for this expense."))
        return expense.receipt, await anyio.to_thread.run_sync(self.receipts.open, expense.receipt.sha256)

    # -- reading ------------------------------------------------------------------------------
    async def remaining(self, period_id: int, line: str) -> Money:
        """The line's budget less what the journal has booked to `expenses:<line>` in the
        period's months (approved spending, net of reversals, and any other booking there), as
        the home page counts it; submitted expenses do not count until approved. Negative when
        the line is overspent."""
        period = await self.programmes.period(period_id)
        budget = await self.programmes.budget_line(period_id, line)
        if period is None or budget is None:
            raise SpendingError(_("Choose one of the period's budget lines."), "budget_line")
        during, _closing = await self.ledger.period_balances(as_date(period["starts_on"]), as_date(period["ends_on"]))
        return Money(budget["amount_cents"]) - during.get(expense_account(line), Money.zero())

    async def expense(self, expense_id: int) -> ExpenseRecord:
        row = await Expense.select().where(Expense.id == expense_id).first() if isinstance(expense_id, int) else None
        if row is None:
            raise ExpenseNotFound(_("There is no expense with this number."))
        return _expense(row, await self.history(expense_id))

    async def awaiting_approval(self) -> list[ExpenseRecord]:
        """Submitted expenses, oldest first."""
        return await self.expenses(status=ExpenseStatus.submitted, newest_first=False)

    async def expenses(
        self, *, status: ExpenseStatus | None = None, newest_first: bool = True, limit: int = 100
    ) -> list[ExpenseRecord]:
        query = Expense.select().order_by(Expense.id, ascending=not newest_first).limit(min(max(limit, 1), 500))
        if status is not None:
            query = query.where(Expense.status == ExpenseStatus(status).value)
        return [_expense(row) for row in await query]

    async def history(self, expense_id: int) -> tuple[ExpenseEventRecord, ...]:
        rows = await ExpenseEvent.raw(
            "SELECT e.at, e.actor, s.email, e.action, e.from_status, e.to_status, e.note FROM expense_event e "
            "JOIN staff_user s ON s.id = e.actor WHERE e.expense = {} ORDER BY e.id",
            expense_id,
        )
        return tuple(
            ExpenseEventRecord(
                at=as_datetime(row["at"]),
                actor_id=row["actor"],
                actor=row["email"],
                action=row["action"],
                from_status=row["from_status"],
                to_status=row["to_status"],
                note=row["note"],
            )
            for row in rows
        )

    # -- helpers ------------------------------------------------------------------------------
    async def _acting(self, who: StaffAccount, roles: Iterable[Role], refusal: str) -> StaffAccount:
        """`who` as the database has it now: active, and in one of `roles`."""
        try:
            account = await self.accounts.get(who.id)
        except AccountNotFound:
            raise NotAllowed(refusal) from None
        if not account.is_active or account.role not in tuple(roles):
            raise NotAllowed(refusal)
        return account

    def _deciding(self, expense: ExpenseRecord, actor: StaffAccount) -> None:
        if expense.status is not ExpenseStatus.submitted:
            raise SpendingError(_("This expense has been decided already."))
        if actor.id == expense.submitted_by:
            raise NotAllowed(_("Four eyes: someone other than the submitter approves or rejects an expense."))

    async def _second(self, actor: StaffAccount, second: StaffAccount | None, amount: Money) -> StaffAccount | None:
        """The second person a reversal of `amount` needs (None when it needs none)."""
        if amount <= self.correction_threshold:
            return None
        if second is None:
            raise SpendingError(
                _("A reversal of more than %(threshold)s needs a second person.")
                % {"threshold": self.correction_threshold.format(current_locale())},
                "second",
            )
        agreed = await self._acting(
            second, SECONDS, _("The second person is a treasurer, an approver or an admin, with an active account.")
        )
        if agreed.id == actor.id:
            raise NotAllowed(_("The second person is someone else than the one who asks for the reversal."), "second")
        return agreed

    async def _locked(self, expense_id: int) -> ExpenseRecord:
        """The expense, read once its lock is held (call inside a write transaction)."""
        await self.expense(expense_id)
        await lock_transaction(EXPENSE_LOCK + expense_id)
        return await self.expense(expense_id)

    async def _event(
        self, expense_id: int, actor: StaffAccount, action: str, from_status: str, to_status: str, note: str
    ) -> None:
        await ExpenseEvent.insert(
            ExpenseEvent(
                expense=expense_id,
                at=self.clock(),
                actor=actor.id,
                action=action,
                from_status=str(from_status),
                to_status=str(to_status),
                note=note,
            )
        )

    async def _audit(self, actor: StaffAccount, action: str, expense: int | str, detail: str, address: str) -> None:
        subject = expense if isinstance(expense, str) else f"expense:{expense}"
        await self.accounts.audit(actor.email, action, subject, detail, address)


def _text(value: str, max_length: int, message: str, field: str) -> str:
    """One line of text: stripped, not empty, not too long, no control characters."""
    text = unicodedata.normalize("NFC", value).strip() if isinstance(value, str) else ""
    if not text or len(text) > max_length or any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text):
        raise SpendingError(message, field)
    return text


def _debits(entry: EntryRecord) -> Money:
    return Money(sum(p.amount for p in entry.postings if p.amount > 0))


def _with_second(detail: str, second: StaffAccount | None) -> str:
    return f"{detail} (second: {second.email})" if second is not None else detail


def _expense(row: dict, history: tuple[ExpenseEventRecord, ...] = ()) -> ExpenseRecord:
    return ExpenseRecord(
        id=row["id"],
        payee=row["payee"],
        occurred_on=as_date(row["occurred_on"]),
        amount=Money(row["amount_cents"]),
        period_id=row["period"],
        budget_line=row["budget_line"],
        description=row["description"],
        receipt=Receipt(
            sha256=row["receipt_sha256"],
            media_type=ReceiptType(row["receipt_media_type"]),
            size=row["receipt_size"],
            filename=row["receipt_filename"],
        ),
        receipt_public=bool(row["receipt_public"]),
        status=ExpenseStatus(row["status"]),
        submitted_by=row["submitted_by"],
        submitted_at=as_datetime(row["submitted_at"]),
        decided_by=row["decided_by"],
        decided_at=as_datetime(row["decided_at"]) if row["decided_at"] else None,
        override_by=row["override_by"],
        reason=row["reason"],
        approved_seq=row["approved_seq"],
        paid_on=as_date(row["paid_on"]) if row["paid_on"] else None,
        paid_seq=row["paid_seq"],
        reversal_seq=row["reversal_seq"],
        payment_reversal_seq=row["payment_reversal_seq"],
        history=history,
    )
