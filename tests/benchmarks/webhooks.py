"""Does Mollie's webhook book every payment exactly once under a storm of duplicates, and how
fast is it (issue: 1,000 paid payments, each webhook delivered 20 times, shuffled, 16 senders)?

Run it (PostgreSQL and wrk needed; not part of `pytest`, which skips `tests/benchmarks/`)::

    python -m tests.benchmarks.webhooks                          # 1,000 payments x 20, ~3 minutes
    python -m tests.benchmarks.webhooks --payments 100 --repeat 5 --keep    # a quick look

It creates a throw-away database `funding_bench_webhooks` next to `--admin-url` (default:
`postgresql://postgres@127.0.0.1:5432/postgres`), migrates it, and makes a programme, an open
keep-it-all round and `--payments` organisations that each pledge EUR 100 through
`PledgeService` (so each pledge is due and booked, as on the site). A Mollie stand-in runs in a
thread of this process on a real socket, with its webhooks queued rather than sent. Each pledge
gets its Mollie payment through `PaymentService.start` (what "pay now" does), on this database
and that stand-in; then the stand-in marks every payment paid, and the webhook calls it queued
for that are dropped: the benchmark makes them itself.

Then `funding serve --workers 2` runs on the database (`MOLLIE_API_ENDPOINT` the stand-in,
`MOLLIE_API_KEY=test_bench`, `FUNDING_RECONCILE_EVERY=0`: only webhooks book), and wrk (one
thread, `--senders` connections, `sequence.lua`) sends, after a short warm-up on `/health`:

=========================  ==========================================================================
POST /webhooks/mollie      each payment's `id=tr_…` `--repeat` times, all shuffled, `--payments` x
                           `--repeat` in all, cut into `--slices` parts in that order
GET /health                the yardstick, on the same server, through the same script and
                           connections: a run of as many requests as a part before the first
                           part and after each part
=========================  ==========================================================================

Every request is sent exactly once; each wrk run is timed from its first request to its last
answer, and req/s is over all runs of a kind. Other work on the machine comes and goes, so the
two kinds take turns rather than `/health` running once before and once after: both see the
same moments. Every webhook makes the app ask the stand-in for the payment (the body is only a
hint), so the stand-in is part of what is measured, as Mollie's API is in production.

It prints a line per part, a table (requests, req/s, p50, p99, statuses), the webhook's rate
as a ratio to `/health`'s, and checks, with PASS/FAIL for each:

* every webhook answered, none with a status of 500 or more (nor anything but 200);
* exactly `--payments` `mollie_booking` rows, all of kind paid, and as many journal entries of
  kind `payment`; every attempt and every pledge paid;
* `assets:mollie` holds `--payments` x EUR 100, in the monthly totals and in the postings;
  the hash chain and the monthly totals verify (`LedgerService.verify`, as `funding verify`);
* webhook req/s is at least 1/20 of `/health`'s (the issue's goal).

Results go to `artifacts/webhooks-benchmark.json`, the server's log to
`artifacts/webhooks-benchmark-server.log`. Exit status 0 when every check passes, else 1.
wrk, PostgreSQL, the stand-in and both app processes share the machine's cores, so absolute
numbers say little about production; the ratio to `/health` on the same server is the point.
`--keep` leaves the database for a look afterwards (a new run always starts afresh: the
stand-in's payments live in memory).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import platform
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median

import asyncpg

from funding import db
from funding.ledger.service import LedgerService
from funding.mollie_standin import MollieStandin
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.payments.mollie import Mollie
from funding.payments.service import MOLLIE, PaymentService
from funding.pledges.keys import CostSharingKey, KeyKind
from funding.pledges.service import NewPledge, PledgeService
from funding.pledges.tables import RoundModel
from funding.settings import ROOT
from tests.benchmarks.fill import _programme
from tests.benchmarks.ledger_pages import admin, database_url
from tests.live import LiveServer

HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts"
DATABASE = "funding_bench_webhooks"
API_KEY = "test_bench"
AMOUNT = Money.euros(100)
ROUND_SLUG = "webhooks"
GOAL = 1 / 20
"""Webhook req/s over /health req/s: at least this."""
STARTING = 8
"""Payments started at once while preparing (each holds a pool connection and a Mollie thread)."""
WRK_LIMIT = 600
"""Seconds wrk may run at most; a run normally ends when its last answer is in."""


@dataclass
class Slice:
    """One wrk run: its share of the requests, sent once each."""

    requests: int
    answered: int
    seconds: float
    """From the first request to the last answer."""
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    errors: dict[str, int]

    @property
    def complete(self) -> bool:
        return self.answered == self.requests

    @property
    def rps(self) -> float:
        return self.answered / self.seconds if self.complete and self.seconds else 0.0


@dataclass
class Run:
    """All slices of one kind of request: req/s over them all, latencies per slice."""

    name: str
    requests: int
    answered: int
    rps: float
    p50_ms: float
    """The median slice's p50."""
    p99_ms: float
    """The highest slice's p99: no lower than the p99 of all requests together."""
    max_ms: float
    statuses: dict[str, int]
    errors: dict[str, int]
    complete: bool
    """Every request sent once and answered (else wrk hit its time limit)."""
    slices: list[dict]

    @classmethod
    def of(cls, name: str, slices: list[Slice]) -> Run:
        complete = all(part.complete for part in slices)
        seconds = sum(part.seconds for part in slices)
        statuses: dict[str, int] = {}
        errors: dict[str, int] = {}
        for part in slices:
            for status, n in part.statuses.items():
                statuses[status] = statuses.get(status, 0) + n
            for kind, n in part.errors.items():
                errors[kind] = errors.get(kind, 0) + n
        return cls(
            name=name,
            requests=sum(part.requests for part in slices),
            answered=sum(part.answered for part in slices),
            rps=sum(part.answered for part in slices) / seconds if complete and seconds else 0.0,
            p50_ms=median(part.p50_ms for part in slices),
            p99_ms=max(part.p99_ms for part in slices),
            max_ms=max(part.max_ms for part in slices),
            statuses=dict(sorted(statuses.items())),
            errors=errors,
            complete=complete,
            slices=[{**asdict(part), "rps": round(part.rps, 1)} for part in slices],
        )


@dataclass
class Check:
    name: str
    passed: bool
    found: str


# -- preparing --------------------------------------------------------------------------------
async def prepare(url: str, count: int, standin: MollieStandin, app_url: str) -> tuple[list[str], dict]:
    """Migrate the fresh database at `url`, make `count` due pledges and a Mollie payment for
    each (`PaymentService.start`, against `standin`); the payments' ids."""
    timings = {}
    started = time.monotonic()
    db.bind(db.engine_for_url(url))
    with contextlib.redirect_stdout(io.StringIO()):  # Piccolo prints every migration
        await db.migrate()
    async with db.connection_pool(10):
        today = date.today()
        period = await _programme(today.year, today.year)
        ledger = LedgerService()
        pledges = PledgeService(ledger)
        await pledges.create_round(
            slug=ROUND_SLUG,
            period_id=period,
            name="Bijdragen (webhookbenchmark)",
            target=AMOUNT * count,
            opens_on=today - timedelta(days=30),
            closes_on=today + timedelta(days=30),
            model=RoundModel.keep_it_all,
            key=CostSharingKey(kind=KeyKind.flat, amount_cents=AMOUNT.cents),
        )
        registry = OrganisationService()
        tokens = []
        for n in range(1, count + 1):
            organisation = await registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {n:04d}")
            pledged = await pledges.pledge(
                ROUND_SLUG,
                NewPledge(
                    organisation_id=organisation,
                    contact_name="Benchmark",
                    contact_email=f"bench{n}@example.org",
                    amount=AMOUNT,
                ),
            )
            tokens.append(pledged.token)
        timings["pledges_seconds"] = round(time.monotonic() - started, 1)

        started = time.monotonic()
        payments = PaymentService(pledges, Mollie(API_KEY, standin.url), base_url=app_url)
        limit = asyncio.Semaphore(STARTING)

        async def start(token: str) -> str:
            async with limit:
                record = await payments.start(token)
            assert record.mollie_id is not None
            return record.mollie_id

        ids = await asyncio.gather(*(start(token) for token in tokens))
        timings["payments_seconds"] = round(time.monotonic() - started, 1)
    return list(ids), timings


def pay_all(standin: MollieStandin, ids: list[str]) -> int:
    """Every payment paid at the stand-in; its own webhook calls dropped (we send them). How many."""
    for payment_id in ids:
        standin.set_status(payment_id, "paid")
    return len(standin.drain())


# -- load -------------------------------------------------------------------------------------
def send(url: str, lines: list[str], *, senders: int, form: tuple[str, str] | None = None) -> Slice:
    """wrk sends each of `lines` once (GET each path, or POST `form`'s path with field=line)."""
    listing = ARTIFACTS / "webhooks-benchmark-requests.txt"
    listing.write_text("\n".join(lines) + "\n")
    command = ["wrk", "-t1", f"-c{senders}", f"-d{WRK_LIMIT}s", "--timeout", "10s", "-s", str(HERE / "sequence.lua")]
    command += [url, "--", str(listing), *(form or ())]
    output = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("BENCH-SENT"):
                process.send_signal(signal.SIGINT)  # wrk sleeps out its duration otherwise
            output.append(line)
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}: {''.join(output)}")
    listing.unlink()
    result = json.loads(next(line for line in output if line.startswith("BENCH ")).removeprefix("BENCH "))
    return Slice(
        requests=len(lines),
        answered=result["answered"] if result["sent"] == result["total"] == len(lines) else 0,
        seconds=result["elapsed_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        max_ms=result["max_us"] / 1000,
        statuses=result["statuses"],
        errors=result["errors"],
    )


def measure(url: str, ids: list[str], args: argparse.Namespace) -> dict[str, Run]:
    """The shuffled webhooks in `--slices` parts, each between two runs of as many `/health`
    requests, so that both kinds of request see the machine at the same moments (other work
    on it comes and goes); req/s of each over all its parts."""
    lines = webhook_lines(ids, args.repeat)
    size = -(-len(lines) // args.slices)
    parts = [lines[start : start + size] for start in range(0, len(lines), size)]
    send(url, ["/health"] * min(size, 2000), senders=args.senders)  # warm-up
    health, hooks = [send(url, ["/health"] * size, senders=args.senders)], []
    for number, part in enumerate(parts, start=1):
        hooks.append(send(url, part, senders=args.senders, form=("/webhooks/mollie", "id")))
        health.append(send(url, ["/health"] * size, senders=args.senders))
        print(
            f"  part {number}/{len(parts)}: webhooks {hooks[-1].rps:5.0f} req/s between /health "
            f"{health[-2].rps:5.0f} and {health[-1].rps:5.0f} req/s (load average {os.getloadavg()[0]:.1f})",
            flush=True,
        )
    return {"health": Run.of("GET /health", health), "webhooks": Run.of("POST /webhooks/mollie", hooks)}


def webhook_lines(ids: list[str], repeat: int, seed: int = 2026) -> list[str]:
    lines = [payment_id for payment_id in ids for _ in range(repeat)]
    random.Random(seed).shuffle(lines)
    return lines


# -- checking ---------------------------------------------------------------------------------
async def counts(url: str) -> dict:
    connection = await asyncpg.connect(dsn=url)
    try:
        one = connection.fetchval
        found = {
            "bookings": await one("SELECT count(*) FROM mollie_booking"),
            "paid_bookings": await one("SELECT count(*) FROM mollie_booking WHERE kind = 'paid'"),
            "payment_entries": await one("SELECT count(*) FROM journal_entry WHERE kind = 'payment'"),
            "payment_references": await one(
                "SELECT count(DISTINCT reference) FROM journal_entry WHERE kind = 'payment'"
            ),
            "paid_attempts": await one("SELECT count(*) FROM mollie_payment WHERE status = 'paid'"),
            "attempts": await one("SELECT count(*) FROM mollie_payment"),
            "paid_pledges": await one("SELECT count(*) FROM pledge WHERE status = 'paid'"),
            "mollie_cents_postings": int(
                await one(
                    "SELECT coalesce(sum(p.amount_cents), 0) FROM posting p JOIN account a ON a.id = p.account "
                    "WHERE a.name = $1",
                    MOLLIE,
                )
            ),
        }
    finally:
        await connection.close()
    db.bind(db.engine_for_url(url))
    ledger = LedgerService()
    found["mollie_cents_totals"] = (await ledger.balances()).get(MOLLIE, Money.zero()).cents
    verification = await ledger.verify()
    found["ledger_verifies"] = verification.ok and not verification.other_problems
    found["ledger_head_seq"] = verification.head_seq
    return found


def checks(runs: dict[str, Run], found: dict, count: int, goal_ratio: float) -> list[Check]:
    hooks = runs["webhooks"]
    bad = sum(n for status, n in hooks.statuses.items() if int(status) >= 500)
    not_ok = sum(n for status, n in hooks.statuses.items() if status != "200")
    expected_cents = AMOUNT.cents * count
    return [
        Check("every webhook sent once and answered", hooks.complete, f"{hooks.answered} of {hooks.requests}"),
        Check("no webhook answered 5xx", bad == 0 and hooks.complete, f"{bad} answers >= 500"),
        Check("every webhook answered 200", not_ok == 0 and hooks.complete, f"{not_ok} others, {hooks.statuses}"),
        Check("no socket errors or timeouts", not any(hooks.errors.values()), str(hooks.errors)),
        Check(
            f"exactly {count} bookings, all of kind paid",
            found["bookings"] == found["paid_bookings"] == count,
            f"{found['paid_bookings']} paid of {found['bookings']}",
        ),
        Check(
            f"exactly {count} journal entries of kind payment",
            found["payment_entries"] == found["payment_references"] == count,
            f"{found['payment_entries']}, for {found['payment_references']} payments",
        ),
        Check(
            "every attempt and every pledge paid",
            found["paid_attempts"] == found["attempts"] == found["paid_pledges"] == count,
            f"{found['paid_attempts']} attempts, {found['paid_pledges']} pledges",
        ),
        Check(
            f"{MOLLIE} = {count} x {AMOUNT.format()}",
            found["mollie_cents_postings"] == found["mollie_cents_totals"] == expected_cents,
            f"{Money(found['mollie_cents_postings']).format()} (postings), "
            f"{Money(found['mollie_cents_totals']).format()} (monthly totals)",
        ),
        Check("hash chain and monthly totals verify", found["ledger_verifies"], f"head #{found['ledger_head_seq']}"),
        Check(
            "webhook req/s >= 1/20 of /health",
            goal_ratio >= GOAL and hooks.complete,
            f"1/{1 / goal_ratio:.1f}" if goal_ratio else "no rate",
        ),
    ]


def print_table(runs: dict[str, Run], ratio: float, check_list: list[Check]) -> None:
    header = f"{'run':24} {'requests':>8} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}  statuses"
    print("\n" + header + "\n" + "-" * len(header))
    for run in runs.values():
        statuses = ", ".join(f"{status}: {n}" for status, n in run.statuses.items())
        incomplete = "" if run.complete else f"  INCOMPLETE ({run.answered} answered)"
        print(
            f"{run.name:24} {run.requests:8} {run.rps:8.0f} {run.p50_ms:7.2f} {run.p99_ms:7.2f} "
            f"{run.max_ms:7.1f}  {statuses}{incomplete}"
        )
    print(
        "\nreq/s: over all parts; p50: the median part's; p99, max: the highest part's."
        + (f"\nwebhook / /health: {ratio:.3f} = 1/{1 / ratio:.1f}" if ratio else "\nwebhook / /health: no rate")
        + f" (goal: at least 1/{1 / GOAL:.0f} = {GOAL:.3f})\n"
    )
    for check in check_list:
        print(f"{'PASS' if check.passed else 'FAIL'}  {check.name:48} {check.found}")


# -- main -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=1000, help="paid Mollie payments")
    parser.add_argument("--repeat", type=int, default=20, help="webhook calls per payment")
    parser.add_argument("--senders", type=int, default=16, help="concurrent connections (wrk -c)")
    parser.add_argument("--slices", type=int, default=5, help="parts of the webhooks, /health between them")
    parser.add_argument("--workers", type=int, default=2, help="app processes (funding serve --workers)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "webhooks-benchmark.json")
    args = parser.parse_args(argv)
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)
    url = database_url(args.admin_url, DATABASE)
    total = args.payments * args.repeat

    asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
    asyncio.run(admin(args.admin_url, f'CREATE DATABASE "{DATABASE}"'))
    log = ARTIFACTS / "webhooks-benchmark-server.log"
    log.unlink(missing_ok=True)
    standin = MollieStandin(webhook_mode="queue").start()
    env = {"MOLLIE_API_KEY": API_KEY, "MOLLIE_API_ENDPOINT": standin.url, "FUNDING_RECONCILE_EVERY": "0"}
    server = LiveServer(url, workers=args.workers, env=env, log_path=log)
    runs: dict[str, Run] = {}
    try:
        print(f"== {args.payments} due pledges and their Mollie payments in {DATABASE}", flush=True)
        ids, timings = asyncio.run(prepare(url, args.payments, standin, server.url))
        dropped = pay_all(standin, ids)
        print(
            f"  pledges in {timings['pledges_seconds']} s, payments in {timings['payments_seconds']} s; "
            f"all paid at the stand-in ({dropped} of its own webhook calls dropped)",
            flush=True,
        )
        with server:
            print(
                f"== funding serve --workers {args.workers}; wrk -t1 -c{args.senders}; {total} webhooks "
                f"in {args.slices} parts, each between runs of as many /health requests",
                flush=True,
            )
            load_before = os.getloadavg()
            runs = measure(server.url, ids, args)
            load_after = os.getloadavg()
        found = asyncio.run(counts(url))
    finally:
        standin.stop()
        if not args.keep:
            asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))

    health = runs["health"].rps
    ratio = runs["webhooks"].rps / health if health else 0.0
    check_list = checks(runs, found, args.payments, ratio)
    print_table(runs, ratio, check_list)
    seconds = time.monotonic() - started
    print(f"\ntotal {seconds:.0f} s; results in {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": " ".join(
                    [Path(sys.executable).name, "-m", "tests.benchmarks.webhooks", *(argv or sys.argv[1:])]
                ),
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "total_seconds": round(seconds, 1),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average_before": load_before,
                    "load_average_after": load_after,
                },
                "setup": {
                    "database": DATABASE,
                    "kept": args.keep,
                    "payments": args.payments,
                    "repeat": args.repeat,
                    "amount_cents": AMOUNT.cents,
                    "standin_webhook_calls_dropped": dropped,
                    **timings,
                },
                "load": {
                    "tool": "wrk",
                    "threads": 1,
                    "senders": args.senders,
                    "slices": args.slices,
                    "app_workers": args.workers,
                },
                "runs": {key: asdict(run) for key, run in runs.items()},
                "ratio_webhook_to_health": round(ratio, 4),
                "goal_ratio": GOAL,
                "found": found,
                "checks": [asdict(check) for check in check_list],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    return 0 if all(check.passed for check in check_list) else 1


if __name__ == "__main__":
    sys.exit(main())
