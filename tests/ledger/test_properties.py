"""Ledger properties: a Hypothesis state machine drives the journal service and checks, after
every step, that the books still add up.

Each run gets a fresh migrated database (SQLite or PostgreSQL, as `DATABASE_URL` says) and its
own event loop; Hypothesis stateful machines are synchronous, so every service call goes through
`LedgerMachine.run`. The machine keeps a plain-Python model of what the journal should hold, and
its invariants compare the database with it after every rule:

- trial balance: every account balance together sums to zero;
- the monthly totals (`balances()`), the postings themselves (`balances_from_postings()`) and the
  model agree, account by account;
- the head's `seq` is the number of entries the model expects, and its hash is the model's;
- the chain verifies from `seq` 1, without gaps.

Default runs are short enough for CI; `FUNDING_SLOW=1` selects the long profile:

    pytest tests/ledger/test_properties.py                   # 25 runs of up to 30 steps
    FUNDING_SLOW=1 pytest tests/ledger/test_properties.py    # 200 runs of up to 60 steps
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, assume, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from funding import db
from funding.demo import ACCOUNTS
from funding.ledger.chain import REVERSAL_KIND, EntryRecord, entry_hash
from funding.ledger.service import (
    ACCOUNT_ROOTS,
    FIRST_DAY,
    MAX_DAYS_AHEAD,
    MAX_POSTING,
    AlreadyReversed,
    CannotReverse,
    EntryNotFound,
    IdempotencyConflict,
    InvalidAmount,
    LedgerError,
    LedgerService,
    Leg,
    UnbalancedEntry,
    UnknownAccount,
)
from funding.money import Money
from tests.conftest import DATABASES
from tests.payments.machine import PaymentRules
from tests.pledges.machine import PledgeRules
from tests.spending.machine import SpendingRules

settings.register_profile(
    "ledger-machine",
    max_examples=15,
    stateful_step_count=25,
    deadline=None,  # a step is a few database round trips; their time is not the property
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "ledger-machine-slow", parent=settings.get_profile("ledger-machine"), max_examples=200, stateful_step_count=60
)
MACHINE_SETTINGS = settings.get_profile(
    "ledger-machine-slow" if os.environ.get("FUNDING_SLOW") == "1" else "ledger-machine"
)

POOL_SIZE = 10
"""PostgreSQL connections per run: more than the concurrent rules start at once."""
CHART = (
    "assets:bank",
    "assets:mollie",
    "income:contributions",
    "expenses:salaries",
    "liabilities:payables",
    "equity:opening",
)
"""The accounts every run starts with (from DESIGN.md's chart); `open_account` adds more."""
AT_ONCE = 8 if DATABASES.postgres else 5
"""Most appends the concurrent rules start at once (SQLite's writers queue with back-off sleeps)."""

# -- strategies -----------------------------------------------------------------------------------
# Text the journal stores as given. NUL is left out: PostgreSQL cannot store it in text columns
# (see `test_text_the_database_cannot_store_is_refused_before_it_is_sent`).
TEXT_CHARS = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
DESCRIPTIONS = st.text(TEXT_CHARS, min_size=1, max_size=80).filter(str.strip)
KINDS = st.from_regex(r"[a-z][a-z_]{0,39}", fullmatch=True).filter(lambda kind: kind != REVERSAL_KIND)
"""Kinds of entries a booker may give; `reversal` is the journal's own, for reversals."""
REFERENCES = st.none() | st.text(TEXT_CHARS, max_size=200)
DATES = st.dates(min_value=FIRST_DAY, max_value=date.today() + timedelta(days=MAX_DAYS_AHEAD))
"""From the euro's first day to a year ahead: what the journal accepts."""
AMOUNTS = st.one_of(
    st.just(1),  # one cent
    st.integers(1, 99),
    st.integers(100, 10_000_00),
    st.integers(1, MAX_POSTING.cents),
    st.just(MAX_POSTING.cents),  # EUR 1 billion, the largest posting allowed
)
"""Positive cents: a leg's size before its sign."""
SEGMENT = st.from_regex(r"[a-z0-9][a-z0-9-]{0,11}", fullmatch=True)
NEW_ACCOUNTS = st.builds(
    lambda root, parts: ":".join([root, *parts]),
    st.sampled_from(ACCOUNT_ROOTS),
    st.lists(SEGMENT, min_size=1, max_size=2),
)
MALFORMED_ACCOUNTS = st.sampled_from(["bogus", "assets", "assets:", "assets::bank", ":bank", "cash:register", ""])


@st.composite
def parts_of(draw, total: int) -> list[int]:
    """`total` cut into one to three positive whole-cent parts."""
    count = draw(st.integers(1, min(3, total)))
    if count == 1:
        return [total]
    cuts = draw(st.lists(st.integers(1, total - 1), min_size=count - 1, max_size=count - 1, unique=True))
    bounds = [0, *sorted(cuts), total]
    return [high - low for low, high in itertools.pairwise(bounds)]


@st.composite
def balanced_legs(draw, accounts) -> list[Leg]:
    """Two to six legs over `accounts` (a bundle or strategy) that sum to zero, in any order.

    Debits and credits each split one total, so every leg is between 1 cent and MAX_POSTING;
    legs drawn for the same account are merged into one (the journal takes each account once)."""
    total = draw(AMOUNTS)
    debits = [(draw(accounts), cents) for cents in draw(parts_of(total))]
    credits = [(draw(accounts), -cents) for cents in draw(parts_of(total))]
    merged: Counter[str] = Counter()
    for account, cents in debits + credits:
        merged[account] += cents
    legs = [Leg(account, Money(cents)) for account, cents in merged.items() if cents]
    assume(len(legs) >= 2)
    return draw(st.permutations(legs))


@dataclass(frozen=True)
class EntrySpec:
    """What a rule asks the service to book (before the service strips kind and description)."""

    kind: str
    description: str
    occurred_on: date
    legs: tuple[Leg, ...]
    reference: str | None = None

    def kwargs(self) -> dict:
        return {
            "kind": self.kind,
            "description": self.description,
            "occurred_on": self.occurred_on,
            "legs": list(self.legs),
            "reference": self.reference,
        }


def entry_specs(accounts) -> st.SearchStrategy[EntrySpec]:
    return st.builds(
        EntrySpec,
        kind=KINDS,
        description=DESCRIPTIONS,
        occurred_on=DATES,
        legs=balanced_legs(accounts).map(tuple),
        reference=REFERENCES,
    )


# -- the model ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelEntry:
    seq: int
    hash: str
    kind: str
    description: str
    occurred_on: date
    postings: tuple[tuple[str, int], ...]
    reference: str | None
    idempotency_key: str | None = None
    reverses: int | None = None
    managed: bool = False
    """Booked by a domain service (a pledge), which alone may reverse it."""


@dataclass
class LedgerModel:
    """What the journal should hold, kept in plain Python by the machine."""

    accounts: set[str] = field(default_factory=set)
    entries: list[ModelEntry] = field(default_factory=list)
    reversed_by: dict[int, int] = field(default_factory=dict)
    by_key: dict[str, int] = field(default_factory=dict)
    month_totals: Counter = field(default_factory=Counter)
    """(account, first day of month) -> cents; an account posted to is listed even at zero."""

    @property
    def head_seq(self) -> int:
        return len(self.entries)

    @property
    def head_hash(self) -> str:
        return self.entries[-1].hash if self.entries else "0" * 64

    def entry(self, seq: int) -> ModelEntry:
        return self.entries[seq - 1]

    def add(self, entry: ModelEntry) -> None:
        assert entry.seq == self.head_seq + 1, f"model expected seq {self.head_seq + 1}, got {entry.seq}"
        self.entries.append(entry)
        if entry.idempotency_key is not None:
            self.by_key[entry.idempotency_key] = entry.seq
        if entry.reverses is not None:
            self.reversed_by[entry.reverses] = entry.seq
        month = entry.occurred_on.replace(day=1)
        for account, cents in entry.postings:
            self.month_totals[(account, month)] += cents

    def reversible(self) -> list[int]:
        """Seqs of ordinary entries not reversed yet."""
        return [e.seq for e in self.entries if e.reverses is None and e.seq not in self.reversed_by and not e.managed]

    def keyed(self) -> list[int]:
        """Seqs of entries booked with an idempotency key."""
        return sorted(self.by_key.values())

    def reversals(self) -> list[int]:
        return sorted(self.reversed_by.values())

    def balances(self, start: date | None = None, end: date | None = None) -> dict[str, Money]:
        totals: dict[str, int] = {}
        for (account, month), cents in self.month_totals.items():
            if (start is None or month >= start.replace(day=1)) and (end is None or month <= end.replace(day=1)):
                totals[account] = totals.get(account, 0) + cents
        return {account: Money(cents) for account, cents in totals.items()}


def from_model(pick) -> st.SearchStrategy:
    """One of the things `pick(model)` lists in the running machine (give the rule a
    precondition that the list is not empty)."""
    return st.runner().flatmap(lambda machine: st.sampled_from(pick(machine.model)))


REVERSIBLE = from_model(LedgerModel.reversible)
KEYED = from_model(LedgerModel.keyed)
REVERSALS = from_model(LedgerModel.reversals)


def has(pick):
    return precondition(lambda machine: bool(pick(machine.model)))


# -- the machine ----------------------------------------------------------------------------------
class JournalMachine(RuleBasedStateMachine):
    """A fresh database per run, the journal model, helpers for rules and the ledger's
    invariants: the base of every machine below. `LedgerMachine` adds the journal's own rules;
    a domain's rules come as mixins (see `LedgerMachine`)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.previous_engine = db.current_engine()
        self.url = self.run(DATABASES.fresh())
        engine = db.engine_for_url(self.url)
        db.bind(engine)
        self.postgres = db.is_postgres(engine)
        if self.postgres:  # as the app runs: a pool, with room for the concurrent rules
            self.run(engine.start_connection_pool(min_size=1, max_size=POOL_SIZE))
        self.ledger = LedgerService()
        self.model = LedgerModel()
        self.counter = itertools.count(1)

    def teardown(self) -> None:
        try:
            if self.postgres:
                self.run(db.current_engine().close_connection_pool())
            db.bind(self.previous_engine)
            self.run(DATABASES.drop(self.url))
        finally:
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    # -- helpers for rules ------------------------------------------------------------------------
    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def run_all(self, coroutines, *, return_exceptions: bool = False) -> list:
        """Run coroutines at the same time (`asyncio.gather`) on the machine's loop."""

        async def together():
            return await asyncio.gather(*coroutines, return_exceptions=return_exceptions)

        return self.run(together())

    def unique(self, text: str) -> str:
        """`text` made unique in this run, so entries can be told apart."""
        return f"{text} #{next(self.counter)}"

    def expect(
        self, record: EntryRecord, spec: EntrySpec, *, key: str | None = None, reverses: int | None = None
    ) -> int:
        """Check a booked entry against what was asked, chain it onto the model; return its seq."""
        assert record.seq == self.model.head_seq + 1, f"seq {record.seq} after head {self.model.head_seq}"
        assert record.prev_hash == self.model.head_hash
        assert (record.kind, record.description) == (spec.kind.strip(), spec.description.strip())
        assert (record.occurred_on, record.reference, record.reverses) == (spec.occurred_on, spec.reference, reverses)
        postings = tuple((leg.account, leg.amount.cents) for leg in spec.legs)
        assert tuple((p.account, p.amount) for p in record.postings) == postings
        assert record.hash == entry_hash(
            seq=record.seq,
            prev_hash=record.prev_hash,
            occurred_on=record.occurred_on,
            recorded_at=record.recorded_at,
            kind=record.kind,
            description=record.description,
            reference=record.reference,
            postings=postings,
        )
        self.model.add(
            ModelEntry(
                seq=record.seq,
                hash=record.hash,
                kind=record.kind,
                description=record.description,
                occurred_on=record.occurred_on,
                postings=postings,
                reference=record.reference,
                idempotency_key=key,
                reverses=reverses,
            )
        )
        return record.seq

    def refused(self, error: type[Exception], coroutine) -> None:
        """The request raises `error` (a `LedgerError`) and the head does not move."""
        with pytest.raises(error):
            self.run(coroutine)
        head = self.run(self.ledger.head())
        assert (head.seq, head.hash) == (self.model.head_seq, self.model.head_hash)

    def spec_of(self, seq: int) -> EntrySpec:
        entry = self.model.entry(seq)
        return EntrySpec(
            kind=entry.kind,
            description=entry.description,
            occurred_on=entry.occurred_on,
            legs=tuple(Leg(account, Money(cents)) for account, cents in entry.postings),
            reference=entry.reference,
        )

    # -- invariants, after every step -------------------------------------------------------------
    @invariant()
    def trial_balance_is_zero(self):
        balances = self.run(self.ledger.balances())
        assert sum(balance.cents for balance in balances.values()) == 0

    @invariant()
    def monthly_totals_postings_and_model_agree(self):
        from_totals = self.run(self.ledger.balances())
        from_postings = self.run(self.ledger.balances_from_postings())
        expected = self.model.balances()
        note(f"expected balances: {expected}")
        assert from_totals == from_postings == expected

    @invariant()
    def head_is_the_models_last_entry(self):
        head = self.run(self.ledger.head())
        assert (head.seq, head.hash) == (self.model.head_seq, self.model.head_hash)

    @invariant()
    def chain_verifies_without_gaps(self):
        result = self.run(self.ledger.verify())
        assert result.ok, f"seq {result.first_bad_seq}: {result.problem}"
        assert result.checked == result.head_seq == self.model.head_seq


class LedgerMachine(JournalMachine):
    """Random journal histories, checked against `LedgerModel` after every step.

    Adding rules (later issues: pledges, webhooks, bank lines):

    1. Write a `@rule` method here, or in a mixin class that `LedgerMachine` then also inherits
       from. Draw open account names from the `accounts` bundle, and entries from the model:
       `REVERSIBLE`, `KEYED`, `REVERSALS` (with the matching `@has(...)` precondition), or
       `from_model(pick)` for a list of your own. (Entries are drawn from the model rather than
       from bundles because Hypothesis tries rules without a target first, and booking should
       be what a run mostly does.)
    2. Call the services through `self.run(coroutine)`; the database is already bound.
    3. Whatever the rule books in the journal, pass the returned `EntryRecord` to
       `self.expect(record, ...)`, which checks it against what was asked and adds it to the
       model; a refused request is asserted with `self.refused(...)`, which also checks that
       the head did not move. The invariants below then hold the new rules to the same books.
    4. State of the new domain (pledges, bank lines) goes on the model as new fields, with
       `@invariant`s of its own comparing it with the database.
    """

    accounts = Bundle("accounts")

    # -- accounts ---------------------------------------------------------------------------------
    @initialize(target=accounts)
    def open_chart(self):
        for name in CHART:
            self.run(self.ledger.open_account(name, ACCOUNTS.get(name, "")))
        self.model.accounts.update(CHART)
        return multiple(*CHART)

    @rule(target=accounts, name=NEW_ACCOUNTS | accounts, label=st.text(TEXT_CHARS, max_size=40))
    def open_account(self, name, label):
        """Opening is idempotent: an account that is open already stays as it was."""
        before = self.run(self.ledger.accounts())
        self.run(self.ledger.open_account(name, label))
        after = self.run(self.ledger.accounts())
        if name in self.model.accounts:
            assert after == before
        else:
            assert [a["name"] for a in after] == sorted([*(a["name"] for a in before), name])
            self.model.accounts.add(name)
        return name

    # -- appending --------------------------------------------------------------------------------
    @rule(spec=entry_specs(accounts))
    def append(self, spec):
        record = self.run(self.ledger.append(**spec.kwargs()))
        assert self.run(self.ledger.entry(record.seq)) == record  # reads back exactly as hashed
        self.expect(record, spec)

    @rule(spec=entry_specs(accounts), key=st.text(TEXT_CHARS, min_size=1, max_size=180))
    def append_with_idempotency_key(self, spec, key):
        key = self.unique(key)
        record = self.run(self.ledger.append(**spec.kwargs(), idempotency_key=key))
        self.expect(record, spec, key=key)

    @has(LedgerModel.keyed)
    @rule(seq=KEYED)
    def resending_a_key_with_the_same_entry_books_nothing(self, seq):
        entry = self.model.entry(seq)
        again = self.run(self.ledger.append(**self.spec_of(seq).kwargs(), idempotency_key=entry.idempotency_key))
        assert (again.seq, again.hash) == (entry.seq, entry.hash)

    @has(LedgerModel.keyed)
    @rule(seq=KEYED, other=entry_specs(accounts))
    def resending_a_key_with_a_different_entry_is_a_conflict(self, seq, other):
        entry = self.model.entry(seq)
        same = self.spec_of(seq)
        assume(
            (other.kind.strip(), other.description.strip(), other.occurred_on, other.reference, other.legs)
            != (same.kind, same.description, same.occurred_on, same.reference, same.legs)
        )
        self.refused(IdempotencyConflict, self.ledger.append(**other.kwargs(), idempotency_key=entry.idempotency_key))

    @rule(
        spec=entry_specs(accounts),
        flaw=st.sampled_from(
            [
                "unbalanced",
                "one leg",
                "zero leg",
                "over max",
                "unknown account",
                "malformed account",
                "not money",
                "blank description",
                "blank kind",
                "kind too long",
                "account twice",
                "before the euro",
                "years ahead",
            ]
        ),
        data=st.data(),
    )
    def an_invalid_entry_is_refused_and_changes_nothing(self, spec, flaw, data):
        legs, kwargs = list(spec.legs), spec.kwargs()
        position = data.draw(st.integers(0, len(legs) - 1), label="position")
        account = legs[position].account
        if flaw == "unbalanced":
            kwargs["legs"] = [*legs, Leg(account, Money(data.draw(AMOUNTS) * data.draw(st.sampled_from([1, -1]))))]
            error = UnbalancedEntry
        elif flaw == "one leg":
            kwargs["legs"] = [legs[position]]
            error = UnbalancedEntry
        elif flaw == "zero leg":
            kwargs["legs"] = [*legs[:position], Leg(account, Money(0)), *legs[position:]]
            error = InvalidAmount
        elif flaw == "over max":
            too_much = MAX_POSTING + Money(data.draw(AMOUNTS))
            kwargs["legs"] = [*legs, Leg(account, too_much), Leg(legs[0].account, -too_much)]
            error = InvalidAmount
        elif flaw == "unknown account":
            unknown = data.draw(NEW_ACCOUNTS.filter(lambda name: name not in self.model.accounts), label="unknown")
            kwargs["legs"][position] = Leg(unknown, legs[position].amount)
            error = UnknownAccount
        elif flaw == "malformed account":
            kwargs["legs"][position] = Leg(data.draw(MALFORMED_ACCOUNTS), legs[position].amount)
            error = UnknownAccount
        elif flaw == "not money":
            kwargs["legs"] = [Leg(leg.account, leg.amount.cents) for leg in legs]
            error = InvalidAmount
        elif flaw == "blank description":
            kwargs["description"] = data.draw(st.sampled_from(["", " ", "\t\n"]))
            error = LedgerError
        elif flaw == "account twice":
            leg = legs[position]
            half = Money(leg.amount.cents // 2)
            if half.cents == 0:
                kwargs["legs"] = [*legs, Leg(account, Money(1)), Leg(account, Money(-1))]
            else:
                kwargs["legs"][position : position + 1] = [Leg(account, half), Leg(account, leg.amount - half)]
            error = LedgerError
        elif flaw == "before the euro":
            kwargs["occurred_on"] = data.draw(st.dates(max_value=FIRST_DAY - timedelta(days=1)))
            error = LedgerError
        elif flaw == "years ahead":
            kwargs["occurred_on"] = data.draw(st.dates(min_value=date.today() + timedelta(days=MAX_DAYS_AHEAD + 1)))
            error = LedgerError
        elif flaw == "blank kind":
            kwargs["kind"] = data.draw(st.sampled_from(["", "  "]))
            error = LedgerError
        else:
            kwargs["kind"] = "k" * 41
            error = LedgerError
        self.refused(error, self.ledger.append(**kwargs))

    # -- reversing --------------------------------------------------------------------------------
    @has(LedgerModel.reversible)
    @rule(seq=REVERSIBLE, reason=DESCRIPTIONS, occurred_on=DATES)
    def reverse(self, seq, reason, occurred_on):
        original = self.spec_of(seq)
        record = self.run(self.ledger.reverse(seq, reason=reason, occurred_on=occurred_on))
        assert record.kind == "reversal" and record.reference == f"reverses:{seq}"
        undo = EntrySpec(
            kind="reversal",
            description=record.description,
            occurred_on=occurred_on,
            legs=tuple(Leg(leg.account, -leg.amount) for leg in original.legs),
            reference=f"reverses:{seq}",
        )
        self.expect(record, undo, reverses=seq)

    @has(LedgerModel.reversals)
    @rule(seq=REVERSALS, reason=DESCRIPTIONS)
    def an_entry_is_reversed_once_and_a_reversal_never(self, seq, reason):
        """A retry for the same reason gets the reversal already booked; another reason is
        refused; a reversal is not reversed."""
        reversal = self.model.entry(seq)
        retried = self.run(self.ledger.reverse(reversal.reverses, reason=reversal.description.split(": ", 1)[1]))
        assert (retried.seq, retried.hash) == (reversal.seq, reversal.hash)
        assume(f"Correctie van boeking {reversal.reverses}: {reason.strip()}" != reversal.description)
        self.refused(AlreadyReversed, self.ledger.reverse(reversal.reverses, reason=reason))
        self.refused(CannotReverse, self.ledger.reverse(seq, reason=reason))

    @rule(reason=st.sampled_from(["", " ", "\n"]), beyond=st.integers(1, 1000))
    def a_reversal_needs_a_reason_and_an_entry(self, reason, beyond):
        seq = max(self.model.head_seq, 1)
        self.refused(CannotReverse, self.ledger.reverse(seq, reason=reason))
        self.refused(EntryNotFound, self.ledger.reverse(self.model.head_seq + beyond, reason="bestaat niet"))

    # -- at the same time -------------------------------------------------------------------------
    @rule(specs=st.lists(entry_specs(accounts), min_size=2, max_size=AT_ONCE))
    def concurrent_appends_get_distinct_consecutive_seqs(self, specs):
        """On PostgreSQL each append runs on its own connection and they meet at the append lock;
        on SQLite they queue for the write lock, as concurrent requests in one process do."""
        records = self.run_all(self.ledger.append(**spec.kwargs()) for spec in specs)
        head = self.model.head_seq
        assert sorted(r.seq for r in records) == list(range(head + 1, head + len(specs) + 1))
        booked = sorted(zip(records, specs, strict=True), key=lambda pair: pair[0].seq)
        for record, spec in booked:
            self.expect(record, spec)

    @rule(spec=entry_specs(accounts), key=st.text(TEXT_CHARS, min_size=1, max_size=180), copies=st.integers(2, AT_ONCE))
    def the_same_key_sent_at_the_same_time_books_once(self, spec, key, copies):
        key = self.unique(key)
        records = self.run_all(self.ledger.append(**spec.kwargs(), idempotency_key=key) for _ in range(copies))
        assert all(record == records[0] for record in records)
        self.expect(records[0], spec, key=key)

    @has(LedgerModel.reversible)
    @rule(seq=REVERSIBLE, copies=st.integers(2, 4))
    def concurrent_reversals_of_one_entry_book_one(self, seq, copies):
        original = self.spec_of(seq)
        outcomes = self.run_all(
            [self.ledger.reverse(seq, reason=f"tegelijk {n}", occurred_on=date(2026, 1, 1)) for n in range(copies)],
            return_exceptions=True,
        )
        booked = [o for o in outcomes if isinstance(o, EntryRecord)]
        refused = [o for o in outcomes if not isinstance(o, EntryRecord)]
        assert len(booked) == 1, outcomes
        assert all(isinstance(o, CannotReverse) for o in refused), refused
        undo = EntrySpec(
            kind="reversal",
            description=booked[0].description,
            occurred_on=date(2026, 1, 1),
            legs=tuple(Leg(leg.account, -leg.amount) for leg in original.legs),
            reference=f"reverses:{seq}",
        )
        self.expect(booked[0], undo, reverses=seq)

    # -- reading ----------------------------------------------------------------------------------
    @precondition(lambda self: self.model.entries)
    @rule(start=st.none() | DATES, end=st.none() | DATES)
    def period_balances_match_the_model(self, start, end):
        assert self.run(self.ledger.balances(start, end)) == self.model.balances(start, end)


class LedgerWithPledgesMachine(PledgeRules, LedgerMachine):
    """The journal's own rules and the pledge service's together (tests/pledges/machine.py)."""


class PledgesAndPaymentsMachine(PaymentRules, PledgeRules, JournalMachine):
    """Pledges and their Mollie payments (tests/payments/machine.py), on the journal's
    invariants, without the journal's own rules: so most steps pay, sync, refund or charge back."""


class LedgerWithSpendingMachine(SpendingRules, LedgerMachine):
    """The journal's own rules and the spending service's together (tests/spending/machine.py):
    other entries to the same accounts, and reversals of them, among the expenses' bookings."""


class SpendingMachine(SpendingRules, JournalMachine):
    """Expenses alone on the journal's invariants, so most steps submit, decide, pay or reverse."""


def test_ledger_properties_hold_after_every_step():
    run_state_machine_as_test(LedgerWithPledgesMachine, settings=MACHINE_SETTINGS)


def test_payment_properties_hold_after_every_step():
    run_state_machine_as_test(PledgesAndPaymentsMachine, settings=MACHINE_SETTINGS)


def test_spending_properties_hold_after_every_step():
    run_state_machine_as_test(SpendingMachine, settings=MACHINE_SETTINGS)


def test_spending_and_ledger_properties_hold_together():
    """Fewer runs: `test_spending_properties_hold_after_every_step` exercises the rules; this
    one mixes them with the journal's own entries and reversals."""
    run_state_machine_as_test(
        LedgerWithSpendingMachine, settings=settings(MACHINE_SETTINGS, max_examples=MACHINE_SETTINGS.max_examples // 2)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"description": "Bijdrage\x00"},
        {"kind": "bank\x00transfer"},
        {"reference": "RF18\x00"},
        {"reference": "R" * 201},
        {"idempotency_key": "k" * 201},
        {"idempotency_key": "bank:\x00"},
    ],
    ids=["nul-description", "nul-kind", "nul-reference", "long-reference", "long-key", "nul-key"],
)
async def test_text_the_database_cannot_store_is_refused_before_it_is_sent(ledger, change):
    """Both backends should answer alike: a `LedgerError` (400), not a database error."""
    for name in CHART:
        await ledger.open_account(name)
    legs = [Leg("assets:bank", Money(100)), Leg("income:contributions", Money(-100))]
    entry = {"kind": "bank_transfer", "description": "Bijdrage", "occurred_on": date(2026, 4, 1), "legs": legs}
    with pytest.raises(LedgerError):
        await ledger.append(**{**entry, **change})
    assert (await ledger.head()).seq == 0
