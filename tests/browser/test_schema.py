"""The OpenAPI viewer at /schema works in a browser under the site's strict Content Security
Policy: its files are the app's own, and nothing on the page is inline."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_the_openapi_viewer_renders_the_api_without_breaking_the_policy(page, demo_server):
    problems: list[str] = []
    page.on("console", lambda message: message.type == "error" and problems.append(message.text))
    page.on(
        "response", lambda response: response.status >= 400 and problems.append(f"{response.status} {response.url}")
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    outside: list[str] = []
    page.on("request", lambda request: request.url.startswith(demo_server.url) or outside.append(request.url))
    page.goto("/schema")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "funding" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock-tag", has_text="ledger").first.wait_for()
    assert page.locator(".opblock").count() >= 3, "no operations listed"
    assert outside == []
    assert problems == [], problems
