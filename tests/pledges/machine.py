"""Pledge rules for the ledger's state machine (tests/ledger/test_properties.py).

The machine pledges, changes, cancels, pays and closes rounds through `PledgeService` alongside
its own journal rules. What the service books is taken into the machine's journal model
(`absorb`), after checking it is what the pledge's life says it should be; the ledger's
invariants then hold those entries to the same books. The pledges' own invariants compare the
database with `PledgeModel` after every step:

- every pledge has the status, amount and payments the model expects;
- a pledge is in the journal exactly while it is due or later: its standing `pledge_due` entry
  books its amount, every earlier one is reversed;
- an organisation is covered at most once per round, and only by a live pledge;
- an open equal-split round's live pledges owe exactly its target, in shares a cent apart at most.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, precondition, rule

from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.keys import CostSharingKey, KeyKind, equal_shares
from funding.pledges.service import (
    RECEIVABLE,
    AlreadyCovered,
    Change,
    NewPledge,
    PledgeService,
    RoundNotOpen,
)
from funding.pledges.tables import BOOKED_STATUSES, LIVE_STATUSES, PledgeCover, PledgeSource, PledgeStatus, RoundModel
from funding.programme.service import ProgrammeService

TODAY = date(2026, 3, 2)
ORGANISATIONS = 6
ROUNDS = {
    # slug: (model, key, target in euros)
    "keep": (RoundModel.keep_it_all, CostSharingKey(kind=KeyKind.flat, amount_cents=100_000), 5_000),
    "all": (RoundModel.all_or_nothing, CostSharingKey(kind=KeyKind.flat, amount_cents=100_000), 3_000),
    "equal": (RoundModel.all_or_nothing, CostSharingKey(kind=KeyKind.equal_split), 1_000),
}
PLEDGE_AMOUNTS = st.sampled_from([100_000, 150_000, 300_000]) | st.integers(1, 500_000)
"""Cents: round amounts that meet a target now and then, and any others."""


@dataclass
class ModelPledge:
    token: str
    round: str
    organisation: int
    members: tuple[int, ...]
    amount: int
    status: PledgeStatus
    paid: int = 0


@dataclass
class PledgeModel:
    rounds: dict[str, str] = field(default_factory=lambda: dict.fromkeys(ROUNDS, "open"))
    pledges: list[ModelPledge] = field(default_factory=list)

    def covered(self, slug: str) -> set[int]:
        return {
            org
            for p in self.pledges
            if p.round == slug and p.status in LIVE_STATUSES
            for org in (p.organisation, *p.members)
        }

    def changeable(self) -> list[int]:
        return [
            i
            for i, p in enumerate(self.pledges)
            if p.status in (PledgeStatus.conditional, PledgeStatus.due) and not p.paid and p.round != "equal"
            if self.rounds[p.round] == "open"
        ]

    def cancellable(self) -> list[int]:
        return [
            i
            for i, p in enumerate(self.pledges)
            if p.status in (PledgeStatus.conditional, PledgeStatus.due) and not p.paid
            if self.rounds[p.round] == "open"  # after the close, only staff may cancel
        ]

    def closable(self) -> list[str]:
        """Open rounds with pledges standing: closing one decides something."""
        return sorted({p.round for p in self.pledges if p.status in LIVE_STATUSES and self.rounds[p.round] == "open"})

    def payable(self) -> list[int]:
        return [i for i, p in enumerate(self.pledges) if p.status in (PledgeStatus.due, PledgeStatus.partially_paid)]


def pledge_index(pick):
    """One of what `pick(model)` lists (an index into the model's pledges, or a round's slug)."""
    return st.runner().flatmap(lambda machine: st.sampled_from(pick(machine.pledge_model)))


def has_pledges(pick):
    return precondition(lambda machine: bool(pick(machine.pledge_model)))


class PledgeRules:
    """A mixin for `LedgerMachine`: uses its `run`, `model` and `ledger`."""

    JOURNAL_KINDS: tuple[str, ...] = ()
    """What other mixins' services book besides the pledges' own entries."""

    @initialize()
    def a_programme_year_with_rounds_and_organisations(self):
        self.pledge_model = PledgeModel()
        self.pledges = PledgeService(self.ledger, clock=lambda: datetime(2026, 3, 2, 9, tzinfo=UTC))
        programmes = ProgrammeService(self.ledger)
        programme = self.run(programmes.create_programme(slug="p", name="Programme"))
        period = self.run(
            programmes.add_period(programme, name="2026", starts_on=date(2026, 1, 1), ends_on=date(2026, 12, 31))
        )
        self.run(programmes.add_budget_line(period, code="events", name="Events", amount=Money.euros(1000)))
        registry = OrganisationService()
        self.organisations = [
            self.run(registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {n}", population=1000 * n))
            for n in range(1, ORGANISATIONS + 1)
        ]
        for slug, (model, key, target) in ROUNDS.items():
            self.run(
                self.pledges.create_round(
                    slug=slug,
                    period_id=period,
                    name=slug,
                    target=Money.euros(target),
                    opens_on=date(2026, 1, 1),
                    closes_on=date(2026, 12, 31),
                    model=model,
                    key=key,
                )
            )
        self.run(self.ledger.open_account("assets:bank", "Bankrekening"))  # where transfers arrive
        self.model.accounts.update(a["name"] for a in self.run(self.ledger.accounts()))

    # -- rules ------------------------------------------------------------------------------------
    @rule(
        slug=st.sampled_from(list(ROUNDS)),
        organisation=st.integers(0, ORGANISATIONS - 1),
        members=st.sets(st.integers(0, ORGANISATIONS - 1), max_size=2),
        euros=PLEDGE_AMOUNTS,
    )
    def pledge(self, slug, organisation, members, euros):
        org = self.organisations[organisation]
        member_ids = tuple(self.organisations[m] for m in sorted(members - {organisation}))
        new = NewPledge(
            organisation_id=org,
            contact_name="Contact",
            contact_email="contact@example.org",
            amount=Money(euros),
            members=member_ids,
            source=PledgeSource.staff,  # staff may record a pledge for members from any organisation
        )
        asked = {org, *member_ids}
        if self.pledge_model.rounds[slug] != "open":
            self.pledge_refused(RoundNotOpen, self.pledges.pledge(slug, new))
            return
        if asked & self.pledge_model.covered(slug):
            self.pledge_refused(AlreadyCovered, self.pledges.pledge(slug, new))
            return
        pledged = self.run(self.pledges.pledge(slug, new))
        model, _, _ = ROUNDS[slug]
        status = PledgeStatus.conditional if model is RoundModel.all_or_nothing else PledgeStatus.due
        assert pledged.status is status
        self.pledge_model.pledges.append(ModelPledge(pledged.token, slug, org, member_ids, euros, status))
        self.absorb()

    @has_pledges(PledgeModel.changeable)
    @rule(index=pledge_index(PledgeModel.changeable), euros=PLEDGE_AMOUNTS)
    def change_amount(self, index, euros):
        pledge = self.pledge_model.pledges[index]
        self.run(self.pledges.change(pledge.token, Change(amount=Money(euros))))
        pledge.amount = euros
        self.absorb()

    @has_pledges(PledgeModel.cancellable)
    @rule(index=pledge_index(PledgeModel.cancellable))
    def cancel(self, index):
        pledge = self.pledge_model.pledges[index]
        self.run(self.pledges.cancel(pledge.token, reason="machine"))
        pledge.status = PledgeStatus.cancelled
        self.absorb()

    @has_pledges(PledgeModel.payable)
    @rule(index=pledge_index(PledgeModel.payable), part=st.integers(1, 3), data=st.data())
    def receive(self, index, part, data):
        pledge = self.pledge_model.pledges[index]
        amount = max(1, (pledge.amount - pledge.paid) // part)
        key = f"machine-payment:{next(self.counter)}"
        record = self.pledges.receive(
            self.run(self.pledges.pledge_by_token(pledge.token)).id,
            Money(amount),
            occurred_on=TODAY,
            kind="bank_transfer",
            account="assets:bank",
            reference=None,
            idempotency_key=key,
        )
        self.run(record)
        pledge.paid += amount
        pledge.status = PledgeStatus.paid if pledge.paid >= pledge.amount else PledgeStatus.partially_paid
        self.absorb()

    @has_pledges(PledgeModel.closable)
    @rule(slug=pledge_index(PledgeModel.closable))
    def close(self, slug):
        fund = self.run(self.pledges.close_round(slug, reason="machine"))
        if self.pledge_model.rounds[slug] == "open":
            live = [p for p in self.pledge_model.pledges if p.round == slug and p.status in LIVE_STATUSES]
            model, key, target = ROUNDS[slug]
            if model is RoundModel.keep_it_all:
                expected = "closed"
            elif key.kind is KeyKind.equal_split:
                expected = "succeeded" if live else "failed"
            else:
                expected = "succeeded" if sum(p.amount for p in live) >= target * 100 else "failed"
            self.pledge_model.rounds[slug] = expected
            for p in live:
                if p.status is PledgeStatus.conditional:
                    p.status = PledgeStatus.due if expected == "succeeded" else PledgeStatus.released
        assert fund.status.value == self.pledge_model.rounds[slug]
        self.absorb()

    # -- helpers ----------------------------------------------------------------------------------
    def pledge_refused(self, error, coroutine) -> None:
        self.refused(error, coroutine)

    def absorb(self) -> None:
        """Take what the pledge service booked into the journal model, as the service's."""
        from tests.ledger.test_properties import ModelEntry

        self.sync_equal_split_amounts()
        for record in self.run(self.ledger.entries_after(self.model.head_seq, limit=500)):
            assert record.kind in ("pledge_due", "reversal", "bank_transfer", *self.JOURNAL_KINDS), record
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

    def sync_equal_split_amounts(self) -> None:
        """An equal split's amounts follow from who joined, in join order."""
        if self.pledge_model.rounds["equal"] != "open":
            return  # decided: the amounts stay as they were at the close
        live = [p for p in self.pledge_model.pledges if p.round == "equal" and p.status in LIVE_STATUSES]
        covered = sum(1 + len(p.members) for p in live)
        shares = iter(equal_shares(Money.euros(ROUNDS["equal"][2]), covered))
        for p in live:
            p.amount = sum(next(shares).cents for _ in range(1 + len(p.members)))

    # -- invariants -------------------------------------------------------------------------------
    @invariant()
    def pledges_their_bookings_and_covers_are_as_the_model_says(self):
        if not hasattr(self, "pledge_model"):
            return  # before this mixin's initialize ran
        expected = {p.token: p for p in self.pledge_model.pledges}
        covers = self.run(PledgeCover.select(PledgeCover.round, PledgeCover.organisation))
        assert len({(c["round"], c["organisation"]) for c in covers}) == len(covers)
        for slug in ROUNDS:
            fund = self.run(self.pledges.round(slug))
            actual = self.run(self.pledges.pledges(fund.id))
            assert {p.token for p in actual} == {p.token for p in expected.values() if p.round == slug}
            for pledge in actual:
                model = expected[pledge.token]
                assert (pledge.status, pledge.amount.cents, pledge.paid.cents) == (
                    model.status,
                    model.amount,
                    model.paid,
                ), model
                self.booked_exactly_while_due(pledge, model)
            assert {c["organisation"] for c in covers if c["round"] == fund.id} == self.pledge_model.covered(slug)
        live = [p for p in self.pledge_model.pledges if p.round == "equal" and p.status in LIVE_STATUSES]
        if live and self.pledge_model.rounds["equal"] == "open":
            assert sum(p.amount for p in live) == ROUNDS["equal"][2] * 100

    def booked_exactly_while_due(self, pledge, model: ModelPledge) -> None:
        """Its standing `pledge_due` entry books its amount; every earlier one is reversed."""
        bookings = [e for e in self.model.entries if e.kind == "pledge_due" and e.reference == pledge.reference]
        standing = [e for e in bookings if e.seq not in self.model.reversed_by]
        if model.status in BOOKED_STATUSES:
            assert [e.seq for e in standing] == [pledge.booked_seq]
            assert dict(standing[0].postings)[RECEIVABLE] == model.amount
        else:
            assert standing == [] and pledge.booked_seq is None
