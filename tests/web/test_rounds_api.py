"""The rounds API: `/api/v1/rounds`, one round, its fair-share table and the totals per kind, in
cents and in euro strings, adding up to what the round page shows, and 404 JSON for unknown rounds."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import ANONYMOUS, NewPledge, PledgeService
from funding.pledges.tables import ContributionForm, RoundModel
from tests.factories import caching_is_on
from tests.pledges.conftest import EQUAL, cash, make_round
from tests.web import test_rounds
from tests.web.test_rounds import OPEN, TODAY, count_queries

pledges, period, orgs = test_rounds.pledges, test_rounds.period, test_rounds.orgs
"""The round pages' fixtures: a pledge service on the real clock, this year's period, organisations."""


def amount(cents: int) -> dict:
    return {"cents": cents, "value": f"{cents // 100}.{cents % 100:02}", "currency": "EUR"}


@pytest.fixture
async def rounds(pledges: PledgeService, period: int, orgs: dict[str, int]) -> None:
    """A keep-it-all round with cash, in kind, a payment, an umbrella and anonymous pledges,
    and an all-or-nothing equal split with two joiners."""
    await make_round(pledges, period, "bijdragen", target=10_000, **OPEN)
    paid = await pledges.pledge("bijdragen", cash(orgs["amsterdam"], "1200.50"))
    await pledges.receive(
        paid.id,
        Money.euros(500),
        occurred_on=TODAY,
        kind="bank_transfer",
        account="assets:bank",
        reference=None,
        idempotency_key="test:received",
    )
    await pledges.pledge("bijdragen", cash(orgs["vng"], 3000, members=(orgs["vlieland"], orgs["utrecht"])))
    await pledges.pledge("bijdragen", cash(orgs["jan"], 50))
    await pledges.pledge(
        "bijdragen",
        NewPledge(
            organisation_id=orgs["bakker"],
            contact_name="Piet",
            contact_email="piet@example.nl",
            form=ContributionForm.hours,
            hours=10,
            hourly_rate=Money.euros(80),
            in_kind_description="eindredactie",
            budget_line="magazine",
            publish_name=False,
        ),
    )
    await make_round(
        pledges,
        period,
        "gelijk",
        model=RoundModel.all_or_nothing,
        key=EQUAL,
        target=9_000,
        opens_on=TODAY - timedelta(days=10),
        closes_on=TODAY + timedelta(days=90),
    )
    await pledges.pledge("gelijk", cash(orgs["amsterdam"]))
    await pledges.pledge("gelijk", cash(orgs["utrecht"]))


async def test_the_list_of_rounds_with_totals_in_cents_and_euros(client, pledges, rounds):
    response = await client.get("/api/v1/rounds")
    assert response.status_code == 200
    listed = {r["slug"]: r for r in response.json()}
    assert list(listed) == ["gelijk", "bijdragen"], "the latest to close first"
    kept = listed["bijdragen"]
    assert kept["name"] == "Bijdragen bijdragen" and kept["name_en"] == "Contributions bijdragen"
    assert kept["target"] == amount(1_000_000) and kept["target"]["value"] == "10000.00"
    assert (kept["opens_on"], kept["closes_on"]) == (OPEN["opens_on"].isoformat(), OPEN["closes_on"].isoformat())
    assert (kept["model"], kept["key_kind"], kept["status"], kept["phase"]) == ("keep_it_all", "flat", "open", "open")
    assert kept["key"] == {"kind": "flat", "amount_cents": 100_000}
    assert json.dumps(kept["key"], separators=(",", ":")) == (await pledges.round("bijdragen")).key.to_json()
    assert kept["accepts_pledges"] is True and kept["decided_at"] is None
    assert kept["totals"] == {
        "pledged": amount(425_050),
        "pledged_conditional": amount(0),
        "pledged_due": amount(425_050),
        "received": amount(50_000),
        "in_kind": amount(80_000),
        "pledges": 4,
        "organisations": 6,
        "percent": 42,
        "target_met": False,
    }
    assert kept["totals"]["pledged"]["value"] == "4250.50"
    split = listed["gelijk"]
    assert split["key"] == {"kind": "equal_split"} and split["model"] == "all_or_nothing"
    assert split["totals"]["pledged_conditional"] == amount(900_000) and split["totals"]["target_met"] is True


async def test_one_round_is_as_the_list_has_it_and_agrees_with_the_round_summary(client, pledges, rounds):
    listed = {r["slug"]: r for r in (await client.get("/api/v1/rounds")).json()}
    for slug in ("bijdragen", "gelijk"):
        one = await client.get(f"/api/v1/rounds/{slug}")
        assert one.status_code == 200 and one.json() == listed[slug]
        summary = await pledges.summary(slug)
        totals = one.json()["totals"]
        assert totals["pledged_conditional"]["cents"] == summary.pledged_conditional.cents
        assert totals["pledged_due"]["cents"] == summary.pledged_due.cents
        assert totals["received"]["cents"] == summary.received.cents
        assert totals["in_kind"]["cents"] == summary.in_kind.cents
        assert totals["organisations"] == summary.covered_count
        assert (totals["percent"], totals["target_met"]) == (summary.percent, summary.target_met)


async def test_the_fair_share_table_adds_up_to_the_rounds_totals(client, rounds):
    response = await client.get("/api/v1/rounds/bijdragen/fair-shares")
    assert response.status_code == 200
    table = response.json()
    assert table["round"] == "bijdragen"
    rows = {row["name"]: row for row in table["rows"]}
    assert rows["Gemeente Amsterdam"] == {
        "organisation_id": rows["Gemeente Amsterdam"]["organisation_id"],
        "name": "Gemeente Amsterdam",
        "kind": "gemeente",
        "suggested": amount(100_000),
        "pledged": amount(120_050),
        "in_kind": amount(0),
        "paid": amount(50_000),
        "status": "partially_paid",
        "covered_by": None,
        "count": 1,
    }
    assert rows["Gemeente Utrecht"]["status"] == "covered"
    assert rows["Gemeente Utrecht"]["covered_by"] == "Vereniging van Nederlandse Gemeenten"
    assert rows["Gemeente Utrecht"]["pledged"] == amount(0)
    anonymous = table["anonymous"]
    assert (anonymous["organisation_id"], anonymous["name"], anonymous["kind"]) == (None, ANONYMOUS, None)
    assert (anonymous["status"], anonymous["count"], anonymous["suggested"]) == ("anonymous", 2, None)
    assert anonymous["pledged"] == amount(5_000) and anonymous["in_kind"] == amount(80_000)
    assert "Jan Jansen" not in response.text and "Bakkerij" not in response.text
    assert (table["after"], table["next_after"], table["limit"]) == (None, None, 50)
    totals = (await client.get("/api/v1/rounds/bijdragen")).json()["totals"]
    for column, total in (("pledged", "pledged"), ("in_kind", "in_kind"), ("paid", "received")):
        everyone = [*table["rows"], anonymous]
        assert sum(row[column]["cents"] for row in everyone) == totals[total]["cents"], column


async def test_the_fair_share_table_comes_a_page_at_a_time_by_name(client, rounds):
    whole = (await client.get("/api/v1/rounds/bijdragen/fair-shares")).json()
    names, after, pages = [], None, 0
    while True:
        page = (
            await client.get(
                "/api/v1/rounds/bijdragen/fair-shares", params={"limit": 2, **({"after": after} if after else {})}
            )
        ).json()
        pages += 1
        assert len(page["rows"]) <= 2 and page["after"] == after and page["anonymous"] == whole["anonymous"]
        names += [row["name"] for row in page["rows"]]
        after = page["next_after"]
        if after is None:
            break
        assert after == page["rows"][-1]["organisation_id"]
    assert names == [row["name"] for row in whole["rows"]] and pages == (len(names) + 1) // 2
    assert names == sorted(names) and len(set(names)) == len(names)


async def test_a_page_after_an_organisation_the_table_does_not_name_is_empty(client, rounds, orgs):
    """Else `?after=` an anonymous contributor's id would tell where its name falls among the others."""
    for hidden in (orgs["bakker"], orgs["jan"], 999_999):
        page = (await client.get("/api/v1/rounds/bijdragen/fair-shares", params={"after": hidden})).json()
        assert (page["rows"], page["next_after"]) == ([], None), hidden
    bad = await client.get("/api/v1/rounds/bijdragen/fair-shares", params={"limit": 0})
    assert bad.status_code == 400


async def test_an_equal_split_table_asks_each_joiner_its_share(client, rounds):
    rows = {r["name"]: r for r in (await client.get("/api/v1/rounds/gelijk/fair-shares")).json()["rows"]}
    assert rows["Gemeente Amsterdam"]["suggested"] == amount(450_000)
    assert rows["Gemeente Amsterdam"]["status"] == "conditional"
    assert rows["Gemeente Vlieland"]["suggested"] == amount(300_000), "what joining now would ask: a third"


async def test_totals_per_organisation_kind_of_one_round_and_of_all(client, rounds):
    one = await client.get("/api/v1/totals/kinds", params={"round": "bijdragen"})
    assert one.status_code == 200
    assert one.json()["round"] == "bijdragen"
    kinds = {k["kind"]: k for k in one.json()["kinds"]}
    assert kinds["gemeente"] == {
        "kind": "gemeente",
        "pledges": 1,
        "pledged": amount(120_050),
        "in_kind": amount(0),
        "paid": amount(50_000),
    }
    assert kinds["company"]["in_kind"] == amount(80_000) and kinds["individual"]["pledged"] == amount(5_000)
    assert sum(k["pledged"]["cents"] for k in kinds.values()) == 425_050
    everything = (await client.get("/api/v1/totals/kinds")).json()
    assert everything["round"] is None
    all_kinds = {k["kind"]: k for k in everything["kinds"]}
    assert all_kinds["gemeente"]["pledges"] == 3
    assert all_kinds["gemeente"]["pledged"]["cents"] == 120_050 + 900_000


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/rounds/nergens",
        "/api/v1/rounds/nergens/fair-shares",
        "/api/v1/totals/kinds?round=nergens",
        "/api/v1/rounds/%3Cscript%3E",
    ],
)
async def test_an_unknown_round_is_a_404_in_json(client, database, path):
    response = await client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["status_code"] == 404 and body["detail"]  # "Er is geen ronde nergens."


async def test_a_slug_longer_than_any_round_s_is_refused(client, database):
    response = await client.get("/api/v1/totals/kinds", params={"round": "x" * 81})
    assert response.status_code == 400 and response.json()["status_code"] == 400


async def test_the_api_is_cached_and_changes_with_a_new_pledge(client, pledges, rounds, orgs):
    await caching_is_on(client)
    before = (await client.get("/api/v1/rounds/gelijk")).json()
    assert (await client.get("/api/v1/rounds/gelijk")).json() == before
    await pledges.pledge("gelijk", cash(orgs["vlieland"]))
    for _ in range(200):  # PostgreSQL: the NOTIFY reaches the listener a moment after the commit
        after = (await client.get("/api/v1/rounds/gelijk")).json()
        if after != before:
            break
        await asyncio.sleep(0.01)
    assert after["totals"]["organisations"] == 3


async def test_the_openapi_schema_documents_the_shapes_and_the_404s(client, database):
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/v1/rounds/{slug}",
        "/api/v1/rounds/{slug}/fair-shares",
        "/api/v1/totals/kinds",
        "/rounds/{slug}",
    ):
        assert "404" in paths[path]["get"]["responses"], path
    assert "/api/v1/rounds" in paths and "/rounds" in paths
    components = schema["components"]["schemas"]
    assert {"Amount", "RoundOut", "RoundTotals", "FairShareOut", "FairShareTable", "KindTotalsOut"} <= set(components)
    assert set(components["Amount"]["required"]) >= {"cents", "value"}
    status = components["FairShareOut"]["properties"]["status"]
    assert "anonymous" in str(status) and "covered" in str(status)


async def test_every_round_with_its_figures_is_one_query_for_any_number_of_rounds(pledges, period, orgs, monkeypatch):
    registry = OrganisationService()
    for n in range(5):
        await make_round(pledges, period, f"ronde-{n}", **OPEN)
        organisation = await registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {n}", population=1)
        await pledges.pledge(f"ronde-{n}", cash(organisation, 100 + n))
    rounds = await pledges.rounds()
    queries = count_queries(monkeypatch)
    figures = await pledges.figures()
    assert len(queries) == 1
    assert [f.round for f in figures] == rounds
    assert [f.pledged for f in figures] == [Money.euros(100 + n) for n in range(5)]
