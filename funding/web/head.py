"""HEAD is answered as GET without the body (RFC 9110 §9.3.2), on every route.

It has to happen before routing: Litestar routes by method, so a route without a HEAD handler
answers 405 before any middleware runs, and a HEAD handler may not return a body at all.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    """Runs a HEAD request as a GET and sends its status and headers (Content-Length included,
    as GET would send it) but no body. The server's own scope keeps saying HEAD, so it frames
    the response as one to HEAD."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)
