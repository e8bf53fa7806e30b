"""Fill a PostgreSQL database with a large, *valid* journal, fast.

Appending a million entries through `LedgerService.append` one by one takes hours, so this module
does what `append` does in bulk instead, without taking shortcuts on what the result must be:

* accounts, the programme, its yearly budget periods and lines go through the real services
  (`LedgerService.open_account`, `ProgrammeService`), so they are exactly what the app would make;
* every entry is numbered after the current head and hashed with `funding.ledger.chain`'s own
  `entry_hash` and `format_recorded_at`, so `funding verify` accepts the chain;
* entries and postings are loaded with PostgreSQL COPY (the append-only triggers refuse only
  UPDATE, DELETE and TRUNCATE), and the monthly account totals get the sums of the postings,
  with the same upsert `LedgerService._add_to_month_totals` runs;
* the Merkle tree's complete subtrees are computed with `funding.ledger.merkle` from the same
  right edge `grow_tree` keeps, and loaded with COPY beside their entries;
* the id sequence is moved past the loaded rows, so later appends through the app just work.

The data look like a programme's books over ten years: pledges falling due, Mollie payments with
fees, bank transfers, settlements, invoices approved and paid, in-kind help and bank fees, in
date order, with Dutch descriptions (some with non-ASCII letters, which the hash must survive).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock

import asyncpg

from funding import db
from funding.demo import ACCOUNTS, BUDGET_LINES, CONTRIBUTIONS
from funding.ledger import merkle
from funding.ledger.chain import entry_hash, format_recorded_at
from funding.ledger.service import APPEND_LOCK, LedgerService
from funding.money import Money
from funding.organisations.service import OrganisationService, always_public
from funding.organisations.tables import OrganisationKind
from funding.pledges.keys import CostSharingKey, KeyKind
from funding.pledges.service import NewPledge, PledgeService
from funding.pledges.tables import ContributionForm, RoundModel
from funding.programme.service import ProgrammeService, expense_account, in_kind_account

BATCH = 50_000
"""Entries per COPY: big enough that COPY's per-call cost vanishes, small enough to stay flat."""
YEARS = 10
"""History spans this many calendar years up to today, whatever the size (same number of monthly
totals at 10k and at 1M entries, so only the journal's length differs between sizes)."""

ENTRY_COLUMNS = (
    "id",
    "seq",
    "occurred_on",
    "recorded_at",
    "kind",
    "description",
    "reference",
    "idempotency_key",
    "reverses_seq",
    "prev_hash",
    "hash",
)
POSTING_COLUMNS = ("entry", "position", "account", "amount_cents")
NODE_COLUMNS = ("level", "position", "hash")
MONTH_TOTAL_UPSERT = (
    "INSERT INTO account_month_balance (account, month, amount_cents) VALUES ($1, $2, $3) "
    "ON CONFLICT (account, month) DO UPDATE "
    "SET amount_cents = account_month_balance.amount_cents + excluded.amount_cents"
)


@dataclass
class FillReport:
    entries: int
    postings: int
    head_seq: int
    head_hash: str
    seconds: float


async def fill(database_url: str, size: int, *, today: date | None = None, seed: int = 2012) -> FillReport:
    """Migrate `database_url` (meant for a fresh database), then append `size` entries after
    its head, exactly as `size` calls of `LedgerService.append` would have left it."""
    started = time.monotonic()
    today = today or date.today()
    first_year = today.year - YEARS + 1
    db.bind(db.engine_for_url(database_url))
    await db.migrate()
    period = await _programme(first_year, today.year)
    await fill_round(period, today)
    connection = await asyncpg.connect(dsn=database_url)
    try:
        # The app's append lock (held for the whole fill): no entry can slip in between ours.
        await connection.execute("SELECT pg_advisory_lock($1)", APPEND_LOCK)
        accounts = dict(await connection.fetch("SELECT name, id FROM account"))
        head = await connection.fetchrow("SELECT seq, hash FROM journal_entry ORDER BY seq DESC LIMIT 1")
        last_id = await connection.fetchval("SELECT coalesce(max(id), 0) FROM journal_entry")
        edge_rows = [
            await connection.fetchval("SELECT hash FROM merkle_node WHERE level = $1 AND position = $2", *node)
            for node in merkle.root_nodes(head["seq"] if head else 0)
        ]
        book = _Books(
            accounts,
            seq=head["seq"] if head else 0,
            prev_hash=head["hash"] if head else "0" * 64,
            last_id=last_id,
            start=date(first_year, 1, 1),
            end=today,
            size=size,
            rng=random.Random(seed),
            edge=[bytes.fromhex(digest) for digest in edge_rows],
        )
        postings = 0
        # Hash the next batch in a thread while PostgreSQL writes this one (two cores, two jobs).
        pending = asyncio.create_task(asyncio.to_thread(book.batch, min(BATCH, size)))
        remaining = size
        while remaining:
            entries, legs, nodes = await pending
            remaining -= len(entries)
            if remaining:
                pending = asyncio.create_task(asyncio.to_thread(book.batch, min(BATCH, remaining)))
            async with connection.transaction():  # postings first: each entry's row seals its own
                await connection.copy_records_to_table("posting", records=legs, columns=POSTING_COLUMNS)
                await connection.copy_records_to_table("journal_entry", records=entries, columns=ENTRY_COLUMNS)
                await connection.copy_records_to_table("merkle_node", records=nodes, columns=NODE_COLUMNS)
            postings += len(legs)
        async with connection.transaction():
            await connection.executemany(
                MONTH_TOTAL_UPSERT,
                [(account, month, cents) for (account, month), cents in sorted(book.month_totals.items())],
            )
            await connection.execute(
                "SELECT setval(pg_get_serial_sequence('journal_entry', 'id'), (SELECT max(id) FROM journal_entry))"
            )
        # What autovacuum would otherwise do in the middle of the measurements: statistics for
        # the planner, the visibility map for index-only scans, and the loaded WAL flushed.
        await connection.execute("VACUUM (ANALYZE)")
        await connection.execute("CHECKPOINT")
    finally:
        await connection.close()
    return FillReport(size, postings, book.seq, book.prev_hash, time.monotonic() - started)


ROUND_SLUG = "bench"


async def fill_round(period_id: int, today: date, seed: int = 2012) -> None:
    """The latest period's round: a registry of 400 public bodies and an open all-or-nothing
    round (per capita, floor and cap) they all pledged to through `PledgeService`: every other
    umbrella body not to be named (the bodies rounds ask always are), one in twenty in kind.
    Conditional pledges are not booked, so the journal the benchmark fills is unchanged."""
    rng = random.Random(seed)
    registry = OrganisationService()
    pledges = PledgeService()
    fund = await pledges.create_round(
        slug=ROUND_SLUG,
        period_id=period_id,
        name="Bijdragen (benchmark)",
        target=Money.euros(2_000_000),
        opens_on=today - timedelta(days=30),
        closes_on=today + timedelta(days=30),
        model=RoundModel.all_or_nothing,
        key=CostSharingKey(kind=KeyKind.per_capita, rate="0.05", floor_cents=50_000, cap_cents=2_500_000),
    )
    kinds = [OrganisationKind.gemeente] * 342 + [OrganisationKind.provincie] * 12 + [OrganisationKind.waterschap] * 21
    kinds += [OrganisationKind.ministerie] * 12 + [OrganisationKind.other_public] * 13
    for n, kind in enumerate(kinds, start=1):
        population = rng.randint(900, 900_000) if kind is OrganisationKind.gemeente else None
        organisation = await registry.add(
            kind=kind,
            name=f"{kind.value.replace('_', ' ').title()} {n:03d}",
            cbs_code=f"GM{n:04d}" if kind is OrganisationKind.gemeente else None,
            population=population,
        )
        suggested = await pledges.suggested(fund, {"id": organisation, "kind": kind.value, "population": population})
        in_kind = n % 20 == 0
        await pledges.pledge(
            ROUND_SLUG,
            NewPledge(
                organisation_id=organisation,
                contact_name="Benchmark",
                contact_email=f"bench{n}@example.org",
                form=ContributionForm.goods if in_kind else ContributionForm.cash,
                amount=suggested,
                in_kind_description="zaalhuur" if in_kind else "",
                budget_line="events" if in_kind else "",
                publish_name=always_public(kind) or n % 2 == 0,
            ),
        )


async def _programme(first_year: int, last_year: int) -> int:
    """The chart of accounts and a programme with the demo's budget lines for every year."""
    programmes = ProgrammeService(LedgerService())
    for name, label in ACCOUNTS.items():
        await programmes.ledger.open_account(name, label)
    programme = await programmes.create_programme(
        slug="benchmark",
        name="Benchmarkprogramma (verzonnen gegevens)",
        description="Tien jaar verzonnen boekingen om te meten of het grootboek snel blijft.",
        is_demo=True,
    )
    for year in range(first_year, last_year + 1):
        period = await programmes.add_period(
            programme, name=str(year), starts_on=date(year, 1, 1), ends_on=date(year, 12, 31)
        )
        for position, (code, name, name_en, euros) in enumerate(BUDGET_LINES):
            await programmes.add_budget_line(
                period, code=code, name=name, name_en=name_en, amount=Money.euros(euros), position=position
            )
    return period


class _Books:
    """Makes entries in chain order and keeps the chain's head and the monthly totals."""

    def __init__(
        self,
        accounts: dict[str, int],
        *,
        seq: int,
        prev_hash: str,
        last_id: int,
        start: date,
        end: date,
        size: int,
        rng: random.Random,
        edge: list[bytes],
    ) -> None:
        self.accounts, self.rng = accounts, rng
        self.seq, self.prev_hash, self.last_id = seq, prev_hash, last_id
        self.edge = edge
        """The Merkle tree's right edge: the complete subtrees of the first `seq` leaves."""
        self.start, self.days, self.size, self.made = start, (end - start).days + 1, size, 0
        self.month_totals: dict[tuple[int, date], int] = defaultdict(int)
        self.lines = [code for code, *_ in BUDGET_LINES]
        self.contributors = [contribution.name for contribution in CONTRIBUTIONS]

    def batch(self, count: int) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """`count` more entries as COPY records for journal_entry, posting and merkle_node."""
        entries: list[tuple] = []
        postings: list[tuple] = []
        nodes: list[tuple] = []
        for _ in range(count):
            # Spread evenly over the years, so dates rise with seq as they would in real life.
            occurred_on = self.start + timedelta(days=self.made * self.days // self.size)
            self.made += 1
            kind, description, reference, legs = self._event(occurred_on)
            self.seq += 1
            self.last_id += 1
            recorded = datetime.combine(occurred_on, clock(8), tzinfo=UTC) + timedelta(seconds=self.seq % 36_000)
            recorded_at = format_recorded_at(recorded)
            digest = entry_hash(
                seq=self.seq,
                prev_hash=self.prev_hash,
                occurred_on=occurred_on,
                recorded_at=recorded_at,
                kind=kind,
                description=description,
                reference=reference,
                postings=legs,
            )
            entries.append(
                (
                    self.last_id,
                    self.seq,
                    occurred_on,
                    recorded,
                    kind,
                    description,
                    reference,
                    None,
                    None,
                    self.prev_hash,
                    digest,
                )
            )
            month = occurred_on.replace(day=1)
            for position, (account, cents) in enumerate(legs):
                account_id = self.accounts[account]
                postings.append((self.last_id, position, account_id, cents))
                self.month_totals[account_id, month] += cents
            self.prev_hash = digest
            self._grow(self.seq - 1, merkle.leaf_hash(digest), nodes)
        return entries, postings, nodes

    def _grow(self, index: int, leaf: bytes, nodes: list[tuple]) -> None:
        """What `grow_tree` stores for leaf `index`, from the right edge instead of the table."""
        siblings = {node: self.edge[-1 - n] for n, node in enumerate(merkle.siblings_for_append(index))}
        made = merkle.new_nodes(index, leaf, siblings)
        del self.edge[len(self.edge) - len(siblings) :]
        self.edge.append(made[-1][1])
        nodes.extend((level, position, digest.hex()) for (level, position), digest in made)

    def _event(self, on: date) -> tuple[str, str, str | None, list[tuple[str, int]]]:
        """One business event of the kinds DESIGN.md lists, with made-up amounts in cents."""
        rng, n = self.rng, self.seq + 1
        who = rng.choice(self.contributors)
        line = rng.choice(self.lines)
        cents = rng.randrange(1_000, 2_500_000)
        match n % 8:
            case 0:
                return (
                    "pledge_due",
                    f"Bijdrage {on.year} toegezegd: {who}",
                    None,
                    [("assets:receivable:pledges", cents), ("income:contributions", -cents)],
                )
            case 1:
                fee = 29 + cents // 100
                return (
                    "payment",
                    f"Betaling via Mollie: {who}",
                    f"tr_{n:010x}",
                    [
                        ("assets:mollie", cents - fee),
                        ("expenses:payment-fees", fee),
                        ("assets:receivable:pledges", -cents),
                    ],
                )
            case 2:
                return (
                    "bank_transfer",
                    f"Bijdrage ontvangen per bank: {who}",
                    f"RF{n % 97:02d}{n:010d}",
                    [("assets:bank", cents), ("assets:receivable:pledges", -cents)],
                )
            case 3:
                return (
                    "settlement",
                    f"Uitbetaling Mollie {on.isoformat()}",
                    f"stl_{n:010x}",
                    [("assets:bank", cents), ("assets:mollie", -cents)],
                )
            case 4:
                return (
                    "expense_approved",
                    f"Factuur goedgekeurd ({line}), nr. {n}",
                    None,
                    [(expense_account(line), cents), ("liabilities:payables", -cents)],
                )
            case 5:
                return (
                    "expense_paid",
                    f"Factuur betaald ({line}), nr. {n - 1}",
                    None,
                    [("liabilities:payables", cents), ("assets:bank", -cents)],
                )
            case 6:
                return (
                    "in_kind",
                    f"In natura van {who}: uren en zalen ({line})",
                    None,
                    [(in_kind_account(line), cents), ("income:in-kind", -cents)],
                )
            case _:
                return (
                    "fee",
                    f"Bankkosten {on:%m-%Y}",
                    None,
                    [("expenses:payment-fees", 1_250), ("assets:bank", -1_250)],
                )
