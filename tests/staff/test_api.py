"""The staff API books entries and reversals for token holders only, once per idempotency key."""

import pytest

from tests.factories import STAFF_AUTH as AUTH
from tests.factories import STAFF_TOKEN as TOKEN

ENTRY = {
    "kind": "bank_transfer",
    "description": "Bijdrage Waterschap Vallei en Veluwe",
    "occurred_on": "2026-04-01",
    "reference": "RF18539007547034",
    "postings": [
        {"account": "assets:bank", "amount": 100000},
        {"account": "income:contributions", "amount": -100000},
    ],
}


async def test_token_holder_books_an_entry(staff, ledger):
    response = await staff.post("/staff/api/v1/journal/entries", json=ENTRY, headers=AUTH)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["seq"] == 1 and body["hash"] == (await ledger.head()).hash
    assert (await ledger.verify()).ok


async def test_a_retried_request_books_once(staff, ledger):
    headers = {**AUTH, "Idempotency-Key": "import-2026-04-01-line-7"}
    first = await staff.post("/staff/api/v1/journal/entries", json=ENTRY, headers=headers)
    again = await staff.post("/staff/api/v1/journal/entries", json=ENTRY, headers=headers)
    assert first.json() == again.json()
    assert (await ledger.head()).seq == 1
    different = {**ENTRY, "description": "iets anders"}
    conflict = await staff.post("/staff/api/v1/journal/entries", json=different, headers=headers)
    assert conflict.status_code == 409 and "different entry" in conflict.json()["detail"]
    assert (await ledger.head()).seq == 1


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
async def test_without_the_token_nothing_is_booked(staff, ledger, headers):
    response = await staff.post("/staff/api/v1/journal/entries", json=ENTRY, headers=headers)
    assert response.status_code == 401 and response.json()["detail"]
    assert (await ledger.head()).seq == 0


async def test_the_api_is_off_when_no_token_is_configured(client):
    response = await client.post("/staff/api/v1/journal/entries", json=ENTRY, headers=AUTH)
    assert response.status_code == 403 and "disabled" in response.json()["detail"]


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (
            {
                "postings": [
                    {"account": "assets:bank", "amount": 100},
                    {"account": "income:contributions", "amount": -99},
                ]
            },
            "sum to",
        ),
        (
            {
                "postings": [
                    {"account": "assets:nowhere", "amount": 100},
                    {"account": "income:contributions", "amount": -100},
                ]
            },
            "unknown account",
        ),
        (
            {
                "postings": [
                    {"account": "assets:bank", "amount": 1.5},
                    {"account": "income:contributions", "amount": -1.5},
                ]
            },
            "Validation failed",
        ),
        ({"occurred_on": "2026-02-30"}, "Validation failed"),
        ({"kind": ""}, "Validation failed"),
        ({"unexpected": 1}, "Validation failed"),
    ],
    ids=["unbalanced", "unknown-account", "fractional-cents", "bad-date", "no-kind", "unknown-field"],
)
async def test_bad_entries_get_a_400_and_change_nothing(staff, ledger, change, fragment):
    response = await staff.post("/staff/api/v1/journal/entries", json={**ENTRY, **change}, headers=AUTH)
    assert response.status_code == 400, response.text
    assert fragment in response.json()["detail"]
    assert (await ledger.head()).seq == 0


async def test_malformed_json_is_a_400(staff):
    response = await staff.post(
        "/staff/api/v1/journal/entries", content=b"{not json", headers={**AUTH, "Content-Type": "application/json"}
    )
    assert response.status_code == 400


async def test_reversal_through_the_api(staff, ledger):
    await staff.post("/staff/api/v1/journal/entries", json=ENTRY, headers=AUTH)
    response = await staff.post("/staff/api/v1/journal/entries/1/reversal", json={"reason": "dubbel"}, headers=AUTH)
    assert response.status_code == 201 and response.json()["reverses"] == 1
    twice = await staff.post("/staff/api/v1/journal/entries/1/reversal", json={"reason": "nog eens"}, headers=AUTH)
    assert twice.status_code == 409 and "already reversed by entry 2" in twice.json()["detail"]
    missing = await staff.post("/staff/api/v1/journal/entries/99/reversal", json={"reason": "x"}, headers=AUTH)
    assert missing.status_code == 404


async def test_a_retried_reversal_returns_the_one_already_booked(staff, ledger):
    """A bookkeeper's retry (a timeout, a double click) must not fail nor book twice."""
    await staff.post("/staff/api/v1/journal/entries", json=ENTRY, headers=AUTH)
    keyed = {**AUTH, "Idempotency-Key": "correction-7"}
    first = await staff.post("/staff/api/v1/journal/entries/1/reversal", json={"reason": "dubbel"}, headers=keyed)
    retried = await staff.post("/staff/api/v1/journal/entries/1/reversal", json={"reason": "dubbel"}, headers=keyed)
    unkeyed = await staff.post("/staff/api/v1/journal/entries/1/reversal", json={"reason": "dubbel"}, headers=AUTH)
    assert first.status_code == retried.status_code == unkeyed.status_code == 201
    assert first.json() == retried.json() == unkeyed.json()
    assert (await ledger.head()).seq == 2
    other = await staff.post("/staff/api/v1/journal/entries/1/reversal", json={"reason": "iets anders"}, headers=keyed)
    assert other.status_code == 409 and (await ledger.head()).seq == 2


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {
                "postings": [
                    {"account": "assets:bank", "amount": 60000},
                    {"account": "assets:bank", "amount": 40000},
                    {"account": "income:contributions", "amount": -100000},
                ]
            },
            "more than once",
        ),
        ({"occurred_on": "0001-01-01"}, "before the euro"),
        ({"occurred_on": "2999-01-01"}, "more than a year ahead"),
        ({"kind": "reversal"}, "for reversals only"),
    ],
    ids=["account-twice", "year-one", "far-future", "reversal-kind"],
)
async def test_what_a_bookkeeper_would_refuse_is_a_400_and_books_nothing(staff, ledger, change, message):
    response = await staff.post("/staff/api/v1/journal/entries", json={**ENTRY, **change}, headers=AUTH)
    assert response.status_code == 400 and message in response.json()["detail"]
    assert (await ledger.head()).seq == 0


async def test_opening_an_account_is_idempotent(staff, ledger):
    for _ in range(2):
        response = await staff.post("/staff/api/v1/accounts", json={"name": "expenses:printing"}, headers=AUTH)
        assert response.status_code == 201
    assert sum(a["name"] == "expenses:printing" for a in await ledger.accounts()) == 1
