"""Made-up URLs cannot grow the server's memory through the response cache (issue 7, §3).

A real `funding serve --demo` process (its resident memory is the point, not a test client's)
answers 5,000 requests: half with a `before` value of their own, each a full ledger page of
~80 KB that would be one more cache entry, half repeating `before` up to 50 times, which is
refused with a 400. Its VmRSS may grow past what it used after warming up by the store's byte
bound (the default, 32 MiB) plus a fixed allowance, and no more. Before the bound it grew by
~400 MB here.
"""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from funding.settings import Settings
from tests.live import LiveServer

REQUESTS = 5_000
WARM_UP = 300
CONCURRENCY = 8
STORE_BYTES = 32 * 2**20
"""The store's default bound (`FUNDING_RESPONSE_CACHE_BYTES`)."""
ALLOWANCE = 16 * 2**20
"""Room beyond the store's bound: allocator slack, the entry fragments of the few pages not yet
rendered during the warm-up, and the interpreter's own caches."""
MIB = 2**20


def rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def url(i: int) -> str:
    if i % 2:
        return "/ledger?" + "&".join(["before=100"] * (2 + i % 49))
    return f"/ledger?before={1_000 + i}"


async def load(base_url: str, urls: list[str]) -> list[int]:
    statuses: list[int] = []
    queue = list(reversed(urls))
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def worker() -> None:
            while queue:
                statuses.append((await client.get(queue.pop())).status_code)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return statuses


def test_distinct_and_repeated_parameters_leave_the_servers_memory_bounded(database: str, tmp_path) -> None:
    started = time.monotonic()
    with LiveServer(database, demo=True, log_path=tmp_path / "server.log") as server:
        pid = server.process.pid
        warm_up = asyncio.run(load(server.url, [url(i) for i in range(WARM_UP)]))
        baseline = rss(pid)
        statuses = asyncio.run(load(server.url, [url(i) for i in range(WARM_UP, REQUESTS)]))
        after = rss(pid)
    seconds = time.monotonic() - started
    print(
        f"RSS {baseline / MIB:.0f} MiB after {WARM_UP} requests, {after / MIB:.0f} MiB after "
        f"{REQUESTS} ({seconds:.0f} s); bound {(STORE_BYTES + ALLOWANCE) / MIB:.0f} MiB growth"
    )
    assert after - baseline <= STORE_BYTES + ALLOWANCE, (
        f"RSS grew by {(after - baseline) / MIB:.0f} MiB, more than the store's bound allows"
    )
    assert sorted(set(warm_up + statuses)) == [200, 400]
    assert statuses.count(400) == (REQUESTS - WARM_UP) // 2
    assert Settings().response_cache_bytes == STORE_BYTES
    if seconds > 60:
        pytest.fail(f"took {seconds:.0f} s: too slow to stay in the suite")
