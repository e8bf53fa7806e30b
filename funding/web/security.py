"""Security headers on every response, errors and static files included."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'{}; frame-ancestors 'none'"
)
CONTENT_SECURITY_POLICY = _POLICY.format("")
"""One policy for every response, the OpenAPI viewer at /schema included (its files are the app's own)."""
PRIVATE_PATHS = ("/pledges/",)
"""Addresses that hold a secret (a pledge's token): they send no Referer, not even to this site."""
PRIVATE = {"cache-control": "private, no-store", "x-robots-tag": "noindex"}
"""A response for one person (a pledge page, what a pledger typed, an invoice): for that browser only, never kept."""


def content_security_policy(form_targets: Sequence[str] = ()) -> str:
    """The policy, with `form-action` also allowing `form_targets` (origins)."""
    return _POLICY.format("".join(f" {origin}" for origin in form_targets))


def security_headers(path: str, https: bool, payment_origins: Sequence[str] = ()) -> dict[str, str]:
    """The headers for a response to `path`. A pledge's page also lets its forms lead to
    `payment_origins`: "pay now" posts to this site, which redirects to Mollie's checkout, and
    browsers hold that redirect to `form-action` too."""
    private = path.startswith(PRIVATE_PATHS)
    headers = {
        "content-security-policy": content_security_policy(payment_origins if private else ()),
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer" if private else "same-origin",
        "permissions-policy": "camera=(), microphone=(), geolocation=()",
        "cross-origin-opener-policy": "same-origin",
    }
    if https:
        headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
    return headers


class SecurityHeadersMiddleware(ASGIMiddleware):
    """Middleware only wraps matched routes: the error handler adds the same headers to the 404s and
    405s that routing answers itself (see `funding.web.errors`)."""

    def __init__(self, https: bool = False, payment_origins: Sequence[str] = ()) -> None:
        self.https, self.payment_origins = https, tuple(payment_origins)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        added = security_headers(scope.get("path", ""), self.https, self.payment_origins)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in added.items():
                    headers[name] = value
            await send(message)

        await next_app(scope, receive, with_headers)
