"""The public pages' response cache: what makes two requests the same page, and what empties it."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest
from litestar.testing import AsyncTestClient

from funding.app import create_app
from funding.db import sqlite_path
from funding.ledger.service import LedgerService
from funding.programme.service import ProgrammeService
from funding.settings import Settings
from funding.web.cache import ResponseStore
from tests.factories import book_contribution, caching_is_on


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


@pytest.mark.parametrize(
    "headers", [{"Cache-Control": "no-cache"}, {"Cache-Control": "no-store, max-age=0"}, {"Pragma": "no-cache"}]
)
async def test_a_client_asking_for_a_fresh_page_is_served_from_the_cache(demo, client, renders, headers):
    """Otherwise any client could make every request a render (a free amplifier)."""
    await caching_is_on(client)
    await client.get("/ledger")
    for _ in range(3):
        assert (await client.get("/ledger", headers=headers)).status_code == 200
    assert len(renders) == 1


async def test_the_api_is_served_from_the_cache_whatever_the_client_asks(demo, client, monkeypatch):
    """The API's largest page (500 entries) was rendered afresh for every request: 200
    connections asking for it gave p99 10 s on PostgreSQL."""
    reads = count_calls(monkeypatch, LedgerService, "entries_after")
    await caching_is_on(client)
    for _ in range(3):
        response = await client.get("/api/v1/ledger?limit=500", headers={"Cache-Control": "no-cache"})
        assert response.status_code == 200
    assert len(reads) == 1


async def test_with_the_cache_switched_off_every_request_renders(demo, settings, renders):
    """What the benchmark's uncached mode measures: a server setting, not a request header."""
    assert Settings.from_env({"FUNDING_RESPONSE_CACHE": "off"}).response_cache is False
    assert Settings.from_env({}).response_cache is True
    async with AsyncTestClient(app=create_app(replace(settings, response_cache=False))) as client:
        for _ in range(3):
            assert (await client.get("/ledger")).status_code == 200
    assert len(renders) == 3


@pytest.mark.parametrize("query", ["before=100&before=100", "after=3&after=4", "before=9&after=2&before=9"])
async def test_a_repeated_parameter_is_refused_not_stored_as_another_page(demo, client, renders, query):
    await caching_is_on(client)
    response = await client.get(f"/ledger?{query}")
    assert response.status_code == 400 and renders == []
    assert (await client.get("/ledger?before=100&_=1&_=2")).status_code == 200, "unread ones are ignored"


async def test_the_language_link_carries_only_the_parameters_the_page_reads(demo, client):
    """A junk parameter would otherwise be written into the cached page everyone gets."""
    await caching_is_on(client)
    junk = "j" * 60_000
    for path, link in (("/ledger?before=60&", "/ledger?before=60&amp;lang=en"), ("/?", "/?lang=en")):
        page = await client.get(f"{path}utm_source=x&junk={junk}")
        assert page.status_code == 200 and len(page.text) < 100_000
        assert junk not in page.text and "utm_source" not in page.text
        assert f'href="{link}"' in page.text


async def test_a_response_that_sets_a_cookie_is_not_stored():
    """Whatever the cookie (language, session, CSRF): the next visitor must not be handed it."""
    store = ResponseStore()
    start = {"type": "http.response.start", "status": 200, "headers": [(b"set-cookie", b"sid=1; HttpOnly")]}
    body = {"type": "http.response.body", "body": b"page", "more_body": False}
    await store.set("1|GET|nl|/?", msgspec.msgpack.encode([start, body]))
    assert await store.get("1|GET|nl|/?") is None
    start["headers"] = [(b"content-type", b"text/html")]
    await store.set("1|GET|nl|/?", msgspec.msgpack.encode([start, body]))
    assert await store.get("1|GET|nl|/?") is not None


async def test_the_store_holds_at_most_its_byte_bound_dropping_the_least_recently_used():
    store = ResponseStore(max_bytes=300)
    for name in "abc":
        await store.set(f"1|{name}", b"x" * 90)
    assert await store.get("1|a")  # now the most recently used
    await store.set("1|d", b"x" * 90)
    assert await store.get("1|b") is None
    assert all([await store.get(f"1|{name}") for name in "acd"])
    assert store.size <= 300
    await store.set("1|huge", b"x" * 400)
    assert await store.get("1|huge") is None, "a page bigger than the whole store is not kept"
    assert await store.get("1|d")


async def test_expired_pages_are_swept_even_if_nobody_asks_for_them_again():
    store = ResponseStore(max_bytes=10_000, sweep_every=0)
    await store.set("1|old", b"x" * 100, expires_in=timedelta(milliseconds=10))
    await asyncio.sleep(0.05)
    await store.set("1|new", b"y" * 100)
    assert store.size == len("1|new") + 100
    assert await store.get("1|new") == b"y" * 100


async def test_reading_does_not_move_the_data_version(demo, database, client, backend):
    """SQLite's WAL file changes under read-only load (checkpoints, the last connection closing);
    a version taken from it emptied the cache of a busy site without a single write."""
    await caching_is_on(client)
    version = client.app.state.data_version
    before = version.current(), version.current("programme"), version.current("journal_entry")
    for _ in range(5):
        await asyncio.gather(*(client.get(path) for path in ("/ledger?before=70", "/", "/api/v1/ledger")))
        if backend == "sqlite":
            with sqlite3.connect(sqlite_path(database)) as connection:
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert (version.current(), version.current("programme"), version.current("journal_entry")) == before


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


async def test_a_page_read_before_a_change_is_not_stored_under_the_version_after_it(demo, ledger, client, monkeypatch):
    """Litestar builds the key again to store the page; that must not pick up a newer version."""
    await caching_is_on(client)
    version = client.app.state.data_version
    original = LedgerService.page
    reads: list[object] = []

    async def read_then_change(self, *args, **kwargs):
        page = await original(self, *args, **kwargs)
        if not reads:
            before = version.current()
            await book_contribution(ledger, 7, description="Bijdrage tijdens het lezen")
            for _ in range(100):  # PostgreSQL delivers the notification within milliseconds
                if version.current() != before:
                    break
                await asyncio.sleep(0.02)
        reads.append(page)
        return page

    monkeypatch.setattr(LedgerService, "page", read_then_change)
    assert "Bijdrage tijdens het lezen" not in (await client.get("/ledger")).text
    assert "Bijdrage tijdens het lezen" in (await client.get("/ledger")).text
    assert len(reads) == 2


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


async def test_the_programme_is_read_again_when_it_changes_not_when_the_journal_does(demo, ledger, client, monkeypatch):
    await caching_is_on(client)
    reads = count_calls(monkeypatch, ProgrammeService, "first_programme")
    version = client.app.state.data_version

    async def visit_after_change(before: str) -> None:
        for _ in range(100):  # PostgreSQL delivers the notification within milliseconds
            if version.current() != before:
                break
            await asyncio.sleep(0.02)
        for path in ("/ledger", "/accessibility"):
            assert (await client.get(path)).status_code == 200

    await visit_after_change(before="")
    assert len(reads) == 1
    before = version.current()
    await book_contribution(ledger, 5)
    await visit_after_change(before)
    assert len(reads) == 1, "the journal changed, the programme did not"
    before = version.current()
    await ProgrammeService().create_programme(slug="tweede", name="Tweede programma")
    await visit_after_change(before)
    assert len(reads) == 2
