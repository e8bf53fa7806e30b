"""Who may use the staff API: whoever presents the configured bearer token."""

from __future__ import annotations

import hmac

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

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
