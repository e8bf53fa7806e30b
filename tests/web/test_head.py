"""HEAD answers like GET, without a body, on every route in the route table."""

import asyncio
import re

import pytest

EXAMPLES = {
    # A path for each route that takes a parameter; a new one fails below until it has one here.
    "/static/{file_path:path}": "/static/site.css",
    "/tile/{level:str}/{index:path}": "/tile/0/000.p/1",
    "/schema/{path:str}": "/schema/nergens",
    "/schema/assets/{asset:str}": "/schema/assets/swagger-ui.css",
    "/staff/api/v1/journal/entries/{seq:int}/reversal": "/staff/api/v1/journal/entries/1/reversal",
    "/rounds/{slug:str}/pledge": "/rounds/nergens/pledge",
    "/rounds/{slug:str}/pledge/resend": "/rounds/nergens/pledge/resend",
    "/pledges/{token:str}": "/pledges/" + "x" * 43,
    "/pledges/{token:str}/amount": "/pledges/" + "x" * 43 + "/amount",
    "/pledges/{token:str}/cancel": "/pledges/" + "x" * 43 + "/cancel",
    "/pledges/{token:str}/pay": "/pledges/" + "x" * 43 + "/pay",
    "/pledges/{token:str}/return": "/pledges/" + "x" * 43 + "/return",
    "/pledges/{token:str}/invoice": "/pledges/" + "x" * 43 + "/invoice",
    "/pledges/{token:str}/invoices/{file:str}": "/pledges/" + "x" * 43 + "/invoices/2026-0001.pdf",
    "/staff/users/{user_id:int}/role": "/staff/users/1/role",
    "/staff/pledges/{pledge_id:int}": "/staff/pledges/999999",
    "/staff/pledges/{pledge_id:int}/invoices/{file:str}": "/staff/pledges/999999/invoices/2026-0001.pdf",
    "/staff/pledges/{pledge_id:int}/amount": "/staff/pledges/999999/amount",
    "/staff/pledges/{pledge_id:int}/cancel": "/staff/pledges/999999/cancel",
    "/staff/pledges/{pledge_id:int}/invoice": "/staff/pledges/999999/invoice",
    "/staff/pledges/{pledge_id:int}/reminder": "/staff/pledges/999999/reminder",
    "/staff/pledges/{pledge_id:int}/refund": "/staff/pledges/999999/refund",
    "/staff/users/{user_id:int}/disable": "/staff/users/1/disable",
    "/staff/api/v1/pledges/{reference:str}/invoice": "/staff/api/v1/pledges/RF18539007547034/invoice",
    "/staff/api/v1/invoices/{number:str}": "/staff/api/v1/invoices/2026-0001",
    "/staff/api/v1/invoices/{number:str}/credit-notes": "/staff/api/v1/invoices/2026-0001/credit-notes",
    "/staff/api/v1/invoices/{number:str}/{suffix:str}": "/staff/api/v1/invoices/2026-0001/pdf",
    # An unknown round (a 404, on GET and HEAD alike): the demo's rounds change with the demo.
    "/rounds/{slug:str}": "/rounds/nergens",
    "/api/v1/rounds/{slug:str}": "/api/v1/rounds/nergens",
    "/api/v1/rounds/{slug:str}/fair-shares": "/api/v1/rounds/nergens/fair-shares",
}
SAME_HEADERS = ("content-type", "content-length", "content-security-policy", "cache-control", "allow")


async def asgi_head(app, path: str) -> tuple[int, dict[str, str], bytes]:
    """HEAD straight through the ASGI interface: test clients drop a HEAD response's body
    themselves, which would hide one the app sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "HEAD",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver.local")],
        "client": ("127.0.0.1", 1),
        "server": ("testserver.local", 80),
    }
    messages, requested, done = [], [], asyncio.Event()

    async def receive():
        if requested:  # as servers do, say "disconnected" once the response is complete
            await done.wait()
            return {"type": "http.disconnect"}
        requested.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            done.set()

    await app(scope, receive, send)
    start, *bodies = messages
    headers = {name.decode(): value.decode() for name, value in start["headers"]}
    return start["status"], headers, b"".join(body.get("body", b"") for body in bodies)


def example_paths(app) -> list[str]:
    paths = []
    for route in app.routes:
        if re.search(r"\{[^}]+\}", route.path):
            assert route.path in EXAMPLES, f"add an example path for {route.path} to EXAMPLES"
            paths.append(EXAMPLES[route.path])
        else:
            paths.append(route.path)
    return paths


async def test_head_answers_every_route_like_get_without_a_body(demo, client):
    paths = example_paths(client.app)
    assert {"/", "/ledger", "/api/v1/ledger", "/schema", "/static/site.css"} <= set(paths)
    for path in paths:
        get = await client.get(path)
        status, headers, body = await asgi_head(client.app, path)
        assert (path, status) == (path, get.status_code)
        assert (path, body) == (path, b"")
        for name in SAME_HEADERS:
            assert (path, name, headers.get(name)) == (path, name, get.headers.get(name))


@pytest.mark.parametrize("path", ["/", "/api/v1/ledger/head"])
async def test_head_on_a_page_that_is_not_there_is_a_404_without_a_body(client, path):
    status, _headers, body = await asgi_head(client.app, path + "nergens")
    assert (status, body) == (404, b"")
