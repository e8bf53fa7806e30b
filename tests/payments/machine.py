"""Payment rules for the ledger's state machine (tests/ledger/test_properties.py).

Alongside the pledge rules, the machine pays due pledges through the real client and the Mollie
stand-in, picks checkout outcomes, delivers webhooks (once, or several at the same moment),
refunds, adds and reverses chargebacks, lets refunds fail, and reconciles. Its model keeps, per
payment attempt, what the service should have booked from what Mollie said when it was asked:
the same order (payment, then refunds, then chargebacks), money applied to the pledge while it
owes, the rest held on liabilities:refunds and paid back from there first. After every step:

- what the services booked to `assets:mollie` is exactly what the model booked: paid − refunded
  − charged back, reversals and failed refunds back in (the machine's own journal rules book to
  that account too, so only the services' entries count);
- what they booked to `liabilities:refunds` is exactly the model's held money;
- each Mollie object is booked once per kind (one booking row per model booking);
- the pledges' paid amounts and statuses are the model's (the pledge rules' own invariant).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import invariant, precondition, rule

from funding.mollie_standin.standin import MollieStandin
from funding.money import Money
from funding.payments.mollie import Mollie, PaymentState
from funding.payments.service import PaymentError, PaymentService
from funding.payments.tables import MollieBooking
from funding.pledges.tables import BOOKED_STATUSES, PledgeStatus

_STANDIN: list[MollieStandin] = []
_STARTING = threading.Lock()
SYNCED_BY_RECONCILE = ("open", "pending", "authorized", "paid")


def standin() -> MollieStandin:
    """One stand-in for every run of the machine (reset per run)."""
    with _STARTING:
        if not _STANDIN:
            _STANDIN.append(MollieStandin(webhook_mode="queue").start())
        return _STANDIN[0]


@dataclass
class ModelAttempt:
    pledge: int
    """Index into the pledge model's pledges."""
    mollie_id: str
    amount: int
    local: str = "open"
    """The status our database should hold: as last synced, only ever forward."""
    booked: set[str] = field(default_factory=set)
    held: int = 0
    net: int = 0


def attempt_index(pick):
    return st.runner().flatmap(lambda machine: st.sampled_from(pick(machine)))


class PaymentRules:
    """A mixin for `LedgerMachine` with `PledgeRules`: uses `run`, `run_all`, `pledges`, `pledge_model`."""

    JOURNAL_KINDS = ("payment", "refund", "refund_failed", "chargeback", "chargeback_reversed")

    @property
    def payments(self) -> PaymentService:
        if not hasattr(self, "_payments"):
            self.standin = standin()
            self.standin.reset()
            self.standin.webhook_mode = "queue"
            self.mollie = Mollie("test_machine", self.standin.url, timeout=(2, 5))
            self._payments = PaymentService(self.pledges, self.mollie, base_url="http://machine.local")
            self.attempts: list[ModelAttempt] = []
        return self._payments

    def open_attempts(self) -> list[int]:
        return [i for i, a in enumerate(getattr(self, "attempts", [])) if self._remote(a)["status"] == "open"]

    def all_attempts(self) -> list[int]:
        return list(range(len(getattr(self, "attempts", []))))

    def refundable_attempts(self) -> list[int]:
        return [i for i, a in enumerate(getattr(self, "attempts", [])) if a.net > 0]

    def paid_attempts(self) -> list[int]:
        return [i for i, a in enumerate(getattr(self, "attempts", [])) if self._remote(a).get("paidAt")]

    def pending_refunds(self) -> list[str]:
        return [
            refund.id
            for a in getattr(self, "attempts", [])
            for refund in self.standin.store.get(a.mollie_id).refunds.values()
            if refund.status in ("pending", "processing")
        ]

    def standing_chargebacks(self) -> list[str]:
        return [
            chargeback.id
            for a in getattr(self, "attempts", [])
            for chargeback in self.standin.store.get(a.mollie_id).chargebacks.values()
            if chargeback.reversed_at is None
        ]

    # -- rules ------------------------------------------------------------------------------------
    @precondition(lambda self: hasattr(self, "pledge_model") and self.pledge_model.payable())
    @rule(data=st.data(), outcome=st.sampled_from(["paid", "paid", "failed", None]))
    def pay_online(self, data, outcome):
        """'Pay now', and what the payer then picks at the checkout (None: not yet)."""
        index = data.draw(st.sampled_from(self.pledge_model.payable()))
        pledge = self.pledge_model.pledges[index]
        payments = self.payments  # made on first use, with the attempts' model
        mine = [a for a in self.attempts if a.pledge == index]
        # The latest attempt, still open here and for what is owed, is asked about first.
        again = (
            mine[-1] if mine and mine[-1].local == "open" and mine[-1].amount == pledge.amount - pledge.paid else None
        )
        state = self.run(self.mollie.payment(again.mollie_id)) if again else None
        started = self.run(payments.start(pledge.token))
        if again and state:
            self.apply(again, state)
            self.absorb()
        if started.mollie_id not in {a.mollie_id for a in self.attempts}:
            assert started.amount.cents == pledge.amount - pledge.paid
            self.attempts.append(ModelAttempt(index, started.mollie_id, started.amount.cents))
        if outcome and self.standin.payment(started.mollie_id)["status"] == "open":
            self.standin.set_status(started.mollie_id, outcome)

    @precondition(lambda self: self.open_attempts())
    @rule(index=attempt_index(lambda m: m.open_attempts()), outcome=st.sampled_from(["paid", "canceled", "expired"]))
    def checkout(self, index, outcome):
        self.standin.set_status(self.attempts[index].mollie_id, outcome)

    @precondition(lambda self: self.all_attempts())
    @rule(index=attempt_index(lambda m: m.all_attempts()), copies=st.integers(1, 3))
    def webhook(self, index, copies):
        """Mollie calls, maybe several times at the same moment: one sync's worth is booked."""
        attempt = self.attempts[index]
        state = self.run(self.mollie.payment(attempt.mollie_id))
        self.run_all([self.payments.sync(attempt.mollie_id) for _ in range(copies)])
        self.apply(attempt, state)
        self.absorb()

    @precondition(lambda self: self.refundable_attempts())
    @rule(index=attempt_index(lambda m: m.refundable_attempts()), part=st.integers(1, 3))
    def refund(self, index, part):
        attempt = self.attempts[index]
        self.apply(attempt, self.run(self.mollie.payment(attempt.mollie_id)))  # the refund syncs first
        if attempt.net <= 0:  # charged back meanwhile: nothing left to refund
            with pytest.raises(PaymentError):
                self.run(self.payments.refund(attempt.mollie_id, Money(1), reason="machine"))
            self.absorb()
            return
        amount = max(1, attempt.net // part)
        self.run(self.payments.refund(attempt.mollie_id, Money(amount), reason="machine"))
        self.apply(attempt, self.run(self.mollie.payment(attempt.mollie_id)))
        self.absorb()

    @precondition(lambda self: self.pending_refunds())
    @rule(data=st.data(), status=st.sampled_from(["processing", "refunded", "failed", "canceled"]))
    def settle_refund(self, data, status):
        refund_id = data.draw(st.sampled_from(self.pending_refunds()))
        if status == "canceled" and self.standin.store.find_refund(refund_id)[1].status != "pending":
            status = "failed"
        self.standin.settle_refund(refund_id, status)

    @precondition(lambda self: self.paid_attempts())
    @rule(index=attempt_index(lambda m: m.paid_attempts()), part=st.integers(1, 2))
    def chargeback(self, index, part):
        attempt = self.attempts[index]
        self.standin.add_chargeback(attempt.mollie_id, max(1, attempt.amount // part))

    @precondition(lambda self: self.standing_chargebacks())
    @rule(data=st.data())
    def reverse_chargeback(self, data):
        self.standin.reverse_chargeback(data.draw(st.sampled_from(self.standing_chargebacks())))

    @precondition(lambda self: self.all_attempts())
    @rule()
    def reconcile(self):
        states = {
            a.mollie_id: self.run(self.mollie.payment(a.mollie_id))
            for a in self.attempts
            if a.local in SYNCED_BY_RECONCILE
        }
        self.run(self.payments.reconcile())
        for attempt in self.attempts:
            if attempt.mollie_id in states:
                self.apply(attempt, states[attempt.mollie_id])
        self.absorb()

    # -- the model --------------------------------------------------------------------------------
    def apply(self, attempt: ModelAttempt, state: PaymentState) -> None:
        """Book in the model what a sync books, in the service's order."""
        if state.paid:
            self.book(attempt, "paid", attempt.mollie_id, state.amount.cents)
        for refund in state.refunds:
            if refund.is_live:
                self.book(attempt, "refund", refund.id, refund.amount.cents)
            elif f"{refund.id}:refund" in attempt.booked:
                self.book(attempt, "refund_undone", refund.id, refund.amount.cents)
        for chargeback in state.chargebacks:
            self.book(attempt, "chargeback", chargeback.id, chargeback.amount.cents)
            if chargeback.reversed:
                self.book(attempt, "chargeback_reversed", chargeback.id, chargeback.amount.cents)
        if state.paid or attempt.local == "paid":
            attempt.local = "paid"
        elif attempt.local in ("open", "pending", "authorized"):
            attempt.local = state.status

    def book(self, attempt: ModelAttempt, kind: str, object_id: str, amount: int) -> None:
        key = f"{object_id}:{kind}"
        if key in attempt.booked:
            return
        attempt.booked.add(key)
        event(f"mollie booking: {kind}")
        pledge = self.pledge_model.pledges[attempt.pledge]
        if kind in ("paid", "refund_undone", "chargeback_reversed"):
            owes = max(pledge.amount - pledge.paid, 0) if pledge.status in BOOKED_STATUSES else 0
            applied = min(amount, owes)
            attempt.held += amount - applied
            attempt.net += amount
            pledge.paid += applied
        else:
            from_held = min(amount, max(attempt.held, 0))
            applied = min(amount - from_held, pledge.paid)
            attempt.held -= amount - applied
            attempt.net -= amount
            pledge.paid -= applied
        if applied and pledge.status in BOOKED_STATUSES:
            if pledge.paid >= pledge.amount:
                pledge.status = PledgeStatus.paid
            else:
                pledge.status = PledgeStatus.partially_paid if pledge.paid else PledgeStatus.due

    def _remote(self, attempt: ModelAttempt) -> dict:
        return self.standin.payment(attempt.mollie_id)

    # -- invariants -------------------------------------------------------------------------------
    @invariant()
    def mollie_and_refunds_hold_what_the_model_booked(self):
        if not getattr(self, "attempts", None):
            return
        # The machine's own journal rules book to these accounts too: count what the services booked.
        booked = [e for e in self.model.entries if e.managed and e.kind in (*self.JOURNAL_KINDS, "bank_transfer")]

        def balance(account: str) -> int:
            return sum(amount for entry in booked for name, amount in entry.postings if name == account)

        assert balance("assets:mollie") == sum(a.net for a in self.attempts)
        assert balance("liabilities:refunds") == -sum(a.held for a in self.attempts)
        assert self.run(MollieBooking.count()) == sum(len(a.booked) for a in self.attempts)
