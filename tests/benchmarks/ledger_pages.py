"""Do the public ledger pages stay fast as the journal grows (issue #2), and round pages with a
full registry (issue #8)?

Run it (PostgreSQL and wrk needed; not part of `pytest`, which skips `tests/benchmarks/`)::

    python -m tests.benchmarks.ledger_pages                     # 10k and 1M entries, ~15 minutes
    python -m tests.benchmarks.ledger_pages --sizes 10000 --rounds 1 --keep    # a quick look
    python -m tests.benchmarks.ledger_pages --sizes 10000 --only round,home,fair   # the round pages

For each size it creates a throw-away database `funding_bench_<size>` next to `--admin-url`
(default: `postgresql://postgres@127.0.0.1:5432/postgres`), fills it with that many journal
entries (`fill.py`: bulk COPY, but a valid hash chain and monthly totals), proves it with
`funding verify`, and starts `funding serve --workers 2` on it twice (loopback): once as
configured, once with `FUNDING_RESPONSE_CACHE=off`. Then wrk (one thread, `--connections`
connections, `--duration` seconds per URL after a `--warmup`) loads each URL of every size in
turn, each right after a run of `/health` on the same server, `--rounds` times over:

=============================================  ===================================================
/health                                        liveness, no I/O: the yardstick, before each URL
/ledger                                        first page, newest first (cached, and uncached)
/ledger?before=1000                            a deep page, far back in history (both ways)
/                                              the programme overview (cached, and uncached)
/api/v1/ledger                                 first page of the API, oldest first (cached, and uncached)
/api/v1/ledger?after=<size-1000>&limit=100     a page deep in the API (cached, and uncached)
/rounds/bench                                  a round page: 400 organisations, 400 pledges, the
                                               fair-share table's first page of 50 (cached, and uncached)
/api/v1/rounds/bench/fair-shares               that page in the API (cached, and uncached)
=============================================  ===================================================

"Cached" sends the same request over and over, so after the first one each app process serves
it from its response cache. "Uncached" sends it to the server started with the response cache
off: every request runs the handler's queries and renders the template, as the first request
after each append does (the cache is dropped on every NOTIFY). A client cannot ask for that
(`Cache-Control: no-cache` is served from the cache too), so it takes a server setting.

It prints one table (req/s, p50, p99, and req/s and p99 as ratios to `/health` on the same
server), then the issue's goals as PASS/FAIL from the numbers of this run, and writes
everything to `artifacts/benchmark.json`:

* the deep page at the largest size is within 1.2x of the first page at the smallest size
  (uncached; the same for the API), compared by their ratios to `/health`, since the two sizes
  run on two servers at different moments: cost does not grow with the ledger;
* every uncached page is within 15x of `/health` (req/s and p99);
* every cached public page is within 2x of `/health` (req/s and p99).

wrk, PostgreSQL and the app processes share the machine's cores, so absolute numbers say little
about production; the ratios to `/health`, each against a `/health` run on the same server just
before, are the point, and the median of the rounds counts. Other work on the machine (the load
average is in the JSON) only ever slows runs down, so req/s and latencies shown are the best
round's. Exit status: 0 when every goal passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from funding import db
from funding.ledger.service import LedgerService
from funding.settings import ROOT
from tests.benchmarks.fill import ROUND_SLUG, fill
from tests.live import LiveServer

HERE = Path(__file__).resolve().parent
ARTIFACTS = ROOT / "artifacts"
DEEP_BEFORE = 1000
UNCACHED_LIMIT = 15.0
CACHED_LIMIT = 2.0
GROWTH_LIMIT = 1.2


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    mode: str
    """`health` (the yardstick), `cached` (same request each time) or `uncached` (cache off)."""


@dataclass
class Row:
    size: int
    name: str
    path: str
    mode: str
    requests: int
    """Over all rounds."""
    rps: float
    p50_ms: float
    p99_ms: float
    errors: dict
    rps_ratio: float
    """`/health`'s req/s divided by this URL's (1.0: as fast as `/health`); median of the rounds."""
    p99_ratio: float
    """This URL's p99 divided by `/health`'s; median of the rounds."""
    rounds: list[dict] = field(default_factory=list)
    """Every round's figures; req/s and latencies above are the best of them (see `measure`)."""


@dataclass
class Goal:
    name: str
    limit: float
    rps_ratio: float
    p99_ratio: float
    errors: bool = False
    """Timeouts or error responses in a run behind it: its numbers mean nothing, so it fails."""
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.passed = not self.errors and self.rps_ratio <= self.limit and self.p99_ratio <= self.limit


def targets(size: int) -> list[Target]:
    deep_api = f"/api/v1/ledger?after={max(size - 1000, 0)}&limit=100"
    """The URLs measured against `/health` (which runs before each of them)."""
    return [
        Target("ledger first", "/ledger", "cached"),
        Target("ledger first", "/ledger", "uncached"),
        Target("ledger deep", f"/ledger?before={DEEP_BEFORE}", "cached"),
        Target("ledger deep", f"/ledger?before={DEEP_BEFORE}", "uncached"),
        Target("home", "/", "cached"),
        Target("home", "/", "uncached"),
        Target("api first", "/api/v1/ledger", "cached"),
        Target("api first", "/api/v1/ledger", "uncached"),
        Target("api deep", deep_api, "cached"),
        Target("api deep", deep_api, "uncached"),
        Target("round page", f"/rounds/{ROUND_SLUG}", "cached"),
        Target("round page", f"/rounds/{ROUND_SLUG}", "uncached"),
        Target("api fair shares", f"/api/v1/rounds/{ROUND_SLUG}/fair-shares", "cached"),
        Target("api fair shares", f"/api/v1/rounds/{ROUND_SLUG}/fair-shares", "uncached"),
    ]


# -- load generation --------------------------------------------------------------------------
def wrk(url: str, *, duration: float, connections: int) -> dict:
    """One wrk run; the Lua `done` hook prints a JSON line with the counts and percentiles."""
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(HERE / "report.lua"),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def measure(servers: dict[int, dict[str, LiveServer]], args: argparse.Namespace) -> list[Row]:
    """Every URL of every size, on that size's server for its mode (`cached`, `uncached`), each
    run right after a run of `/health` on the same server, `--rounds` times over.

    The machine may be busy with other work, which only ever lowers req/s and raises latency.
    So a URL's ratios are taken against the `/health` run just before it (the same minute, the
    same interference), one pair per round, and the median pair counts; its req/s and p99 are
    its best over the rounds. Rounds go over all sizes in turn, so a busy spell hits one round
    of every size rather than every round of one.
    """
    pairs: dict[tuple[int, Target], list[tuple[dict, dict]]] = {}
    for round_ in range(1, args.rounds + 1):
        for size, by_mode in servers.items():
            print(
                f"== round {round_}/{args.rounds}, {size} entries (load average {os.getloadavg()[0]:.1f})", flush=True
            )
            for target in targets(size):
                if args.only and not any(name in target.name for name in args.only.split(",")):
                    continue
                server = by_mode[target.mode]
                health = wrk(server.url + "/health", duration=args.duration, connections=args.connections)
                wrk(server.url + target.path, duration=args.warmup, connections=args.connections)
                result = wrk(server.url + target.path, duration=args.duration, connections=args.connections)
                pairs.setdefault((size, target), []).append((health, result))
                print(
                    f"  {target.mode:8} {target.path:45} {result['rps']:8.0f} req/s  "
                    f"p99 {result['p99_us'] / 1000:7.1f} ms   (/health {health['rps']:6.0f} req/s, "
                    f"p99 {health['p99_us'] / 1000:5.1f} ms)",
                    flush=True,
                )
    rows = []
    for size in servers:
        healths = [health for (s, _), runs in pairs.items() if s == size for health, _ in runs]
        rows.append(_row(size, Target("health", "/health", "health"), healths, [(1.0, 1.0)]))
        for (s, target), runs in pairs.items():
            if s == size:
                ratios = [(h["rps"] / r["rps"], r["p99_us"] / h["p99_us"]) for h, r in runs]
                rows.append(_row(size, target, [r for _, r in runs], ratios))
    return rows


def _row(size: int, target: Target, results: list[dict], ratios: list[tuple[float, float]]) -> Row:
    rps_ratio, p99_ratio = (median(column) for column in zip(*ratios, strict=True))
    return Row(
        size=size,
        name=target.name,
        path=target.path,
        mode=target.mode,
        requests=sum(result["requests"] for result in results),
        rps=max(result["rps"] for result in results),
        p50_ms=min(result["p50_us"] for result in results) / 1000,
        p99_ms=min(result["p99_us"] for result in results) / 1000,
        errors={kind: sum(result["errors"][kind] for result in results) for kind in results[0]["errors"]},
        rps_ratio=rps_ratio,
        p99_ratio=p99_ratio,
        rounds=[
            {
                "rps": round(result["rps"], 1),
                "p99_ms": result["p99_us"] / 1000,
                "x_rps": round(x_rps, 2),
                "x_p99": round(x_p99, 2),
            }
            for result, (x_rps, x_p99) in zip(results, ratios, strict=False)
        ],
    )


# -- databases --------------------------------------------------------------------------------
def database_url(admin_url: str, name: str) -> str:
    return urlunsplit(urlsplit(admin_url)._replace(path="/" + name))


async def admin(admin_url: str, sql: str) -> None:
    connection = await asyncpg.connect(dsn=admin_url)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def filled_size(url: str) -> int | None:
    """The head seq of a benchmark database kept by an earlier `--keep` run, else None."""
    try:
        connection = await asyncpg.connect(dsn=url)
    except asyncpg.InvalidCatalogNameError:
        return None
    try:
        if not await connection.fetchval("SELECT to_regclass('programme') IS NOT NULL"):
            return None
        if not await connection.fetchval("SELECT exists(SELECT 1 FROM programme WHERE slug = 'benchmark')"):
            return None
        return await connection.fetchval("SELECT coalesce(max(seq), 0) FROM journal_entry")
    finally:
        await connection.close()


async def prepare(admin_url: str, size: int, reuse: bool) -> tuple[str, dict]:
    """A database holding `size` entries: kept from an earlier run (`--keep`), or filled now."""
    name = f"funding_bench_{size}"
    url = database_url(admin_url, name)
    if reuse and await filled_size(url) == size:
        return url, {"database": name, "reused": True, "fill_seconds": None}
    await admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(admin_url, f'CREATE DATABASE "{name}"')
    report = await fill(url, size)
    return url, {
        "database": name,
        "reused": False,
        "fill_seconds": round(report.seconds, 1),
        "postings": report.postings,
        "head_seq": report.head_seq,
        "head_hash": report.head_hash,
    }


def verify(url: str) -> dict:
    """`funding verify` (the README's command) on the database, and monthly totals vs postings."""
    started = time.monotonic()
    env = {**os.environ, "DATABASE_URL": url, "FUNDING_SECRET_KEY": "benchmark"}
    done = subprocess.run([sys.executable, "-m", "funding", "verify"], env=env, capture_output=True, text=True)
    seconds = time.monotonic() - started

    async def totals_match() -> bool:
        db.bind(db.engine_for_url(url))
        ledger = LedgerService()
        return await ledger.balances() == await ledger.balances_from_postings()

    return {
        "chain_intact": done.returncode == 0,
        "verify_output": next(
            (line for line in (done.stdout + done.stderr).splitlines() if line.startswith(("intact", "BROKEN"))),
            f"funding verify exited with {done.returncode}",
        ),
        "verify_seconds": round(seconds, 1),
        "month_totals_match_postings": asyncio.run(totals_match()),
    }


# -- goals and output -------------------------------------------------------------------------
def goals(rows: list[Row], sizes: list[int]) -> list[Goal]:
    def row(size: int, name: str, mode: str) -> Row:
        return next(r for r in rows if r.size == size and r.name == name and r.mode == mode)

    small, large = min(sizes), max(sizes)
    result = []
    # Growth compares each page's ratio to /health, not raw req/s: the two sizes run on two
    # servers at different moments, and a busier moment is not a bigger ledger.
    for first, deep in (("ledger first", "ledger deep"), ("api first", "api deep")):
        if not {first, deep} <= {r.name for r in rows}:
            continue  # left out with --only
        a, b = row(small, first, "uncached"), row(large, deep, "uncached")
        result.append(
            Goal(
                f"{deep} @{large} vs {first} @{small} (uncached)",
                GROWTH_LIMIT,
                b.rps_ratio / a.rps_ratio,
                b.p99_ratio / a.p99_ratio,
                _failed(a, b),
            )
        )
    for r in rows:
        if r.mode != "health":
            limit = CACHED_LIMIT if r.mode == "cached" else UNCACHED_LIMIT
            result.append(
                Goal(
                    f"{r.name} ({r.mode}) @{r.size} vs /health",
                    limit,
                    r.rps_ratio,
                    r.p99_ratio,
                    _failed(r, row(r.size, "health", "health")),
                )
            )
    return result


def _failed(*rows: Row) -> bool:
    return any(any(row.errors.values()) for row in rows)


def print_table(rows: list[Row], goal_list: list[Goal]) -> None:
    header = (
        f"{'size':>8}  {'mode':8}  {'URL':45} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'x rps':>6} {'x p99':>6}  errors"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for r in rows:
        errors = sum(r.errors.values())
        print(
            f"{r.size:>8}  {r.mode:8}  {r.path:45} {r.rps:8.0f} {r.p50_ms:7.2f} {r.p99_ms:7.2f} "
            f"{r.rps_ratio:6.2f} {r.p99_ratio:6.2f}  {errors or ''}"
        )
    print(
        "\nreq/s: best round; p50, p99: lowest round. x rps: /health's req/s divided by this URL's,"
        "\nx p99: this p99 divided by /health's, each against the /health run just before it"
        "\n(median of the rounds).\n"
    )
    for goal in goal_list:
        print(
            f"{'PASS' if goal.passed else 'FAIL'}  {goal.name:58} req/s x{goal.rps_ratio:5.2f}  "
            f"p99 x{goal.p99_ratio:5.2f}  (limit x{goal.limit})"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,1000000", help="journal sizes, comma-separated")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per URL")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of load per URL before measuring")
    parser.add_argument("--rounds", type=int, default=3, help="runs per URL, each after a /health run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="app processes (funding serve --workers)")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the databases, and reuse kept ones")
    parser.add_argument("--verify-max", type=int, default=1_000_000, help="verify the chain up to this size")
    parser.add_argument("--only", default="", help="measure only targets whose name has one of these, e.g. 'round'")
    parser.add_argument("--out", type=Path, default=ARTIFACTS / "benchmark.json")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    started = time.monotonic()
    ARTIFACTS.mkdir(exist_ok=True)

    databases, urls, rows = {}, {}, []
    try:
        # All databases first, then all measurements back to back: the sizes are compared with
        # each other, so they should see the same machine (filling is heavy on disk and CPU).
        for size in sizes:
            print(f"== {size} entries", flush=True)
            urls[size], info = asyncio.run(prepare(args.admin_url, size, args.keep))
            print(
                f"  database {info['database']}: "
                + ("kept from an earlier run" if info["reused"] else f"filled in {info['fill_seconds']} s"),
                flush=True,
            )
            if size <= args.verify_max and not info["reused"]:  # a kept one was verified when filled
                info.update(verify(urls[size]))
                print(
                    f"  {info['verify_output']} ({info['verify_seconds']} s); monthly totals "
                    f"{'match' if info['month_totals_match_postings'] else 'DO NOT match'} the postings",
                    flush=True,
                )
                if not (info["chain_intact"] and info["month_totals_match_postings"]):
                    raise SystemExit(f"the filled database for {size} entries is not valid: fill.py is wrong")
            databases[size] = info
        with ExitStack() as stack:
            servers: dict[int, dict[str, LiveServer]] = {}
            for size in sizes:
                for mode, env in (("cached", {}), ("uncached", {"FUNDING_RESPONSE_CACHE": "off"})):
                    log = ARTIFACTS / f"benchmark-server-{size}-{mode}.log"
                    log.unlink(missing_ok=True)
                    server = LiveServer(urls[size], workers=args.workers, env=env, log_path=log)
                    servers.setdefault(size, {})[mode] = stack.enter_context(server)
            print(
                f"== funding serve --workers {args.workers} per size, cached and uncached; "
                f"wrk -t1 -c{args.connections} -d{args.duration}s per URL after {args.warmup}s warm-up",
                flush=True,
            )
            load_before = os.getloadavg()
            rows = measure(servers, args)
            load_after = os.getloadavg()
    finally:
        if not args.keep:
            for size in sizes:
                asyncio.run(admin(args.admin_url, f'DROP DATABASE IF EXISTS "funding_bench_{size}" WITH (FORCE)'))

    goal_list = goals(rows, sizes)
    print_table(rows, goal_list)
    total = time.monotonic() - started
    print(f"\ntotal {total:.0f} s; results in {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "command": " ".join(
                    [Path(sys.executable).name, "-m", "tests.benchmarks.ledger_pages", *(argv or sys.argv[1:])]
                ),
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "total_seconds": round(total, 1),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "load_average_before": load_before,
                    "load_average_after": load_after,
                },
                "load": {
                    "tool": "wrk",
                    "threads": 1,
                    "connections": args.connections,
                    "duration_s": args.duration,
                    "warmup_s": args.warmup,
                    "rounds": args.rounds,
                    "app_workers": args.workers,
                },
                "databases": databases,
                "results": [asdict(row) for row in rows],
                "goals": [asdict(goal) for goal in goal_list],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    return 0 if all(goal.passed for goal in goal_list) else 1


if __name__ == "__main__":
    sys.exit(main())
