"""Rate limits on requests that change something: each client gets so many per minute.

Reading is never counted: pages are cached and cheap, and a visitor clicking around must never
see a 429. A POST can send mail or start a payment, so one address gets
`rate_limit_per_minute` unsafe requests (POST, PUT, PATCH, DELETE), then a 429 until the minute
is over. With `REDIS_URL` set every app process counts in the same Redis, so the limit holds for
the site rather than per worker; without it each process counts alone.

Not limited: Mollie's webhook (Mollie retries until it gets a 200; a 429 only delays a payment's
status), the staff API (bearer-token clients that import in bulk), health checks and static files.

Litestar's middleware reads a client's count and writes it back under a lock that is per
process, so concurrent requests through different processes can let a few extra through: a
brake on abuse, not an exact quota.
"""

from __future__ import annotations

from litestar import Request
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore

from funding.settings import Settings

STORE = "rate_limit"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_LIMITED = ["^/health", "^/static/", "^/webhooks/mollie$", "^/staff/api/"]


async def is_unsafe(request: Request) -> bool:
    # Async on purpose: Litestar would run a plain function in a worker thread, for every request.
    return request.method in UNSAFE_METHODS


def rate_limit_config(settings: Settings) -> RateLimitConfig:
    """The limit for `Litestar(middleware=[…, rate_limit_config(settings).middleware])`."""
    if settings.rate_limit_per_minute < 1:
        raise ValueError("FUNDING_RATE_LIMIT must be at least 1 (requests per minute)")
    return RateLimitConfig(
        rate_limit=("minute", settings.rate_limit_per_minute),
        exclude=NOT_LIMITED,
        check_throttle_handler=is_unsafe,
        store=STORE,
    )


LOGIN_STORE = "login_throttle"
"""Failed staff logins per account and address (`funding.accounts.service`)."""


def stores(settings: Settings) -> dict[str, Store]:
    """The stores counts are kept in, for `Litestar(stores=…)`: requests, and failed logins.
    Redis when configured, so every app process counts the same; memory otherwise."""
    if settings.redis_url:
        shared = RedisStore.with_client(url=settings.redis_url, namespace=settings.redis_namespace)
        return {STORE: shared, LOGIN_STORE: shared.with_namespace("login")}
    return {STORE: MemoryStore(), LOGIN_STORE: MemoryStore()}
