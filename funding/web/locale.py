"""Chooses each request's language: `?lang=` (remembered in a cookie), then the cookie, then Dutch.

Accept-Language is not consulted: the site is Dutch first, and a visitor switches explicitly.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from funding import i18n

COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600


class LocaleMiddleware(ASGIMiddleware):
    def __init__(self, secure_cookies: bool = False) -> None:
        self.secure_cookies = secure_cookies

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        chosen, locale = choose(scope)
        i18n.set_locale(locale)
        scope.setdefault("state", {})["locale"] = locale
        if not chosen:
            await next_app(scope, receive, send)
            return

        cookie = remembered(chosen, secure=self.secure_cookies)

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie.to_header(header=""))
            await send(message)

        await next_app(scope, receive, remember)


def choose(scope: Scope) -> tuple[str | None, str]:
    """The locale `?lang=` asks for (None if it asks none), and the locale to answer in."""
    connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
    chosen = i18n.negotiate(connection.query_params.get("lang"))
    return chosen, chosen or i18n.negotiate(connection.cookies.get(COOKIE)) or i18n.DEFAULT_LOCALE


def remembered(locale: str, secure: bool) -> Cookie:
    """The cookie that keeps a chosen language for a year (Secure on https sites)."""
    return Cookie(key=COOKIE, value=locale, path="/", max_age=ONE_YEAR, httponly=True, samesite="lax", secure=secure)
