"""Unsafe requests are limited per client; reads never are; with Redis, app processes share the count.

The app has no public form yet, so each test registers a tiny page with a form (GET and POST) on
the real app, behind its real middleware, CSRF included.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from litestar import Litestar, get, post
from litestar.stores.redis import RedisStore
from litestar.testing import AsyncTestClient
from redis.asyncio import Redis
from redis.exceptions import RedisError

from funding.app import create_app
from funding.settings import Settings
from funding.web.ratelimit import rate_limit_config, stores
from tests.conftest import ON_CI, REDIS_URL

LIMIT = 3
FORM = "/rate-limit-test"


@get(FORM, name="rate_limit_test_form")
async def form() -> str:
    return "form"


@post(FORM)
async def submit() -> str:
    return "done"


@post("/api/rate-limit-test")
async def api_write() -> str:
    return "done"


@post("/staff/api/rate-limit-test")
async def staff_api_write() -> str:
    return "done"


@post("/health/rate-limit-test")
async def health_write() -> str:
    return "ok"


def limited_app(settings: Settings) -> Litestar:
    app = create_app(replace(settings, rate_limit_per_minute=LIMIT))
    for handler in (form, submit, api_write, staff_api_write, health_write):
        app.register(handler)
    return app


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=limited_app(settings)) as test_client:
        yield test_client


async def submit_form(client: AsyncTestClient) -> int:
    """Read the form (which sets the CSRF cookie), then send it: the status of the POST."""
    assert (await client.get(FORM)).status_code == 200
    response = await client.post(FORM, headers={"x-csrftoken": client.cookies["csrftoken"]})
    return response.status_code


async def test_posts_beyond_the_limit_get_a_429_page_and_reads_are_never_counted(client):
    assert [await submit_form(client) for _ in range(LIMIT)] == [201] * LIMIT
    for _ in range(10):
        assert (await client.get(FORM)).status_code == 200
        assert (await client.get("/")).status_code == 200
    response = await client.post(FORM, headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("text/html")
    assert "Te veel verzoeken" in response.text and "Wacht een minuut" in response.text
    assert response.headers["ratelimit-remaining"] == "0"
    assert 0 < int(response.headers["retry-after"]) <= 60
    assert "content-security-policy" in response.headers, "the app's own error page, with its headers"
    assert (await client.get(FORM)).status_code == 200, "reading goes on"


async def test_the_429_page_speaks_the_visitors_language(client):
    for _ in range(LIMIT):
        await submit_form(client)
    response = await client.post(f"{FORM}?lang=en", headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == 429
    assert "Too many requests" in response.text and "Please wait a minute" in response.text


async def test_a_post_refused_for_its_csrf_token_still_counts(client):
    """The limit comes before the CSRF check: a forger cannot post without limit either."""
    assert [(await client.post(FORM)).status_code for _ in range(LIMIT)] == [403] * LIMIT
    assert await submit_form(client) == 429


async def test_the_api_answers_a_429_in_json(client):
    statuses = [(await client.post("/api/rate-limit-test")).status_code for _ in range(LIMIT + 1)]
    assert statuses == [201] * LIMIT + [429]
    response = await client.post("/api/rate-limit-test")
    assert response.json() == {"status_code": 429, "detail": "Too Many Requests"}
    assert 0 < int(response.headers["retry-after"]) <= 60


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/webhooks/mollie", 400),  # the real webhook, asked without an id
        ("/staff/api/rate-limit-test", 201),
        ("/health/rate-limit-test", 201),
    ],
)
async def test_webhooks_staff_api_and_health_are_not_limited_and_do_not_count(client, path, status):
    assert {(await client.post(path)).status_code for _ in range(LIMIT * 3)} == {status}
    assert [await submit_form(client) for _ in range(LIMIT)] == [201] * LIMIT


def test_the_limit_and_redis_come_from_the_environment():
    configured = Settings.from_env(
        {"FUNDING_RATE_LIMIT": "7", "REDIS_URL": "redis://r:6379/1", "FUNDING_REDIS_NAMESPACE": "site-b"}
    )
    assert (configured.rate_limit_per_minute, configured.redis_url, configured.redis_namespace) == (
        7,
        "redis://r:6379/1",
        "site-b",
    )
    defaults = Settings.from_env({})
    assert (defaults.rate_limit_per_minute, defaults.redis_url, defaults.redis_namespace) == (20, "", "funding")
    assert rate_limit_config(Settings()).rate_limit == ("minute", 20)
    with pytest.raises(ValueError, match="FUNDING_RATE_LIMIT"):
        rate_limit_config(Settings(rate_limit_per_minute=0))


async def test_without_redis_each_process_counts_alone(settings):
    assert stores(settings).keys() == {"rate_limit", "login_throttle"} and not settings.redis_url
    async with (
        AsyncTestClient(app=limited_app(settings)) as first,
        AsyncTestClient(app=limited_app(settings)) as second,
    ):
        assert [await submit_form(first) for _ in range(LIMIT)] == [201] * LIMIT
        assert await submit_form(first) == 429
        assert [await submit_form(second) for _ in range(LIMIT)] == [201] * LIMIT


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        reason = f"needs Redis at {REDIS_URL} (set REDIS_URL): {error}"
        if ON_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    yield client
    await client.aclose()


async def test_with_redis_two_processes_share_one_count(settings, redis):
    namespace = f"funding-test-{uuid.uuid4().hex}"  # this test's own: runs beside it keep their counts
    shared = replace(settings, redis_url=REDIS_URL, redis_namespace=namespace)
    assert isinstance(stores(shared)["rate_limit"], RedisStore)
    try:
        async with (
            AsyncTestClient(app=limited_app(shared)) as first,
            AsyncTestClient(app=limited_app(shared)) as second,
        ):
            assert [await submit_form(first), await submit_form(second), await submit_form(first)] == [201] * LIMIT
            assert await submit_form(second) == 429
            assert await submit_form(first) == 429
            assert (await second.get(FORM)).status_code == 200
        [key] = [key async for key in redis.scan_iter(f"{namespace}:*")]
        assert 0 < await redis.ttl(key) <= 60, "the count goes when its minute does"
    finally:
        if keys := [key async for key in redis.scan_iter(f"{namespace}:*")]:
            await redis.delete(*keys)
