"""Spending rules for the ledger's state machine (tests/ledger/test_properties.py).

Alongside the journal's own rules, the machine submits expenses as any staff member, approves
them (with or without a second approver's override), rejects, pays and reverses them, retries
what was done, and approves one expense from two sessions at once. `SpendingModel` says what each
request should do (which role may, four eyes, what the line has left, when a reversal needs a
second person); a refused request must leave the head where it was. What the service books is
taken into the journal model (`absorb`) as the service's own, so the ledger's invariants hold it
to the same books. After every step:

- every expense has the status, decider and override the model says, and the database row never
  names its submitter as its decider or its overrider;
- an expense's entries are exactly what its life says: the approval books its amount to
  `expenses:<line>` against `liabilities:payables`, the payment clears the payable from
  `assets:bank`, a reversal brings both back to zero; a rejected or submitted one books nothing;
- what a line has left (`remaining`) is its budget less the journal model's balance of its
  expense account in the period;
- the last event of an expense's history ends in its status.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime

from argon2 import PasswordHasher
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from funding.accounts.service import AccountService
from funding.accounts.tables import Role, StaffUser
from funding.money import Money
from funding.programme.service import ProgrammeService
from funding.spending.errors import NotAllowed, SpendingError
from funding.spending.receipts import ReceiptStore
from funding.spending.service import APPROVERS, CORRECTORS, SECONDS, SUBMITTERS, SpendingService
from funding.spending.tables import Expense, ExpenseStatus
from tests.spending.conftest import JPEG, PDF, PNG

NOW = datetime(2026, 6, 15, 10, tzinfo=UTC)
PERIOD = (date(2026, 1, 1), date(2026, 12, 31))
LINES = {"events": 1_000_00, "print": 300_00}
"""Budget lines and their budgets in cents: small, so overrides are needed now and then."""
THRESHOLD = Money.euros(500)
"""The machine's correction threshold: low, so reversals need a second person now and then."""
STAFF = {
    "treasurer": Role.treasurer,
    "treasurer2": Role.treasurer,
    "approver": Role.approver,
    "approver2": Role.approver,
    "admin": Role.admin,
    "auditor": Role.auditor,
}
WHO = st.sampled_from(list(STAFF))
MAY_RECORD = st.sampled_from(["treasurer", "treasurer2", "admin"]) | WHO
MAY_DECIDE = st.sampled_from(["approver", "approver2", "admin"]) | WHO
"""Mostly someone whose role allows it (so most steps do something), now and then anyone."""
AMOUNTS = st.sampled_from([100_00, 250_00, 300_00, 600_00]) | st.integers(1, 1_200_00)
DAYS = st.dates(min_value=date(2026, 1, 1), max_value=NOW.date())
RECEIPTS = st.sampled_from([(PDF, "factuur.pdf"), (PNG, "bon.png"), (JPEG, "foto.jpg"), (PDF, "scan.png")])
_CHEAP_HASH = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("not used to log in")


@dataclass
class ModelExpense:
    id: int
    submitter: str
    line: str
    amount: int
    status: ExpenseStatus = ExpenseStatus.submitted
    decider: str | None = None
    overrider: str | None = None


@dataclass
class SpendingModel:
    expenses: list[ModelExpense]

    def with_status(self, *statuses: ExpenseStatus) -> list[int]:
        return [i for i, e in enumerate(self.expenses) if e.status in statuses]

    def submitted(self) -> list[int]:
        return self.with_status(ExpenseStatus.submitted)

    def approved(self) -> list[int]:
        return self.with_status(ExpenseStatus.approved)

    def booked(self) -> list[int]:
        return self.with_status(ExpenseStatus.approved, ExpenseStatus.paid)

    def decided(self) -> list[int]:
        return self.with_status(*(s for s in ExpenseStatus if s is not ExpenseStatus.submitted))


def expense_index(pick):
    return st.runner().flatmap(lambda machine: st.sampled_from(pick(machine.spending_model)))


def has_expenses(pick):
    return precondition(lambda machine: bool(getattr(machine, "spending_model", None) and pick(machine.spending_model)))


class SpendingRules:
    """A mixin for `LedgerMachine`: uses its `run`, `run_all`, `refused`, `model` and `ledger`."""

    @initialize()
    def a_programme_year_staff_and_a_receipt_store(self):
        self.spending_model = SpendingModel(expenses=[])
        self.receipt_folder = tempfile.mkdtemp(prefix="funding-receipts-")
        programmes = ProgrammeService(self.ledger)
        programme = self.run(programmes.create_programme(slug="spending", name="Programme"))
        self.period = self.run(programmes.add_period(programme, name="2026", starts_on=PERIOD[0], ends_on=PERIOD[1]))
        for code, cents in LINES.items():
            self.run(programmes.add_budget_line(self.period, code=code, name=code, amount=Money(cents)))
        for name in ("assets:bank", "liabilities:payables"):
            self.run(self.ledger.open_account(name))
        self.model.accounts.update(a["name"] for a in self.run(self.ledger.accounts()))
        accounts = AccountService(clock=lambda: NOW)
        self.staff = {}
        for name, role in STAFF.items():
            rows = self.run(
                StaffUser.insert(
                    StaffUser(
                        email=f"{name}@example.nl",
                        role=role.value,
                        password_hash=_CHEAP_HASH,
                        totp_secret=None,
                        created_at=NOW,
                        disabled_at=None,
                    )
                )
            )
            self.staff[name] = self.run(accounts.get(rows[0]["id"]))
        self.spending = SpendingService(
            self.ledger,
            programmes,
            accounts,
            ReceiptStore(self.receipt_folder),
            lambda: NOW,
            correction_threshold=THRESHOLD,
        )

    def teardown(self) -> None:
        try:
            super().teardown()  # the machine's: its database and loop
        finally:
            if hasattr(self, "receipt_folder"):
                shutil.rmtree(self.receipt_folder, ignore_errors=True)

    # -- rules ------------------------------------------------------------------------------------
    @rule(who=MAY_RECORD, line=st.sampled_from(list(LINES)), cents=AMOUNTS, day=DAYS, receipt=RECEIPTS)
    def submit(self, who, line, cents, day, receipt):
        data, name = receipt
        request = self.spending.submit(
            self.staff[who],
            payee=f"Leverancier {len(self.spending_model.expenses)}",
            occurred_on=day,
            amount=Money(cents),
            period_id=self.period,
            budget_line=line,
            description=f"Uitgave op {day}",
            receipt=data,
            receipt_name=name,
        )
        if STAFF[who] not in SUBMITTERS:
            self.refused(NotAllowed, request)
            return
        expense = self.run(request)
        assert expense.status is ExpenseStatus.submitted and expense.seqs == ()
        self.spending_model.expenses.append(ModelExpense(expense.id, who, line, cents))
        self.absorb()

    @has_expenses(SpendingModel.submitted)
    @rule(index=expense_index(SpendingModel.submitted), who=MAY_DECIDE, overrider=st.none() | MAY_DECIDE)
    def approve(self, index, who, overrider):
        expense = self.spending_model.expenses[index]
        request = self.spending.approve(
            expense.id, self.staff[who], override_by=self.staff[overrider] if overrider else None
        )
        if STAFF[who] not in APPROVERS or who == expense.submitter:
            self.refused(NotAllowed, request)
            return
        over = expense.amount > self.remaining(expense.line)
        if over and overrider is None:
            self.refused(SpendingError, request)
            return
        if over and (STAFF[overrider] not in APPROVERS or overrider in (expense.submitter, who)):
            self.refused(NotAllowed, request)
            return
        approved = self.run(request)
        assert approved.status is ExpenseStatus.approved
        event("spending: approved with an override" if over else "spending: approved")
        expense.status, expense.decider, expense.overrider = ExpenseStatus.approved, who, overrider if over else None
        self.absorb()

    @has_expenses(SpendingModel.submitted)
    @rule(
        index=expense_index(SpendingModel.submitted),
        who=MAY_DECIDE,
        reason=st.sampled_from(["Geen bon", "Dubbel ingediend", "", " "]),
    )
    def reject(self, index, who, reason):
        expense = self.spending_model.expenses[index]
        request = self.spending.reject(expense.id, self.staff[who], reason)
        if STAFF[who] not in APPROVERS:
            self.refused(NotAllowed, request)
            return
        if not reason.strip():  # said before four eyes: the form's field first
            self.refused(SpendingError, request)
            return
        if who == expense.submitter:
            self.refused(NotAllowed, request)
            return
        assert self.run(request).status is ExpenseStatus.rejected
        event("spending: rejected")
        expense.status, expense.decider = ExpenseStatus.rejected, who
        self.absorb()

    @has_expenses(SpendingModel.approved)
    @rule(index=expense_index(SpendingModel.approved), who=MAY_RECORD, day=DAYS)
    def pay(self, index, who, day):
        expense = self.spending_model.expenses[index]
        request = self.spending.mark_paid(expense.id, self.staff[who], day)
        if STAFF[who] not in CORRECTORS:
            self.refused(NotAllowed, request)
            return
        assert self.run(request).status is ExpenseStatus.paid
        event("spending: paid")
        expense.status = ExpenseStatus.paid
        self.absorb()

    @has_expenses(SpendingModel.booked)
    @rule(index=expense_index(SpendingModel.booked), who=MAY_RECORD, second=st.none() | MAY_DECIDE)
    def reverse(self, index, who, second):
        expense = self.spending_model.expenses[index]
        request = self.spending.reverse(
            expense.id, self.staff[who], "Verkeerd geboekt", second=self.staff[second] if second else None
        )
        if STAFF[who] not in CORRECTORS:
            self.refused(NotAllowed, request)
            return
        if Money(expense.amount) > THRESHOLD:
            if second is None:
                self.refused(SpendingError, request)
                return
            if STAFF[second] not in SECONDS or second == who:
                self.refused(NotAllowed, request)
                return
        assert self.run(request).status is ExpenseStatus.reversed
        event("spending: reversed" + (" by two" if second and Money(expense.amount) > THRESHOLD else ""))
        expense.status = ExpenseStatus.reversed
        self.absorb()

    @has_expenses(SpendingModel.decided)
    @rule(index=expense_index(SpendingModel.decided))
    def doing_it_again_books_nothing(self, index):
        """A retry of what was done (a double click, a resent form) answers the expense as it is."""
        expense = self.spending_model.expenses[index]
        before = self.run(self.spending.expense(expense.id))
        if expense.status is ExpenseStatus.approved:
            again = self.run(self.spending.approve(expense.id, self.staff[expense.decider]))
        elif expense.status is ExpenseStatus.rejected:
            again = self.run(self.spending.reject(expense.id, self.staff[expense.decider], "nog eens"))
        elif expense.status is ExpenseStatus.paid:
            again = self.run(self.spending.mark_paid(expense.id, self.staff["treasurer"], NOW.date()))
        else:
            again = self.run(self.spending.reverse(expense.id, self.staff["admin"], "nog eens", second=None))
        assert (again.status, again.seqs, len(again.history)) == (before.status, before.seqs, len(before.history))
        self.absorb()  # asserts nothing new was booked: the head is the model's (invariant)

    @has_expenses(SpendingModel.submitted)
    @rule(index=expense_index(SpendingModel.submitted))
    def two_approvers_at_once_book_it_once(self, index):
        expense = self.spending_model.expenses[index]
        deciders = [name for name in ("approver", "approver2", "admin") if name != expense.submitter][:2]
        override = {"approver": "admin", "approver2": "admin", "admin": "approver"}
        outcomes = self.run_all(
            [
                self.spending.approve(
                    expense.id,
                    self.staff[name],
                    override_by=self.staff[override[name]]
                    if override[name] not in (expense.submitter, *deciders)
                    else None,
                )
                for name in deciders
            ],
            return_exceptions=True,
        )
        approved = [o for o in outcomes if not isinstance(o, BaseException)]
        assert all(isinstance(o, SpendingError) for o in outcomes if isinstance(o, BaseException)), outcomes
        assert len(approved) <= 1, outcomes
        event(f"spending: {len(approved)} of two concurrent approvals booked")
        if approved:
            decider = next(name for name in deciders if self.staff[name].id == approved[0].decided_by)
            overrider = next((n for n in STAFF if self.staff[n].id == approved[0].override_by), None)
            expense.status, expense.decider, expense.overrider = ExpenseStatus.approved, decider, overrider
        self.absorb()

    # -- helpers ----------------------------------------------------------------------------------
    def remaining(self, line: str) -> int:
        spent = self.model.balances(*PERIOD).get(f"expenses:{line}", Money.zero())
        return LINES[line] - spent.cents

    def absorb(self) -> None:
        """Take what the spending service booked into the journal model, as the service's."""
        from tests.ledger.test_properties import ModelEntry

        for record in self.run(self.ledger.entries_after(self.model.head_seq, limit=500)):
            assert record.kind in ("expense_approved", "expense_paid", "reversal"), record
            self.model.add(
                ModelEntry(
                    seq=record.seq,
                    hash=record.hash,
                    kind=record.kind,
                    description=record.description,
                    occurred_on=record.occurred_on,
                    postings=tuple((p.account, p.amount) for p in record.postings),
                    reference=record.reference,
                    reverses=record.reverses,
                    managed=True,
                )
            )

    # -- invariants -------------------------------------------------------------------------------
    @invariant()
    def expenses_are_as_the_model_says_and_book_what_their_life_says(self):
        if not hasattr(self, "spending_model"):
            return  # before this mixin's initialize ran
        names = {account.id: name for name, account in self.staff.items()}
        rows = self.run(Expense.select(Expense.id, Expense.submitted_by, Expense.decided_by, Expense.override_by))
        assert len(rows) == len(self.spending_model.expenses)
        for row in rows:
            assert row["decided_by"] != row["submitted_by"] and row["override_by"] not in (
                row["submitted_by"],
                row["decided_by"] if row["override_by"] else -1,
            )
        for model in self.spending_model.expenses:
            expense = self.run(self.spending.expense(model.id))
            assert (expense.status, names.get(expense.decided_by), names.get(expense.override_by)) == (
                model.status,
                model.decider,
                model.overrider,
            ), model
            assert expense.history[-1].to_status == expense.status.value
            self.booked_as_its_life_says(expense.seqs, model)
        for line in LINES:
            assert self.run(self.spending.remaining(self.period, line)) == Money(self.remaining(line))

    def booked_as_its_life_says(self, seqs: tuple[int, ...], model: ModelExpense) -> None:
        net: dict[str, int] = {}
        for seq in seqs:
            entry = self.model.entry(seq)
            assert entry.managed and (entry.reference in (f"expense:{model.id}", f"reverses:{entry.reverses}"))
            for account, cents in entry.postings:
                net[account] = net.get(account, 0) + cents
        expense_account, amount = f"expenses:{model.line}", model.amount
        expected = {
            ExpenseStatus.submitted: {},
            ExpenseStatus.rejected: {},
            ExpenseStatus.approved: {expense_account: amount, "liabilities:payables": -amount},
            ExpenseStatus.paid: {expense_account: amount, "liabilities:payables": 0, "assets:bank": -amount},
            ExpenseStatus.reversed: dict.fromkeys(net, 0),
        }[model.status]
        assert net == expected, (model, net)
        count = {
            ExpenseStatus.submitted: 0,
            ExpenseStatus.rejected: 0,
            ExpenseStatus.approved: 1,
            ExpenseStatus.paid: 2,
        }
        if model.status in count:
            assert len(seqs) == count[model.status]
        else:
            assert len(seqs) in (2, 4)
