"""The round pages: `/rounds/{slug}` with its figures and fair-share table, `/rounds`, and the
overview's rounds, in Dutch and English, cached, escaped, and answering 404 for unknown rounds.

Rounds here are made through the pledge service with the real clock (the app's service has it),
so they open a month ago and close a month from now unless a test says otherwise.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from litestar.testing import AsyncTestClient

from funding.app import create_app
from funding.ledger.service import LedgerService
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.keys import CostSharingKey, KeyKind
from funding.pledges.listing import RoundPhase
from funding.pledges.service import ANONYMOUS, FairShareRow, NewPledge, PledgeService
from funding.pledges.tables import ContributionForm, RoundModel
from tests.factories import caching_is_on, programme_year
from tests.pledges.conftest import EQUAL, cash, make_round

TODAY = datetime.now(UTC).date()
OPEN = {"opens_on": TODAY - timedelta(days=30), "closes_on": TODAY + timedelta(days=30)}
HOSTILE = ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>')
NBSP = "\xa0"


@pytest.fixture
def pledges(ledger: LedgerService) -> PledgeService:
    return PledgeService(ledger)


@pytest.fixture
async def period(ledger: LedgerService) -> int:
    """This year's budget period of a programme, with two budget lines and the chart open."""
    return await programme_year(ledger, TODAY.year)


@pytest.fixture
async def orgs(database: str) -> dict[str, int]:
    registry = OrganisationService()
    made = {}
    for short, kind, name, population in [
        ("amsterdam", OrganisationKind.gemeente, "Gemeente Amsterdam", 872_757),
        ("utrecht", OrganisationKind.gemeente, "Gemeente Utrecht", 361_924),
        ("vlieland", OrganisationKind.gemeente, "Gemeente Vlieland", 1_132),
        ("utrecht_p", OrganisationKind.provincie, "Provincie Utrecht", 1_387_643),
        ("vng", OrganisationKind.other_public, "Vereniging van Nederlandse Gemeenten", None),
        ("jan", OrganisationKind.individual, "Jan Jansen", None),
        ("bakker", OrganisationKind.company, "Bakkerij De Korenaar BV", None),
    ]:
        made[short] = await registry.add(kind=kind, name=name, population=population)
    return made


async def test_a_round_page_shows_target_pledged_received_and_the_key_in_dutch(client, pledges, period, orgs):
    await make_round(pledges, period, "bijdragen", target=10_000, **OPEN)
    due = await pledges.pledge("bijdragen", cash(orgs["amsterdam"], 1200))
    await pledges.receive(
        due.id,
        Money.euros(500),
        occurred_on=TODAY,
        kind="bank_transfer",
        account="assets:bank",
        reference=None,
        idempotency_key="test:received",
    )
    response = await client.get("/rounds/bijdragen")
    assert response.status_code == 200
    html = response.text
    assert "<h1>Bijdragen bijdragen</h1>" in html
    assert f"€{NBSP}10.000,00" in html and f"€{NBSP}1.200,00" in html and f"€{NBSP}500,00" in html
    assert "Definitief toegezegd" in html and "Voorwaardelijk toegezegd" in html and "Ontvangen" in html
    assert f"€{NBSP}1.000,00 per organisatie" in html, "the key, described"
    assert "Alles houden: elke toezegging is definitief" in html
    assert "Open voor toezeggingen tot en met" in html
    assert 'value="12"' in html and "12%" in html, "the progress bar, with its text"
    assert 'href="/rounds/bijdragen/pledge"' in html


async def test_the_round_page_in_english(client, pledges, period, orgs):
    await make_round(pledges, period, "bijdragen", model=RoundModel.all_or_nothing, **OPEN)
    await pledges.pledge("bijdragen", cash(orgs["amsterdam"], 1200))
    html = (await client.get("/rounds/bijdragen?lang=en")).text
    assert '<html lang="en">' in html and "<h1>Contributions bijdragen</h1>" in html
    assert "€10,000.00" in html and "€1,200.00" in html
    assert "Pledged, conditional" in html and "€1,000.00 per organisation" in html
    assert "All or nothing: pledges are conditional" in html
    assert "<td>conditional</td>" in html and "<td>not yet</td>" in html and "<td>municipality</td>" in html


async def test_the_fair_share_table_has_status_words_umbrella_covers_and_one_anonymous_row(
    client, pledges, period, orgs
):
    await make_round(pledges, period, "bijdragen", **OPEN)
    await pledges.pledge("bijdragen", cash(orgs["vng"], 3000, members=(orgs["vlieland"], orgs["utrecht"])))
    await pledges.pledge("bijdragen", cash(orgs["bakker"], 800, publish_name=False))
    await pledges.pledge("bijdragen", cash(orgs["jan"], 50, publish_name=True))  # a person: never named
    html = (await client.get("/rounds/bijdragen")).text
    rows = table_rows(html, "fair-shares")
    assert rows["Gemeente Utrecht"][-1] == "via koepel: Vereniging van Nederlandse Gemeenten"
    assert rows["Gemeente Vlieland"][-1] == "via koepel: Vereniging van Nederlandse Gemeenten"
    assert rows["Vereniging van Nederlandse Gemeenten"][2:] == [
        f"€{NBSP}3.000,00",
        f"€{NBSP}0,00",
        f"€{NBSP}0,00",
        "toegezegd",
    ]
    assert rows["Gemeente Amsterdam"][-1] == "nog niet"
    assert rows["2 anonieme bijdragers"][2] == f"€{NBSP}850,00", "the aggregate, last"
    assert list(rows)[-1] == "2 anonieme bijdragers"
    assert "Jan Jansen" not in html and "Bakkerij" not in html
    assert rows["Provincie Utrecht"][-1] == "nog niet", "a body the round asks is listed, pledged or not"
    assert rows["2 anonieme bijdragers"][1] == "niet gevraagd", "no suggestion that would tell their kind or size"
    contributors = section(html, "contributors-heading")
    assert "5 organisaties hebben toegezegd of vallen onder een koepeltoezegging." in contributors
    assert "2 daarvan worden niet bij naam genoemd." in contributors
    english = (await client.get("/rounds/bijdragen?lang=en")).text
    assert "2 anonymous contributors" in english and "covered by Vereniging van Nederlandse Gemeenten" in english
    assert "2 of them are not named." in english


async def test_in_kind_contributions_are_listed_apart_from_cash(client, pledges, period, orgs):
    await make_round(pledges, period, "bijdragen", **OPEN)
    await pledges.pledge("bijdragen", cash(orgs["amsterdam"], 1000))
    await pledges.pledge(
        "bijdragen",
        NewPledge(
            organisation_id=orgs["utrecht"],
            contact_name="Anna",
            contact_email="anna@example.nl",
            form=ContributionForm.goods,
            amount=Money.euros(1800),
            in_kind_description="zaal en catering",
            budget_line="events",
        ),
    )
    html = (await client.get("/rounds/bijdragen")).text
    in_kind = table_rows(html, "in-kind")
    assert in_kind == {"Gemeente Utrecht": ["Bijeenkomsten", f"€{NBSP}1.800,00"]}
    shares = table_rows(html, "fair-shares")
    assert shares["Gemeente Utrecht"][2:4] == [f"€{NBSP}0,00", f"€{NBSP}1.800,00"], "pledged in cash, in kind"
    figures = section(html, "figures-heading")
    assert f'<dt>In natura</dt><dd><span class="amount">€{NBSP}1.800,00</span></dd>' in figures
    assert (await client.get("/rounds/bijdragen?lang=en")).text.count(">Events<") == 1


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_names_are_escaped_everywhere_they_are_shown(client, pledges, period, hostile):
    registry = OrganisationService()
    named = await registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {hostile}", population=10)
    giver = await registry.add(kind=OrganisationKind.provincie, name=f"Provincie {hostile}", population=10)
    await pledges.create_round(
        slug="bijdragen",
        period_id=period,
        name=f"Ronde {hostile}",
        description=f"Over {hostile}",
        target=Money.euros(10_000),
        model=RoundModel.keep_it_all,
        key=CostSharingKey(kind=KeyKind.flat, amount_cents=100_000),
        **OPEN,
    )
    await pledges.pledge("bijdragen", cash(named, 100, members=()))
    await pledges.pledge(
        "bijdragen",
        NewPledge(
            organisation_id=giver,
            contact_name=hostile,
            contact_email="x@example.nl",
            form=ContributionForm.goods,
            amount=Money.euros(10),
            in_kind_description=hostile,
            budget_line="events",
        ),
    )
    for path in ("/rounds/bijdragen", "/rounds/bijdragen?lang=en", "/rounds", "/"):
        response = await client.get(path)
        html = response.text
        assert response.status_code == 200 and hostile not in html, path
        assert "<script>alert" not in html and "<img src=x" not in html, path
    page = (await client.get("/rounds/bijdragen")).text
    escaped = hostile.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    assert page.count(f"Gemeente {escaped}") == 1, "in the fair-share table"
    assert f"Provincie {escaped}" in section(page, "in-kind-heading")
    assert f"<h1>Ronde {escaped}</h1>" in page


async def test_an_unknown_round_is_the_apps_404_page(client, database):
    response = await client.get("/rounds/nergens")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Pagina niet gevonden" in response.text
    english = await client.get("/rounds/nergens?lang=en")
    assert english.status_code == 404 and "Page not found" in english.text


async def test_the_cached_round_page_changes_with_a_new_pledge(client, pledges, period, orgs, monkeypatch):
    await make_round(pledges, period, "bijdragen", **OPEN)
    await caching_is_on(client)
    reads = []
    round_view = PledgeService.round_view

    async def counted(self, slug, **options):
        reads.append(slug)
        return await round_view(self, slug, **options)

    monkeypatch.setattr(PledgeService, "round_view", counted)
    first = (await client.get("/rounds/bijdragen")).text
    assert (await client.get("/rounds/bijdragen")).text == first and len(reads) == 1, "served from the cache"
    assert "Nog niemand heeft iets toegezegd." in first
    await pledges.pledge("bijdragen", cash(orgs["amsterdam"], 1234))
    for _ in range(200):  # PostgreSQL: the NOTIFY reaches the listener a moment after the commit
        after = (await client.get("/rounds/bijdragen")).text
        if after != first:
            break
        await asyncio.sleep(0.01)
    assert f"€{NBSP}1.234,00" in after and table_rows(after, "fair-shares")["Gemeente Amsterdam"][-1] == "toegezegd"
    assert "set-cookie" not in (await client.get("/rounds/bijdragen")).headers, "cached pages set no cookie"


async def test_the_pledge_link_is_there_only_while_the_round_takes_pledges(client, pledges, period, orgs):
    await make_round(
        pledges, period, "komend", opens_on=TODAY + timedelta(days=3), closes_on=TODAY + timedelta(days=40)
    )
    await make_round(pledges, period, "verlopen", opens_on=TODAY - timedelta(days=40), closes_on=TODAY - timedelta(1))
    await make_round(pledges, period, "gehaald", model=RoundModel.all_or_nothing, target=1000, **OPEN)
    await make_round(pledges, period, "gemist", model=RoundModel.all_or_nothing, **OPEN)
    await make_round(pledges, period, "gesloten", **OPEN)
    await pledges.pledge("gehaald", cash(orgs["amsterdam"], 1000))
    await pledges.pledge("gemist", cash(orgs["amsterdam"], 1000))
    for slug in ("gehaald", "gemist", "gesloten"):
        await pledges.close_round(slug, reason="test")
    expected = {
        "komend": "Opent op",
        "verlopen": "Toezeggen kon tot en met",
        "gehaald": "het doel is gehaald, dus de toezeggingen zijn nu definitief",
        "gemist": "het doel is niet gehaald, dus de toezeggingen zijn vervallen",
        "gesloten": "Gesloten op",
    }
    for slug, sentence in expected.items():
        html = (await client.get(f"/rounds/{slug}")).text
        assert sentence in html, slug
        assert "/pledge" not in html, slug
    decided = (await client.get("/rounds/gehaald")).text
    assert table_rows(decided, "fair-shares")["Gemeente Amsterdam"][-1] == "toegezegd"


async def test_an_equal_split_round_shows_how_the_shares_fell(client, pledges, period, orgs):
    await make_round(pledges, period, "gelijk", model=RoundModel.all_or_nothing, key=EQUAL, target=9_000, **OPEN)
    for short in ("amsterdam", "utrecht", "vlieland"):
        await pledges.pledge("gelijk", cash(orgs[short]))
    html = (await client.get("/rounds/gelijk")).text
    assert table_rows(html, "share-history") == {
        "1": [f"€{NBSP}9.000,00"],
        "2": [f"€{NBSP}4.500,00"],
        "3": [f"€{NBSP}3.000,00"],
    }
    assert "het doel gedeeld door de deelnemers" in html
    shares = table_rows(html, "fair-shares")
    assert shares["Gemeente Utrecht"][1:3] == [f"€{NBSP}3.000,00", f"€{NBSP}3.000,00"]
    assert shares["Provincie Utrecht"][1] == f"€{NBSP}2.250,00", "what joining now would ask: a fourth"


async def test_a_long_share_history_shows_its_start_and_its_end(client, pledges, period):
    registry = OrganisationService()
    await make_round(pledges, period, "gelijk", model=RoundModel.all_or_nothing, key=EQUAL, target=1_000, **OPEN)
    for n in range(16):
        organisation = await registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {n:02}", population=10)
        await pledges.pledge("gelijk", cash(organisation))
    html = (await client.get("/rounds/gelijk")).text
    steps = list(table_rows(html, "share-history"))
    assert steps == [str(n) for n in range(1, 11)] + ["…", "14", "15", "16"]


async def test_the_round_page_reads_no_more_queries_for_forty_pledges_than_for_two(
    settings, pledges, period, monkeypatch
):
    """No query per row: the page's queries do not grow with the table (the benchmark times 400)."""
    registry = OrganisationService()
    await make_round(pledges, period, "bijdragen", target=100_000, **OPEN)
    queries = count_queries(monkeypatch)
    uncached = AsyncTestClient(app=create_app(replace(settings, response_cache=False)))

    async def page_queries() -> int:
        queries.clear()
        async with uncached as client:
            assert (await client.get("/rounds/bijdragen")).status_code == 200
        return len(queries)

    async def add_pledges(count: int, start: int) -> None:
        for n in range(start, start + count):
            named = n % 3 != 0  # the others are companies, counted together
            kind = OrganisationKind.gemeente if named else OrganisationKind.company
            organisation = await registry.add(kind=kind, name=f"Organisatie {n:03}", population=n)
            await pledges.pledge("bijdragen", cash(organisation, 100, publish_name=named))

    await add_pledges(2, 0)
    few = await page_queries()
    await add_pledges(38, 2)
    many = await page_queries()
    assert many <= few <= 8, f"{few} queries for a round page with 2 pledges, {many} with 40"


async def test_four_hundred_rows_render_quickly_with_plain_loops(client):
    """The template alone, on 400 rows of every kind: the benchmark's table, without a database."""
    fund = SimpleNamespace(
        slug="groot",
        title=lambda locale: "Groot",
        description="",
        target=Money.euros(400_000),
        opens_on=TODAY,
        closes_on=TODAY,
        decided_at=None,
        is_conditional=True,
    )
    statuses = ["conditional", "due", "partially_paid", "paid", "covered", "none"]
    rows = [
        FairShareRow(
            organisation_id=n,
            name=f"Gemeente {n}",
            kind="gemeente",
            suggested=Money(100_000 + n),
            pledged=Money(n * 100),
            in_kind=Money.zero(),
            paid=Money(n),
            status=statuses[n % len(statuses)],
            covered_by="VNG" if n % 6 == 4 else "",
        )
        for n in range(399)
    ]
    anonymous = FairShareRow(None, ANONYMOUS, "", None, Money(1), Money(0), Money(0), "anonymous", count=12)
    summary = SimpleNamespace(
        round=fund,
        pledged_conditional=Money(1),
        pledged_due=Money(2),
        received=Money(3),
        in_kind=Money(4),
        pledged=Money(3),
        percent=0,
        named_count=399,
        anonymous_count=12,
    )
    template = client.app.template_engine.get_template("public/round.html")
    context = {
        "summary": summary,
        "fund": fund,
        "page": SimpleNamespace(rows=rows, anonymous=anonymous, after=None, next_after=None, ends_table=True),
        "phase": RoundPhase.open,
        "accepts_pledges": True,
        "key": "sleutel",
        "history": [],
        "in_kind": [],
        "anonymous": ANONYMOUS,
        "programme": None,
        "request": SimpleNamespace(
            url=SimpleNamespace(path="/rounds/groot"), query_params=SimpleNamespace(multi_items=list), scope={}
        ),
        "url_for": lambda name, **_: f"/{name}",
    }
    started = time.perf_counter()
    html = template.render(**context)
    seconds = time.perf_counter() - started
    assert html.count("<tr>") == 401 and "12 anonieme bijdragers" in html and "via koepel: VNG" in html
    assert seconds < 1, f"400 rows took {seconds:.2f} s to render"


async def test_the_fair_share_table_comes_fifty_organisations_a_page_with_links_that_need_no_script(
    client, pledges, period
):
    registry = OrganisationService()
    key = CostSharingKey(kind=KeyKind.per_capita, rate="0.05", floor_cents=50_000, cap_cents=2_500_000)
    await make_round(pledges, period, "groot", key=key, **OPEN)
    made = [
        await registry.add(kind=OrganisationKind.gemeente, name=f"Gemeente {n:02}", population=n * 100_000)
        for n in range(1, 61)
    ]
    hidden = await registry.add(kind=OrganisationKind.company, name="Stil BV", kvk="12345678")
    await pledges.pledge("groot", cash(made[54], 3000))
    await pledges.pledge("groot", cash(hidden, 100, publish_name=False))
    first = (await client.get("/rounds/groot")).text
    rows = table_rows(first, "fair-shares")
    assert list(rows) == [f"Gemeente {n:02}" for n in range(1, 51)], "by name, the aggregated row not yet"
    assert rows["Gemeente 01"][1] == f"€{NBSP}5.000,00" and rows["Gemeente 50"][1] == f"€{NBSP}25.000,00"
    nav = re.search(r'<nav class="pagination" aria-label="([^"]+)">(.*?)</nav>', first, re.S)
    assert nav and nav.group(1) == "Pagina's van de tabel met de eerlijke verdeling"
    following = f"/rounds/groot?after={made[49]}#fair-shares"
    assert f'<a href="{following}" rel="next">Volgende pagina: na Gemeente 50</a>' in nav.group(2)
    assert "Eerste pagina" not in nav.group(2)
    second = (await client.get(following.split("#")[0])).text
    rows = table_rows(second, "fair-shares")
    assert list(rows) == [f"Gemeente {n:02}" for n in range(51, 61)] + ["1 anonieme bijdrager"]
    assert rows["Gemeente 55"][2:] == [f"€{NBSP}3.000,00", f"€{NBSP}0,00", f"€{NBSP}0,00", "toegezegd"]
    assert rows["1 anonieme bijdrager"][1:3] == ["niet gevraagd", f"€{NBSP}100,00"]
    assert '<a href="/rounds/groot#fair-shares">Eerste pagina</a>' in second and 'rel="next"' not in second
    figures = section(second, "figures-heading")
    assert f"€{NBSP}3.100,00" in figures, "the totals are the round's, whatever the page"
    for outside in (hidden, 999_999):  # a row the table does not show gives no place in it
        assert table_rows((await client.get(f"/rounds/groot?after={outside}")).text, "fair-shares") == {}
    assert (await client.get("/rounds/groot?after=nul")).status_code == 400


async def test_the_overview_and_the_list_of_rounds_link_to_open_and_decided_rounds(client, pledges, period, orgs):
    await make_round(pledges, period, "open-ronde", target=5_000, **OPEN)
    await make_round(pledges, period, "oude-ronde", opens_on=TODAY - timedelta(60), closes_on=TODAY - timedelta(30))
    await pledges.pledge("open-ronde", cash(orgs["amsterdam"], 1250))
    await pledges.close_round("oude-ronde", reason="test")
    home = (await client.get("/")).text
    rounds = section(home, "rounds-heading")
    assert '<a href="/rounds/open-ronde">Bijdragen open-ronde</a>' in rounds
    assert f"€{NBSP}5.000,00" in rounds and f"€{NBSP}1.250,00" in rounds and "(25%)" in rounds
    assert "open" in table_rows(rounds, "rounds")["Bijdragen open-ronde"]
    assert '<a href="/rounds/oude-ronde">Bijdragen oude-ronde</a>: gesloten' in rounds
    assert 'href="/rounds">Alle financieringsrondes' in rounds
    listing = (await client.get("/rounds")).text
    assert "Bijdragen open-ronde" in section(listing, "current-heading")
    assert "Bijdragen oude-ronde" in section(listing, "decided-heading")
    assert '<a href="/rounds" aria-current="page">Rondes</a>' in listing
    assert '<a href="/rounds">Rounds</a>' in (await client.get("/?lang=en")).text


async def test_without_rounds_the_list_says_so(client, database):
    assert "Er zijn nog geen financieringsrondes." in (await client.get("/rounds")).text


# -- helpers ----------------------------------------------------------------------------------------


def section(html: str, heading_id: str) -> str:
    """The `<section>` labelled by the heading with this id."""
    start = html.index(f'aria-labelledby="{heading_id}"')
    return html[start : html.index("</section>", start)]


def table_rows(html: str, table_class: str) -> dict[str, list[str]]:
    """The rows of the table of this class: the row header's text to the cells' texts."""
    start = html.index(f'<table class="{table_class}"')
    body = html[start : html.index("</table>", start)]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1], re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        rows[cells[0]] = cells[1:]
    return rows


def count_queries(monkeypatch) -> list[str]:
    """Every query the bound engine runs from now on."""
    from funding import db

    engine_class = type(db.current_engine())
    run = engine_class.run_querystring
    seen: list[str] = []

    async def counted(self, querystring, *args, **kwargs):
        seen.append(str(querystring))
        return await run(self, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counted)
    return seen
