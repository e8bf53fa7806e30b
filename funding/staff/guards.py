"""Who may use the staff side: the staff API whoever presents the configured bearer token, the
back office a logged-in staff user whose role the route allows."""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from funding.accounts.service import AccountService
from funding.settings import Settings


def require_api_token(connection: ASGIConnection, _handler: BaseRouteHandler) -> None:
    settings: Settings = connection.app.state.settings
    if not settings.staff_api_token:
        raise PermissionDeniedException("the staff API is disabled: FUNDING_STAFF_API_TOKEN is not set")
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.staff_api_token.encode()):
        raise NotAuthorizedException(
            "a valid bearer token is required", headers={"WWW-Authenticate": 'Bearer realm="funding staff"'}
        )


STAFF_COOKIE = "funding-staff"
"""The session cookie's name; over HTTPS it is `__Host-funding-staff` (Secure, Path=/, no Domain)."""


def staff_cookie(settings: Settings) -> str:
    return f"__Host-{STAFF_COOKIE}" if settings.secure_cookies else STAFF_COOKIE


async def require_staff(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """A logged-in staff user whose role the route allows (`opt["roles"]`, set on each staff
    controller); the user is left in `connection.state.staff` for the handler. Nobody logged in:
    401 (the page leads to the login); the wrong role: 403."""
    settings: Settings = connection.app.state.settings
    account = await AccountService().session_user(connection.cookies.get(staff_cookie(settings), ""))
    if account is None:
        raise NotAuthorizedException("log in to use the back office")
    roles = handler.opt.get("roles")
    if not roles:
        raise PermissionDeniedException("this staff route names no roles: nobody may use it")
    if account.role not in roles:
        raise PermissionDeniedException("your role may not use this part of the back office")
    connection.state.staff = account
