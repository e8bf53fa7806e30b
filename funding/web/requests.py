"""The app's request class: bodies that cannot be decoded are the client's error, never a 500."""

from __future__ import annotations

from typing import Any

from litestar import Request as LitestarRequest
from litestar.exceptions import ClientException

TOO_DEEP = "The request body is nested too deeply"


class Request(LitestarRequest):
    """msgspec gives up on JSON nested deeper than the interpreter's recursion limit (about a
    thousand levels) with a `RecursionError`; that is a bad request, said as a 400."""

    async def json(self) -> Any:
        try:
            return await super().json()
        except RecursionError:
            raise ClientException(TOO_DEEP) from None

    async def msgpack(self) -> Any:
        try:
            return await super().msgpack()
        except RecursionError:
            raise ClientException(TOO_DEEP) from None


def client_address(request: LitestarRequest) -> str:
    """Where a request came from, for the audit trail and the login throttle: the peer uvicorn
    reports (behind the proxy, the client it forwards for: `serve` trusts its headers)."""
    return request.client.host if request.client else ""
