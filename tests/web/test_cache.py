"""The public pages' response cache: what makes two requests the same page, and what empties it."""

from __future__ import annotations

import asyncio

import pytest

from funding.ledger.service import LedgerService
from funding.programme.service import ProgrammeService
from funding.web.cache import ResponseStore
from tests.factories import book_contribution, caching_is_on

FRESH = {"Cache-Control": "no-cache"}


def count_calls(monkeypatch, cls: type, name: str) -> list[tuple]:
    """Records the arguments of every call to the async method `cls.name`, which still runs."""
    calls: list[tuple] = []
    original = getattr(cls, name)

    async def counted(self, *args, **kwargs):
        calls.append((args, kwargs))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(cls, name, counted)
    return calls


@pytest.fixture
def renders(monkeypatch) -> list[tuple]:
    """Every time the ledger page is read from the database rather than from the cache."""
    return count_calls(monkeypatch, LedgerService, "page")


async def test_made_up_query_parameters_neither_bypass_nor_grow_the_cache(demo, client, renders):
    await caching_is_on(client)
    pages = [(await client.get(url)).text for url in ("/ledger?_=1", "/ledger?_=2&utm_source=x", "/ledger")]
    assert len(renders) == 1 and pages[0] == pages[1] == pages[2]
    await client.get("/ledger?before=5")
    assert len(renders) == 2, "a parameter the page reads is a different page"


async def test_no_cache_from_the_client_renders_afresh_and_stores_nothing(demo, client, renders):
    await caching_is_on(client)
    await client.get("/ledger")
    fresh = await client.get("/ledger", headers=FRESH)
    assert fresh.status_code == 200 and len(renders) == 2
    await client.get("/ledger")
    assert len(renders) == 2, "the fresh page did not replace or evict the cached one"


async def test_an_append_renders_the_page_again(demo, ledger, client, renders):
    await caching_is_on(client)
    await client.get("/ledger")
    await book_contribution(ledger, 12)
    for _ in range(40):  # PostgreSQL delivers the notification within milliseconds
        await client.get("/ledger")
        if len(renders) == 2:
            break
        await asyncio.sleep(0.05)
    assert len(renders) == 2


@pytest.mark.postgres_only
async def test_nothing_is_cached_while_changes_go_unheard(demo, client, renders):
    """Without the listener a NOTIFY would be missed, so a stored page could go stale."""
    await caching_is_on(client)
    client.app.state.data_version.listening = False
    for _ in range(2):
        await client.get("/ledger")
    assert len(renders) == 2


async def test_the_store_keeps_one_data_version_only():
    store = ResponseStore()
    await store.set("1|GET|nl|/ledger?", b"old page")
    await store.set("1|GET|nl|/?", b"old home")
    await store.set("2|GET|nl|/ledger?", b"new page")
    assert await store.get("1|GET|nl|/?") is None
    assert await store.get("2|GET|nl|/ledger?") == b"new page"


async def test_the_programme_is_read_again_when_it_changes_not_when_the_journal_does(
    demo, ledger, client, monkeypatch, backend
):
    await caching_is_on(client)
    reads = count_calls(monkeypatch, ProgrammeService, "first_programme")
    version = client.app.state.data_version

    async def visit_after_change(before: str) -> None:
        for _ in range(100):  # PostgreSQL delivers the notification within milliseconds
            if version.current() != before:
                break
            await asyncio.sleep(0.02)
        for path in ("/ledger", "/accessibility"):
            assert (await client.get(path, headers=FRESH)).status_code == 200

    await visit_after_change(before="")
    assert len(reads) == 1
    before = version.current()
    await book_contribution(ledger, 5)
    await visit_after_change(before)
    # SQLite knows only that the file changed; PostgreSQL says which table did.
    assert len(reads) == (1 if backend == "postgresql" else 2)
    before = version.current()
    await ProgrammeService().create_programme(slug="tweede", name="Tweede programma")
    await visit_after_change(before)
    assert len(reads) == (2 if backend == "postgresql" else 3)
