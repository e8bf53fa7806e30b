"""Each public page and API answer, in Dutch and in English, and bad input gets a clear 4xx."""

import asyncio
from datetime import date
from http.cookies import SimpleCookie

import msgspec
import pytest

from funding.ledger.chain import LedgerExport, verify
from tests.factories import book_contribution, open_chart


def shown_period() -> tuple[str, int]:
    """The period `GET /` shows of the demo (loaded on 2026-11-29, it has 2026 and 2027): the one
    containing the real today, and its budget in euros."""
    return ("2026", 200_000) if date.today().year <= 2026 else ("2027", 210_000)


async def test_home_shows_budget_against_actuals_in_dutch_by_default(demo, client):
    response = await client.get("/")
    assert response.status_code == 200
    html = response.text
    period, budget = shown_period()
    assert '<html lang="nl">' in html
    assert f"Begrotingsperiode {period}" in html
    assert f"€\xa0{budget:,}".replace(",", ".") + ",00" in html  # the budget, Dutch notation
    assert "Salarissen (2 medewerkers)" in html
    assert "demo" in html.lower()


async def test_english_on_request_and_remembered(demo, client):
    response = await client.get("/?lang=en")
    period, budget = shown_period()
    assert '<html lang="en">' in response.text
    assert f"Budget period {period}" in response.text
    assert f"€{budget:,}.00" in response.text
    assert "Salaries (2 staff)" in response.text
    assert "lang=en" in response.headers.get("set-cookie", "")
    again = await client.get("/ledger")
    assert '<html lang="en">' in again.text and "Public ledger" in again.text
    back = await client.get("/ledger?lang=nl")
    assert "Openbaar grootboek" in back.text


def language_cookies(response) -> list[SimpleCookie]:
    jars = [SimpleCookie(header) for header in response.headers.get_list("set-cookie")]
    return [jar for jar in jars if "lang" in jar]


async def test_lang_is_read_as_a_language_tag_and_remembered_for_a_year(demo, client):
    response = await client.get("/?lang=EN-gb")
    assert '<html lang="en">' in response.text
    [jar] = language_cookies(response)
    cookie = jar["lang"]
    assert cookie.value == "en"  # the supported locale, not what was typed
    assert (cookie["max-age"], cookie["path"], cookie["samesite"].lower()) == ("31536000", "/", "lax")
    assert cookie["httponly"] and not cookie["secure"]


async def test_an_unsupported_language_changes_nothing(demo, client):
    response = await client.get("/?lang=de")
    assert '<html lang="nl">' in response.text and language_cookies(response) == []
    kept = await client.get("/?lang=fr", headers={"cookie": "lang=en"})
    assert '<html lang="en">' in kept.text and language_cookies(kept) == []
    unknown_cookie = await client.get("/", headers={"cookie": "lang=de"})
    assert '<html lang="nl">' in unknown_cookie.text


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ('=broken; "odd; lang=en', "en"),  # another site's junk does not lose the choice
        ("lang=en;;;", "en"),
        ('lang="en', "nl"),  # a value that is no language: Dutch
        (b"lang=\xff\xfe", "nl"),  # not even text
        ("lang", "nl"),
    ],
)
async def test_a_malformed_cookie_header_is_no_error(demo, client, header, language):
    response = await client.get("/", headers={"cookie": header})
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.text


async def test_home_without_any_programme_explains_itself(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert "nog geen begrotingsperiode" in response.text


async def test_ledger_pages_walk_the_whole_chain_without_offset(demo, client):
    head = (await client.get("/api/v1/ledger/head")).json()
    seen, url = [], "/ledger"
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        html = response.text
        seqs = [int(part.split("<")[0]) for part in html.split('class="seq">#')[1:]]
        assert seqs == sorted(seqs, reverse=True) and len(seqs) <= 50
        seen += seqs
        marker = 'rel="next"'
        if marker in html:
            before = html.split(marker)[0].rsplit("before=", 1)[1].split('"')[0]
            url = f"/ledger?before={before}"
        else:
            url = None
    assert seen == list(range(head["seq"], 0, -1))


async def test_newer_link_goes_back_towards_the_head(demo, client):
    html = (await client.get("/ledger?before=60")).text
    assert 'class="seq">#59<' in html
    assert "after=59" in html
    newer = (await client.get("/ledger?after=59")).text
    assert 'class="seq">#60<' in newer and 'class="seq">#59<' not in newer


@pytest.mark.parametrize("query", ["before=abc", "before=0", "before=-3", "after=x", "before=99999999999999999999"])
async def test_bad_page_parameters_get_a_400_page(client, query):
    response = await client.get(f"/ledger?{query}")
    assert response.status_code == 400
    assert "text/html" in response.headers["content-type"]
    assert "Traceback" not in response.text


async def test_api_ledger_pages_by_seq(database, ledger, client):
    await open_chart(ledger)
    for euros in range(1, 6):
        await book_contribution(ledger, euros)
    page = (await client.get("/api/v1/ledger?after=1&limit=2")).json()
    assert [e["seq"] for e in page["entries"]] == [2, 3]
    assert page["next_after"] == 3
    last = (await client.get("/api/v1/ledger?after=3&limit=2")).json()
    assert [e["seq"] for e in last["entries"]] == [4, 5]
    assert (await client.get("/api/v1/ledger?after=5")).json() == {"entries": [], "next_after": None}
    entry = page["entries"][0]
    assert set(entry) >= {
        "seq",
        "prev_hash",
        "hash",
        "occurred_on",
        "recorded_at",
        "kind",
        "description",
        "reference",
        "postings",
    }
    assert entry["postings"] == [
        {"account": "assets:bank", "amount": 200},
        {"account": "income:contributions", "amount": -200},
    ]


@pytest.mark.parametrize("query", ["after=abc", "after=-1", "limit=0", "limit=501", "limit=1000000", "after=1.5"])
async def test_api_rejects_bad_parameters_with_json(client, query):
    response = await client.get(f"/api/v1/ledger?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["status_code"] == 400 and body["detail"]


async def test_head_and_export_agree_and_the_export_verifies(demo, client):
    head = (await client.get("/api/v1/ledger/head")).json()
    response = await client.get("/ledger.json")
    assert response.status_code == 200
    export = msgspec.json.decode(response.content, type=LedgerExport)
    assert (export.head_seq, export.head_hash) == (head["seq"], head["hash"])
    result = verify(export.entries, expected_head=(head["seq"], head["hash"]))
    assert result.ok and result.checked == head["seq"] > 50


async def test_empty_ledger_exports_an_empty_chain(client):
    export = (await client.get("/ledger.json")).json()
    assert export == {"head_seq": 0, "head_hash": "0" * 64, "entries": []}
    assert (await client.get("/api/v1/ledger/head")).json() == {"seq": 0, "hash": "0" * 64}


async def test_health_needs_no_database_and_ready_checks_it(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    assert (await client.get("/health/ready")).json() == {"status": "ok"}


async def test_ready_says_503_when_the_database_is_gone(client, monkeypatch):
    from funding import db

    async def down():
        raise OSError("connection refused")

    monkeypatch.setattr(db, "ping", down)
    response = await client.get("/health/ready")
    assert response.status_code == 503 and response.json()["status"] == "database unavailable"


async def test_openapi_schema_describes_the_api(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert {"/api/v1/ledger", "/api/v1/ledger/head", "/health", "/ledger.json"} <= set(schema["paths"])


async def test_unknown_pages_get_the_apps_own_404(client):
    response = await client.get("/nergens")
    assert response.status_code == 404
    assert "Pagina niet gevonden" in response.text
    api = await client.get("/api/v1/nergens")
    assert api.status_code == 404 and api.json()["status_code"] == 404


async def test_cached_pages_change_when_an_entry_is_appended(demo, ledger, client):
    before = (await client.get("/ledger")).text
    assert before == (await client.get("/ledger")).text
    await book_contribution(ledger, 777, description="Nieuwe bijdrage na de cache")
    # PostgreSQL delivers the change notification asynchronously (milliseconds): allow 2 s.
    for _ in range(40):
        after = (await client.get("/ledger")).text
        if "Nieuwe bijdrage na de cache" in after:
            break
        await asyncio.sleep(0.05)
    assert "Nieuwe bijdrage na de cache" in after


async def test_totals_api_matches_the_overview(demo, client):
    totals = (await client.get("/api/v1/totals")).json()
    period, budget = shown_period()
    assert totals["period"] == period and totals["budget"] == budget * 100
    assert sum(line["budget"] for line in totals["lines"]) == totals["budget"]
    assert totals["spent"] >= sum(line["spent"] for line in totals["lines"])


async def test_totals_api_says_404_without_a_period(client):
    response = await client.get("/api/v1/totals")
    assert response.status_code == 404 and "no budget period" in response.json()["detail"]


async def test_a_database_outage_is_a_503_with_retry_after(client, monkeypatch):
    from funding.ledger.service import LedgerService

    async def gone(*_args, **_kwargs):
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(LedgerService, "head", gone)
    api = await client.get("/api/v1/ledger/head")
    assert api.status_code == 503 and api.headers["retry-after"] == "1"
    assert "not available" in api.json()["detail"]
    page = await client.get("/ledger")
    assert page.status_code == 503 and "Traceback" not in page.text


async def test_the_language_switch_keeps_the_page_one_is_on(demo, client):
    html = (await client.get("/ledger?before=60")).text
    assert 'href="/ledger?before=60&amp;lang=en"' in html
