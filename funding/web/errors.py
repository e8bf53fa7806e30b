"""Errors answer in the asker's format: JSON for the API and exports, the app's own page otherwise.

Never a stack trace: a 500 is logged in full on the server and shown as a short apology.
"""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus

import asyncpg
import msgspec
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi import ResponseSpec
from litestar.response import Template
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_429_TOO_MANY_REQUESTS,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from funding import i18n
from funding.invoicing.service import InvoiceNotFound
from funding.ledger.service import AlreadyReversed, EntryNotFound, IdempotencyConflict, LedgerError
from funding.payments.service import PaymentError, PaymentNotFound, PaymentUnavailable
from funding.pledges.service import PledgeError, PledgeNotFound, RoundNotFound
from funding.web.locale import choose as choose_locale
from funding.web.security import security_headers

log = logging.getLogger("funding.errors")

DATABASE_UNAVAILABLE = (
    OSError,  # connection refused or reset
    asyncpg.CannotConnectNowError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.InterfaceError,
    sqlite3.OperationalError,  # "database is locked" past the busy timeout
)
"""Passing outages (a database restart, a lock held too long): 503 and Retry-After, so clients
and load balancers retry, instead of a 500 and a traceback per request."""


class ErrorBody(msgspec.Struct):
    """Every JSON error: the status again, and a sentence saying what is wrong."""

    status_code: int
    detail: str
    extra: list | dict | None = None


def error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI descriptions of the errors a handler can answer with."""
    return {
        status: ResponseSpec(data_container=ErrorBody, description=HTTPStatus(status).phrase) for status in statuses
    }


def page_error_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI descriptions of the errors an HTML page answers with: the app's own error page."""
    return {
        status: ResponseSpec(
            data_container=str,
            media_type=MediaType.HTML,
            description=HTTPStatus(status).phrase,
            generate_examples=False,
        )
        for status in statuses
    }


JSON_AREAS = ("/api/", "/staff/api/", "/webhooks/", "/health", "/schema")
PAGE_AREAS = ("/pledges/", "/staff/")
"""Pages and the files they link (a pledge's, the back office's): their errors are pages, even for
an address that ends in `.json` (which elsewhere names a JSON export, as `/ledger.json`)."""


def wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith(JSON_AREAS):
        return True
    return path.endswith(".json") and not path.startswith(PAGE_AREAS)


def _status_and_detail(exc: Exception) -> tuple[int, str, object]:
    if isinstance(exc, (EntryNotFound, RoundNotFound, PledgeNotFound, PaymentNotFound, InvoiceNotFound)):
        return 404, str(exc), None
    if isinstance(exc, PaymentUnavailable):
        return HTTP_503_SERVICE_UNAVAILABLE, str(exc), None
    if isinstance(exc, PaymentError):
        return HTTP_400_BAD_REQUEST, str(exc), None
    if isinstance(exc, PledgeError):  # one a form did not catch: its field's message, as a 400
        return HTTP_400_BAD_REQUEST, str(exc), None
    if isinstance(exc, (IdempotencyConflict, AlreadyReversed)):
        return 409, str(exc), None
    if isinstance(exc, LedgerError):
        return HTTP_400_BAD_REQUEST, str(exc), None
    if isinstance(exc, ValidationException):
        return exc.status_code, exc.detail, exc.extra
    if isinstance(exc, HTTPException):
        return exc.status_code, exc.detail, None
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return HTTP_503_SERVICE_UNAVAILABLE, "The database is not available; try again shortly", None
    return HTTP_500_INTERNAL_SERVER_ERROR, "Internal Server Error", None


def handle_error(request: Request, exc: Exception) -> Response:
    status, detail, extra = _status_and_detail(exc)
    if status == HTTP_503_SERVICE_UNAVAILABLE:
        log.warning("database unavailable on %s %s: %r", request.method, request.url.path, exc)
    elif status >= 500:
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    state = request.scope.setdefault("state", {})
    if "locale" not in state:  # routing answered (unknown path, wrong method) before the middleware ran
        state["locale"] = choose_locale(request.scope)[1]
        i18n.set_locale(state["locale"])
    headers = {
        **security_headers(request.url.path, https=request.app.state.settings.secure_cookies),
        **(getattr(exc, "headers", None) or {}),
        **({"retry-after": "1"} if status == HTTP_503_SERVICE_UNAVAILABLE else {}),
    }
    if status == HTTP_429_TOO_MANY_REQUESTS and "RateLimit-Reset" in headers:
        headers["retry-after"] = headers["RateLimit-Reset"]  # the seconds left of the rate limit's minute
    if wants_json(request):
        body: dict = {"status_code": status, "detail": detail}
        if extra:
            body["extra"] = extra
        return Response(body, status_code=status, media_type=MediaType.JSON, headers=headers)
    return Template(
        "errors/error.html",
        context={
            "status_code": status,
            "detail": detail if status < 500 else "",
            "staff_area": request.url.path == "/staff" or request.url.path.startswith("/staff/"),
        },
        status_code=status,
        headers=headers,
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: handle_error, HTTPException: handle_error}
