"""Does the Merkle tree keep appending cheap as the journal grows, and does `funding verify`
stay within 10 s and flat memory at a million entries (issue #14)?

Run it (PostgreSQL needed; not part of `pytest`, which skips `tests/benchmarks/`)::

    python -m tests.benchmarks.log                        # 10k and 1M entries, ~10 minutes
    python -m tests.benchmarks.log --sizes 10000 --appends 200 --keep     # a quick look

For each size it creates a throw-away database `funding_logbench_<size>` next to `--admin-url`
(default: `postgresql://postgres@127.0.0.1:5432/postgres`) and fills it (`fill.py`: bulk COPY,
but a valid chain, monthly totals and Merkle tree). Then:

* **append**: `--appends` entries through `LedgerService.append` (the tree grown in the same
  transaction, as in the app), `--rounds` times over, alternating between the sizes; the
  median seconds per append of the best round per size. Goal: at the largest size within 1.2×
  of the smallest.
* **verify** (largest size only): `funding verify` of the database, then of a `/ledger.json`
  written by `funding export`, each in its own process, timed, with its peak resident memory
  (`ru_maxrss`). Goal: each within 10 s; memory within 1.5× of verifying the smallest size
  (it must not grow with the ledger).

Prints the numbers and PASS/FAIL per goal; exit status 0 when every goal passes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from funding import db
from funding.ledger.service import LedgerService, Leg
from funding.money import Money
from tests.benchmarks.fill import fill

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def database_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


async def admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn=admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def prepare(admin_url: str, size: int, reuse: bool) -> str:
    name = f"funding_logbench_{size}"
    url = database_url(admin_url, name)
    if reuse:
        try:
            connection = await asyncpg.connect(dsn=url)
            count = await connection.fetchval("SELECT count(*) FROM journal_entry")
            await connection.close()
            if count >= size:
                return url
        except (OSError, asyncpg.PostgresError):
            pass
    await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(admin_url, f'CREATE DATABASE "{name}"')
    report = await fill(url, size)
    print(f"filled {name}: {report.entries} entries in {report.seconds:.0f} s", flush=True)
    return url


async def append_round(url: str, appends: int) -> float:
    """Median seconds per append through the service (tree included)."""
    db.bind(db.engine_for_url(url))
    ledger = LedgerService()
    times = []
    for n in range(appends):
        amount = Money(1_000 + n)
        started = time.perf_counter()
        await ledger.append(
            kind="bank_transfer",
            description=f"Benchmark {n}",
            occurred_on=date.today(),
            legs=[Leg("assets:bank", amount), Leg("income:contributions", -amount)],
        )
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int, str]:
    """Seconds, peak MiB and exit status of `command`, each run in a fresh process."""
    code = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "seconds = time.perf_counter() - start\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(f'{seconds} {peak} {done.returncode}')\n"
        "sys.stderr.write(done.stdout[-400:] + done.stderr[-400:])\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, env=env)
    seconds, peak, status = done.stdout.split()
    return float(seconds), float(peak), int(status), done.stderr.strip()


def verify_runs(url: str, env: dict[str, str], folder: str) -> dict[str, tuple[float, float, int, str]]:
    funding = [sys.executable, "-m", "funding"]
    env = {**env, "DATABASE_URL": url}
    export = os.path.join(folder, "ledger.json")
    subprocess.run([*funding, "export", "--format", "json", "--out", export], check=True, env=env)
    return {
        "database": timed([*funding, "verify"], env),
        "file": timed([*funding, "verify", export], env),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--admin-url", default=ADMIN_URL)
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--appends", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="Keep (and reuse) the filled databases.")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    urls = {size: asyncio.run(prepare(args.admin_url, size, args.keep)) for size in sizes}
    best: dict[int, float] = {}
    for round_number in range(args.rounds):
        for size in sizes:
            median = asyncio.run(append_round(urls[size], args.appends))
            best[size] = min(best.get(size, median), median)
            print(f"round {round_number + 1}: append at {size:>9,}: {median * 1000:.2f} ms (median)", flush=True)
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_OWNER_URL"}
    goals = []
    smallest, largest = sizes[0], sizes[-1]
    ratio = best[largest] / best[smallest]
    goals.append((f"append at {largest:,} within 1.2x of {smallest:,}: {ratio:.2f}x", ratio <= 1.2))
    with tempfile.TemporaryDirectory() as folder:
        small = verify_runs(urls[smallest], env, folder)
        large = verify_runs(urls[largest], env, folder)
    for kind in ("database", "file"):
        seconds, peak, status, output = large[kind]
        _, small_peak, _, _ = small[kind]
        print(
            f"verify {kind} at {largest:,}: {seconds:.1f} s, peak {peak:.0f} MiB "
            f"(at {smallest:,}: {small_peak:.0f} MiB)"
        )
        print(f"  {output.splitlines()[0] if output else ''}")
        goals.append((f"verify {kind} at {largest:,} exits 0", status == 0))
        goals.append((f"verify {kind} at {largest:,} within 10 s: {seconds:.1f} s", seconds <= 10))
        goals.append((f"verify {kind} memory flat: {peak:.0f} MiB vs {small_peak:.0f} MiB", peak <= 1.5 * small_peak))
    for what, passed in goals:
        print(f"{'PASS' if passed else 'FAIL'}  {what}")
    if not args.keep:
        for size in sizes:
            asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "funding_logbench_{size}" WITH (FORCE)'))
    return 0 if all(passed for _, passed in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
