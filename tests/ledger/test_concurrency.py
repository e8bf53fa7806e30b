"""Concurrent appends never share a seq and never fork the chain."""

import asyncio
import os
import sys

import pytest

from funding.ledger.service import LedgerService
from tests.factories import book_contribution, open_chart

pytestmark = pytest.mark.postgres_only


async def test_concurrent_appends_get_consecutive_seqs_and_one_chain(ledger):
    await open_chart(ledger)
    booked = await asyncio.gather(*[book_contribution(ledger, euros) for euros in range(1, 21)])
    assert sorted(e.seq for e in booked) == list(range(1, 21))
    assert len({e.hash for e in booked}) == 20
    result = await ledger.verify()
    assert result.ok and result.checked == 20


APPENDER = """
import asyncio, sys
from funding import db
from funding.ledger.service import LedgerService
from tests.factories import book_contribution
db.bind(db.engine_for_url(sys.argv[1]))
async def main():
    ledger = LedgerService()
    for i in range(int(sys.argv[2])):
        await book_contribution(ledger, i + 1)
asyncio.run(main())
"""


async def test_two_processes_appending_at_once_never_share_a_seq(database):
    await open_chart(LedgerService())
    env = {**os.environ, "DATABASE_URL": database}
    procs = [
        await asyncio.create_subprocess_exec(sys.executable, "-c", APPENDER, database, "15", env=env) for _ in range(2)
    ]
    codes = [await p.wait() for p in procs]
    assert codes == [0, 0]
    ledger = LedgerService()
    result = await ledger.verify()
    assert result.ok and result.checked == 30
