"""The Litestar application: audiences' controllers on top of the domain services."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from funding import db
from funding.api.controllers import HealthController, LedgerApiController, TotalsApiController
from funding.api.log import CheckpointController, LogApiController, TileController
from funding.api.rounds import RoundsApiController
from funding.api.webhooks import WebhookController
from funding.dependencies import SERVICES, log_key, mollie_api, payment_service, pledge_service
from funding.ledger.log import LogService
from funding.logs import app_logging_config
from funding.payments.mollie import checkout_origin
from funding.periodic import every
from funding.pledges.closing import round_closer
from funding.public.controllers import PublicController
from funding.public.invoices import InvoiceController
from funding.public.pledging import PledgeController
from funding.public.rounds import RoundController
from funding.settings import Settings
from funding.staff.api import StaffApiController
from funding.staff.pages import (
    StaffAuditController,
    StaffHomeController,
    StaffLoginController,
    StaffPledgesController,
    StaffUsersController,
)
from funding.web import ratelimit
from funding.web.cache import DataVersion, Memo, ResponseStore, cache_key, cacheable
from funding.web.errors import EXCEPTION_HANDLERS
from funding.web.head import HeadAsGet
from funding.web.locale import LocaleMiddleware
from funding.web.openapi import SwaggerUI
from funding.web.requests import Request
from funding.web.security import SecurityHeadersMiddleware
from funding.web.static import static_files_router
from funding.web.templating import template_config

CSRF_EXEMPT = [
    # Mollie's unsigned webhook, and the bearer-token staff API (no cookies, so no CSRF to forge).
    "^/webhooks/mollie$",
    "^/staff/api/",
    # Read-only pages and data without forms: no CSRF cookie, so they can be cached for everyone.
    "^/$",
    "^/ledger",
    "^/checkpoint$",
    "^/tile/",
    "^/accessibility$",
    "^/verify$",
    "^/rounds/?$",
    "^/rounds/[^/]+/?$",  # a round's page, not its pledge form below it
    "^/api/",
    "^/health",
    "^/schema",
    "^/static/",
]


@asynccontextmanager
async def settled_heap(_app: Litestar) -> AsyncIterator[None]:
    """Once started, move what the process holds for good (modules, routes, templates: some
    100,000 objects) out of the garbage collector's sight. Its full collections walked them all,
    some 50 ms in which a worker answers no request, every few thousand requests: most of a busy
    page's p99. Unfrozen at shutdown, so apps that tests start and stop leave nothing behind."""
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    db.bind(db.engine_for_url(settings.database_url))
    data_version = DataVersion(settings)
    mollie = mollie_api(settings)
    payment_origins = [checkout_origin(settings.mollie_api_endpoint)] if mollie.configured else []

    key = log_key(settings)

    async def issue_checkpoint() -> None:
        await LogService(key.signer()).issue()

    async def reconcile() -> None:
        if mollie.configured:
            await payment_service(settings, mollie).reconcile()

    @asynccontextmanager
    async def database(_app: Litestar) -> AsyncIterator[None]:
        async with db.connection_pool(settings.database_pool_size):
            yield

    app = Litestar(
        route_handlers=[
            PublicController,
            PledgeController,
            InvoiceController,
            RoundController,
            LedgerApiController,
            TotalsApiController,
            RoundsApiController,
            CheckpointController,
            LogApiController,
            TileController,
            HealthController,
            WebhookController,
            StaffApiController,
            StaffLoginController,
            StaffHomeController,
            StaffUsersController,
            StaffPledgesController,
            StaffAuditController,
            static_files_router(),
        ],
        dependencies=SERVICES,
        request_class=Request,
        lifespan=[
            database,
            data_version.lifespan,
            round_closer(lambda: pledge_service(settings), settings.round_closing_interval),
            every(settings.payment_reconcile_interval, reconcile, "reconcile Mollie payments"),
            settled_heap,
            every(settings.checkpoint_interval, issue_checkpoint, "issue a checkpoint"),
        ],
        middleware=[
            SecurityHeadersMiddleware(https=settings.secure_cookies, payment_origins=payment_origins),
            LocaleMiddleware(secure_cookies=settings.secure_cookies),
            ratelimit.rate_limit_config(settings).middleware,
        ],
        template_config=template_config(),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            exclude=CSRF_EXEMPT,
        ),
        response_cache_config=ResponseCacheConfig(
            key_builder=cache_key, default_expiration=300, cache_response_filter=cacheable
        ),
        stores={
            "response_cache": ResponseStore(max_bytes=settings.response_cache_bytes),
            **ratelimit.stores(settings),
        },
        openapi_config=OpenAPIConfig(
            title="funding",
            version="1",
            description="The public, read-only interface of the contribution ledger.",
            path="/schema",
            render_plugins=[SwaggerUI()],
            components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=app_logging_config(),
        state=State(
            {
                "settings": settings,
                "log_key": key,
                "mollie": mollie,
                "data_version": data_version,
                "programme": Memo("programme"),
                "budget": Memo("programme", "budget_period", "budget_line"),
            }
        ),
    )
    app.asgi_handler = HeadAsGet(app.asgi_handler)  # outside routing, which would answer HEAD with 405
    return app
