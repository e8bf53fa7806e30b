"""Chooses each request's language: `?lang=` (remembered in a cookie), then the cookie, then Dutch."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qs

from litestar.datastructures import MutableScopeHeaders
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

        async def remember(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookie = f"{COOKIE}={chosen}; Path=/; Max-Age={ONE_YEAR}; SameSite=Lax; HttpOnly"
                if self.secure_cookies:
                    cookie += "; Secure"
                MutableScopeHeaders.from_message(message).add("set-cookie", cookie)
            await send(message)

        await next_app(scope, receive, send=remember)


def choose(scope: Scope) -> tuple[str | None, str]:
    """The locale `?lang=` asks for (None if it asks none), and the locale to answer in."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    chosen = i18n.negotiate((query.get("lang") or [None])[0])
    return chosen, chosen or i18n.negotiate(_cookie(scope)) or i18n.DEFAULT_LOCALE


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except CookieError:  # a malformed Cookie header just means no preference
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None
