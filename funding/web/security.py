"""Security headers on every response, errors and static files included."""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
"""One policy for every response, the OpenAPI viewer at /schema included (its files are the app's own)."""
PRIVATE_PATHS = ("/pledges/",)
"""Addresses that hold a secret (a pledge's token): they send no Referer, not even to this site."""


def security_headers(path: str, https: bool) -> dict[str, str]:
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer" if path.startswith(PRIVATE_PATHS) else "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
        "cross-origin-opener-policy": "same-origin",
    }
    if https:
        headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware(ASGIMiddleware):
    """Middleware only wraps matched routes: the error handler adds the same headers to the 404s and
    405s that routing answers itself (see `funding.web.errors`)."""

    def __init__(self, https: bool = False) -> None:
        self.https = https

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        added = security_headers(scope.get("path", ""), self.https)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in added.items():
                    headers[name] = value
            await send(message)

        await next_app(scope, receive, with_headers)
