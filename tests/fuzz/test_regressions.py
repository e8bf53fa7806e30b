"""What the fuzzer and the hygiene crawl found, each kept as a plain test.

Every test names the request that failed and what it did before the fix.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from funding.ledger.service import account_kind
from tests.factories import STAFF_AUTH, caching_is_on

ENTRY = {
    "kind": "bank_transfer",
    "description": "Bijdrage",
    "occurred_on": "2026-04-01",
    "postings": [{"account": "assets:bank", "amount": 100}, {"account": "income:contributions", "amount": -100}],
}


async def schema_of(client) -> dict:
    return (await client.get("/schema/openapi.json")).json()


async def test_options_does_not_replace_a_cached_page(client):
    """`OPTIONS /` (204, empty) was stored under the page's cache key: `GET /` then answered 204
    with an empty body for five minutes, for everyone."""
    await caching_is_on(client)
    assert (await client.options("/")).status_code == 204
    page = await client.get("/")
    assert page.status_code == 200 and "<html" in page.text


async def test_html_pages_document_their_errors_as_html(client):
    """`GET /ledger?before=9007199254740993` answers the app's 400 page (text/html), but the schema
    promised application/json for a 400."""
    problems = []
    for path, operations in (await schema_of(client))["paths"].items():
        for method, operation in operations.items():
            responses = operation.get("responses", {})
            if "text/html" not in responses.get("200", {}).get("content", {}):
                continue
            for status, response in responses.items():
                if status.startswith("4") and set(response.get("content", {})) != {"text/html"}:
                    problems.append(f"{method.upper()} {path} {status}: {sorted(response.get('content', {}))}")
    assert problems == []


@pytest.mark.parametrize("seq", [2**63, 2**70, 0, -1])
async def test_reversal_of_an_impossible_seq_is_a_400(staff, seq):
    """`POST …/entries/9223372036854775808/reversal` was a 500: the number reached the database."""
    url = f"/staff/api/v1/journal/entries/{seq}/reversal"
    response = await staff.post(url, json={"reason": "x"}, headers=STAFF_AUTH)
    assert response.status_code == 400 and response.json()["detail"]


async def test_the_schema_says_unknown_fields_are_refused(staff):
    """A reversal with an extra field `â` was refused (msgspec forbids unknown fields) while the
    schema allowed any extra property."""
    components = (await schema_of(staff))["components"]["schemas"]
    for name in ("NewEntry", "NewPosting", "NewReversal", "NewAccount"):
        assert components[name]["additionalProperties"] is False, name
    entry = {**ENTRY, "postings": [{**ENTRY["postings"][0], "note": "x"}, ENTRY["postings"][1]]}
    response = await staff.post("/staff/api/v1/journal/entries", json=entry, headers=STAFF_AUTH)
    assert response.status_code == 400 and response.json()["extra"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/staff/api/v1/accounts", {"name": "a:0"}),
        ("/staff/api/v1/journal/entries", {**ENTRY, "description": "   "}),
        ("/staff/api/v1/journal/entries/1/reversal", {"reason": "\n"}),
    ],
    ids=["account-root", "blank-description", "blank-reason"],
)
async def test_what_the_ledger_refuses_the_schema_refuses_too(staff, path, body):
    """`{"name": "a:0"}` matched the schema's account pattern, then the ledger refused the root `a`;
    a blank description or reason passed the schema and failed after stripping. Now the published
    schema says so, and these are ordinary validation errors."""
    response = await staff.post(path, json=body, headers=STAFF_AUTH)
    assert response.status_code == 400 and response.json()["extra"]


async def test_the_account_pattern_is_the_ledgers_rule(client):
    name = (await schema_of(client))["components"]["schemas"]["NewAccount"]["properties"]["name"]
    pattern = name["pattern"]

    @hypothesis_settings(max_examples=100, deadline=None)
    @given(st.from_regex(pattern, fullmatch=True).filter(lambda n: name["minLength"] <= len(n) <= name["maxLength"]))
    def every_allowed_name_is_an_account(name: str) -> None:
        account_kind(name)

    every_allowed_name_is_an_account()
    for refused in ("a:0", "asset:x", "assets", "assets:", "income::x"):
        assert not re.fullmatch(pattern, refused), refused


@pytest.mark.parametrize(("method", "path"), [("GET", "/nergens?lang=en"), ("POST", "/?lang=en")])
async def test_routing_errors_have_the_security_headers_and_the_visitors_language(client, method, path):
    """404s for unknown paths and 405s came from routing, before the middleware: no CSP, no
    nosniff, and always in Dutch."""
    response = await client.request(method, path)
    assert response.status_code in (404, 405)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert '<html lang="en">' in response.text


async def test_the_longest_idempotency_key_the_schema_allows_books(staff):
    """On PostgreSQL a 200-character `Idempotency-Key` was a 500: stored with the `api:` prefix it
    no longer fit the 200-character column (SQLite does not check lengths)."""
    operation = (await schema_of(staff))["paths"]["/staff/api/v1/journal/entries"]["post"]
    [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    longest = "k" * header["schema"]["maxLength"]

    async def book(key: str):
        return await staff.post(
            "/staff/api/v1/journal/entries", json=ENTRY, headers={**STAFF_AUTH, "Idempotency-Key": key}
        )

    assert (await book(longest)).status_code == 201
    assert (await book(longest + "k")).status_code == 400


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/staff/api/v1/accounts", {"name": "expenses:x", "label": "a\x00b"}),
        ("/staff/api/v1/journal/entries/1/reversal", {"reason": "\x00"}),
        ("/staff/api/v1/journal/entries", {**ENTRY, "description": "bijdrage\x00"}),
        ("/staff/api/v1/journal/entries", {**ENTRY, "reference": "\x00"}),
    ],
    ids=["account-label", "reversal-reason", "entry-description", "entry-reference"],
)
async def test_text_with_a_nul_character_is_refused(staff, path, body):
    """On PostgreSQL `{"label": "\\u0000"}` was a 500: text columns cannot hold NUL."""
    response = await staff.post(path, json=body, headers=STAFF_AUTH)
    assert response.status_code == 400 and response.json()["extra"]


@pytest.mark.parametrize(
    "path", ["/staff/pledges/4593/invoices/.json", "/pledges/" + "x" * 43 + "/invoices/.json", "/staff/.json"]
)
async def test_a_page_areas_address_ending_in_json_gets_an_html_error(client, path):
    """Found by the fuzzer: `.json` names an export elsewhere, but a pledge's or the back
    office's error is a page, as their OpenAPI says."""
    answer = await client.get(path)
    assert 400 <= answer.status_code < 500 and answer.headers["content-type"].startswith("text/html"), path
    assert (await client.get("/nergens.json")).headers["content-type"].startswith("application/json")
