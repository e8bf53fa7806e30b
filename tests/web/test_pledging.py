"""The pledge flow through the web, without JavaScript: find the organisation, pledge, the
pledger's private page, changing and cancelling there; every bad field shown in the GOV.UK
pattern, in Dutch and English, on the backend under test."""

from __future__ import annotations

import re
from datetime import date, timedelta
from email import message_from_bytes, policy
from html import unescape
from pathlib import Path

import pytest

from funding.ledger.service import LedgerService
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import PledgeService
from funding.pledges.tables import PledgeStatus, RoundModel
from funding.settings import Settings
from tests.factories import programme_year
from tests.pledges.conftest import EQUAL, cash, make_round

TODAY = date.today()
OPEN = {"opens_on": TODAY - timedelta(days=30), "closes_on": TODAY + timedelta(days=30)}
FORM = "/rounds/open/pledge"
XSS_NAME = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
"""A name that breaks out of an attribute and opens a script, if anything prints it unescaped."""


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def settings(database: str, outbox: Path) -> Settings:
    return Settings(
        database_url=database,
        secret_key="test-secret-key-not-for-production",
        database_pool_size=0,
        outbox_dir=str(outbox),
    )


@pytest.fixture
def pledges(ledger: LedgerService) -> PledgeService:
    return PledgeService(ledger)


@pytest.fixture
async def year(ledger: LedgerService) -> int:
    """A budget period with two budget lines (as in tests/pledges), the chart of accounts open."""
    return await programme_year(ledger, 2026)


@pytest.fixture
async def orgs(database: str) -> dict[str, int]:
    registry = OrganisationService()
    made = {}
    for short, kind, name, code in [
        ("amsterdam", OrganisationKind.gemeente, "Gemeente Amsterdam", "GM0363"),
        ("utrecht", OrganisationKind.gemeente, "Gemeente Utrecht", "GM0344"),
        ("utrecht_p", OrganisationKind.provincie, "Provincie Utrecht", None),
        ("vng", OrganisationKind.other_public, "Vereniging van Nederlandse Gemeenten", None),
        ("jan", OrganisationKind.individual, "Jan Jansen", None),
    ]:
        made[short] = await registry.add(kind=kind, name=name, cbs_code=code)
    return made


@pytest.fixture
async def fund(pledges: PledgeService, year: int):
    """An open keep-it-all round asking EUR 1,000 of each organisation."""
    return await make_round(pledges, year, "open", **OPEN)


def csrf_token(html: str) -> str:
    match = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def field_value(html: str, name: str) -> str:
    """What an input or textarea shows, as the browser reads it."""
    tag = re.search(rf'<input[^>]*\bname="{name}"[^>]*>', html)
    if tag:
        value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
        return unescape(value.group(1)) if value else ""
    area = re.search(rf'<textarea[^>]*\bname="{name}"[^>]*>(.*?)</textarea>', html, re.DOTALL)
    assert area, f"no field {name}"
    return unescape(area.group(1))


def form_data(organisation: int, **fields: str) -> dict[str, str]:
    return {
        "organisation": str(organisation),
        "contact_name": "Els de Vries",
        "contact_email": "els@example.nl",
        "form": "cash",
        "amount": "1.000,00",
        "payment_preference": "invoice",
        "publish_name": "yes",
        **fields,
    }


async def post_form(client, organisation: int, path: str = FORM, **fields: str):
    """Open the form (which sets the CSRF cookie) and post it with the token from the page."""
    page = await client.get(f"{path}?organisation={organisation}")
    assert page.status_code == 200, page.text
    data = {**form_data(organisation, **fields), "_csrf_token": csrf_token(page.text)}
    return await client.post(path, data=data, follow_redirects=False)


async def pledged(client, organisation: int, **fields: str) -> str:
    """Pledge through the form; the pledge page's path."""
    response = await post_form(client, organisation, **fields)
    assert response.status_code == 303, response.text
    return response.headers["location"]


async def post_on_page(client, page_path: str, action: str, **fields: str):
    """Post one of the pledge page's own forms, with the token the page carries."""
    page = await client.get(page_path)
    return await client.post(
        f"{page_path}/{action}", data={**fields, "_csrf_token": csrf_token(page.text)}, follow_redirects=False
    )


def mails(outbox: Path) -> list:
    if not outbox.exists():
        return []
    return [message_from_bytes(path.read_bytes(), policy=policy.default) for path in sorted(outbox.glob("*.eml"))]


def main(html: str) -> str:
    return html[html.index("<main") : html.index("</main>")]


# -- step 1: finding the organisation ----------------------------------------------------------


async def test_the_search_finds_organisations_by_name_and_by_cbs_code_but_no_private_person(client, fund, orgs):
    by_name = await client.get(f"{FORM}?q=utrecht")
    assert by_name.status_code == 200
    assert f'href="{FORM}?organisation={orgs["utrecht"]}">Gemeente Utrecht</a>' in by_name.text
    assert f'href="{FORM}?organisation={orgs["utrecht_p"]}">Provincie Utrecht</a>' in by_name.text
    assert "Amsterdam" not in main(by_name.text)
    by_code = await client.get(f"{FORM}?q=gm0363")
    assert f'href="{FORM}?organisation={orgs["amsterdam"]}">Gemeente Amsterdam</a>' in by_code.text
    person = await client.get(f"{FORM}?q=Jansen")
    assert "Jan Jansen" not in person.text and "Geen organisatie in het register" in person.text
    chosen_person = await client.get(f"{FORM}?organisation={orgs['jan']}")
    assert chosen_person.status_code == 400 and "Jan Jansen" not in chosen_person.text


async def test_an_organisation_the_registry_keeps_anonymous_is_neither_found_nor_shown(client, fund):
    hidden = await OrganisationService().add(kind=OrganisationKind.company, name="Stille Vennoot BV", is_public=False)
    found = await client.get(f"{FORM}?q=Vennoot")
    assert "Stille Vennoot" not in found.text
    chosen = await client.get(f"{FORM}?organisation={hidden}")
    assert chosen.status_code == 400 and "Stille Vennoot" not in chosen.text


async def test_the_search_box_is_labelled_and_an_empty_search_is_an_error(client, fund):
    first = await client.get(FORM)
    assert first.status_code == 200
    assert '<label for="q">' in first.text and 'autocomplete="organization"' in first.text
    assert 'method="post"' not in first.text  # nothing to post before the organisation is chosen
    empty = await client.get(f"{FORM}?q=+")
    assert empty.status_code == 400
    assert '<a href="#q">' in empty.text and 'aria-invalid="true"' in empty.text


# -- step 2: the form ----------------------------------------------------------------------------


async def test_the_form_names_the_organisation_and_prefills_its_suggested_amount_in_the_locale(client, fund, orgs):
    dutch = await client.get(f"{FORM}?organisation={orgs['amsterdam']}")
    assert dutch.status_code == 200
    assert "<strong>Gemeente Amsterdam</strong>" in dutch.text
    assert field_value(dutch.text, "amount") == "1.000,00"
    assert "<title>Bijdrage toezeggen aan Bijdragen open · Kennisnetwerk</title>" in dutch.text
    assert 'autocomplete="name"' in dutch.text and 'autocomplete="email"' in dutch.text
    assert "<legend>Hoe draagt u bij?</legend>" in dutch.text
    assert 'name="publish_name"' not in dutch.text, "a municipality is always named: no choice to offer"
    assert "Wet open overheid" in dutch.text
    assert 'name="members"' not in dutch.text  # a municipality pledges for itself
    assert dutch.headers["cache-control"] == "private"
    english = await client.get(f"{FORM}?organisation={orgs['amsterdam']}&lang=en")
    assert field_value(english.text, "amount") == "1,000.00"
    assert "<title>Pledge to Contributions open · Kennisnetwerk</title>" in english.text
    assert "<legend>How do you contribute?</legend>" in english.text


async def test_a_cash_pledge_goes_to_its_private_page_which_no_one_else_keeps(client, fund, orgs, pledges, outbox):
    response = await post_form(client, orgs["amsterdam"], amount="1.250,50", buyer_reference="PO-2026-17")
    assert response.status_code == 303
    path = response.headers["location"]
    assert re.fullmatch(r"/pledges/[A-Za-z0-9_-]{40,}", path)
    pledge = await pledges.pledge_by_token(path.removeprefix("/pledges/"))
    assert (pledge.amount, pledge.status, pledge.buyer_reference) == (Money(125050), PledgeStatus.due, "PO-2026-17")
    assert pledge.publish_name and pledge.contact_name == "Els de Vries" and pledge.locale == "nl"

    page = await client.get(path)
    assert page.status_code == 200
    assert pledge.formatted_reference in page.text and pledge.formatted_reference.startswith("RF")
    assert "€\xa01.250,50" in page.text and "Gemeente Amsterdam" in page.text and "PO-2026-17" in page.text
    assert "NL91 ABNA 0417 1643 00" in page.text and "Stichting Kennisnetwerk (demo)" in page.text
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["x-robots-tag"] == "noindex"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex">' in page.text
    assert "Toegezegd" in page.text  # the history, in Dutch

    [mail] = mails(outbox)
    assert mail["To"] == "els@example.nl" and path in mail.get_content()


async def test_a_post_without_its_csrf_token_is_refused(client, fund, orgs, pledges):
    await client.get(f"{FORM}?organisation={orgs['amsterdam']}")  # the cookie, but no token sent
    refused = await client.post(FORM, data=form_data(orgs["amsterdam"]), follow_redirects=False)
    assert refused.status_code == 403
    client.cookies.clear()
    forged = await client.post(FORM, data={**form_data(orgs["amsterdam"]), "_csrf_token": "x" * 64})
    assert forged.status_code == 403
    assert await pledges.pledges(fund.id) == []


BAD_FIELDS = [
    # (what is typed, the fields in error)
    ({"contact_name": " "}, ["contact_name"]),
    ({"contact_email": "els at example"}, ["contact_email"]),
    ({"contact_name": "", "contact_email": ""}, ["contact_name", "contact_email"]),
    ({"contact_email": "", "amount": "veel"}, ["amount", "contact_email"]),  # in the order of the page
    ({"amount": ""}, ["amount"]),
    ({"amount": "twaalf euro"}, ["amount"]),
    ({"amount": "10,005"}, ["amount"]),
    ({"amount": "0"}, ["amount"]),
    ({"amount": "-5"}, ["amount"]),
    ({"amount": "1.000.001,00"}, ["amount"]),
    (
        {"form": "hours", "hours": "veertig", "hourly_rate": "", "in_kind_description": "Advies"},
        ["hours", "hourly_rate", "budget_line"],
    ),
    (
        {"form": "hours", "hours": "0", "hourly_rate": "75", "in_kind_description": "Advies", "budget_line": "events"},
        ["hours"],
    ),
    (
        {"form": "goods", "goods_value": "", "in_kind_description": ""},
        ["goods_value", "in_kind_description", "budget_line"],
    ),
    ({"form": "goods", "goods_value": "500", "in_kind_description": "Zaal", "budget_line": "nergens"}, ["budget_line"]),
    ({"form": "goods", "goods_value": "0", "in_kind_description": "Zaal", "budget_line": "events"}, ["goods_value"]),
    ({"form": "cheque"}, ["form"]),
    ({"payment_preference": "cheque"}, ["payment_preference"]),
    ({"buyer_reference": "P" * 101}, ["buyer_reference"]),
    ({"members": "Nergensdorp\nGM9999"}, ["members"]),
]


@pytest.mark.parametrize(
    ("typed", "fields"), BAD_FIELDS, ids=[",".join(f) + f"-{i}" for i, (_, f) in enumerate(BAD_FIELDS)]
)
async def test_every_bad_field_is_shown_at_its_place_and_in_the_summary_keeping_what_was_typed(
    client, fund, orgs, pledges, typed, fields
):
    typed = {"buyer_reference": "PO <17>", "contact_name": "Els & Co", **typed}
    response = await post_form(client, orgs["amsterdam"], **typed)
    assert response.status_code == 400
    html = response.text
    assert "<title>Fout: Bijdrage toezeggen aan Bijdragen open · Kennisnetwerk</title>" in html
    summary = re.search(r'<div class="error-summary" role="alert" tabindex="-1"[^>]*>(.*?)</div>', html, re.DOTALL)
    assert summary and '<h2 id="error-summary-title">Er is een probleem</h2>' in summary.group(1)
    assert re.findall(r'<a href="#([a-z_]+)">', summary.group(1)) == fields  # in the order of the form
    for name in fields:
        assert f'<p id="{name}-error" class="field-error">' in html
        if name not in ("form", "payment_preference"):  # a radio group describes its fieldset
            tag = re.search(rf'<(?:input|textarea|select)[^>]*\bid="{name}"[^>]*>', html).group(0)
            assert 'aria-invalid="true"' in tag and f"{name}-error" in tag
    sent = form_data(orgs["amsterdam"], **typed)
    for name in ("contact_name", "contact_email", "buyer_reference", "amount", "hours", "hourly_rate", "members"):
        if name in sent and (name != "members" or "members" in typed):
            assert field_value(html, name) == sent[name], name
    assert response.headers["cache-control"] == "private, no-store"  # what was typed stays in that browser
    assert await pledges.pledges(fund.id) == []


async def test_errors_are_in_english_on_request(client, fund, orgs):
    await client.get("/?lang=en")
    response = await post_form(client, orgs["amsterdam"], amount="twelve", contact_email="")
    assert response.status_code == 400
    assert "<title>Error: Pledge to Contributions open" in response.text
    assert "There is a problem" in response.text
    assert "Enter an amount in euros, like 1,000.00." in response.text
    assert "Enter an e-mail address like name@example.nl." in response.text


async def test_names_are_escaped_in_every_page_of_the_flow(client, fund, pledges):
    registry = OrganisationService()
    body = await registry.add(kind=OrganisationKind.other_public, name=XSS_NAME)
    found = await client.get(f"{FORM}?q=onerror")
    form = await client.get(f"{FORM}?organisation={body}")
    again = await post_form(client, body, contact_name=XSS_NAME, contact_email="not an address")
    assert again.status_code == 400
    assert field_value(again.text, "contact_name") == XSS_NAME
    path = await pledged(client, body, contact_name=XSS_NAME)
    page = await client.get(path)
    for response in (found, form, again, page):
        assert XSS_NAME not in response.text
        assert "<script>alert" not in response.text and "<img src=x" not in response.text
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in response.text or "&#34;&gt;&lt;img" in response.text


# -- rules ---------------------------------------------------------------------------------------


async def test_a_second_pledge_says_so_without_the_first_ones_link_and_the_link_can_be_sent_again(
    client, fund, orgs, pledges, outbox
):
    first = await pledged(client, orgs["amsterdam"])
    response = await post_form(client, orgs["amsterdam"], contact_name="Piet", contact_email="piet@example.nl")
    assert response.status_code == 400
    assert "Uw organisatie heeft al een toezegging gedaan in deze ronde" in response.text
    assert '<a href="#organisation">' in response.text
    assert first.removeprefix("/pledges/") not in response.text and "els@example.nl" not in response.text
    resend = re.search(r'<form method="post" action="/rounds/open/pledge/resend".*?</form>', response.text, re.DOTALL)
    assert resend and f'name="organisation" value="{orgs["amsterdam"]}"' in resend.group(0)
    token = csrf_token(resend.group(0))

    assert len(mails(outbox)) == 1  # the first pledge's confirmation
    sent = await client.post(f"{FORM}/resend", data={"organisation": str(orgs["amsterdam"]), "_csrf_token": token})
    assert sent.status_code == 200 and "Als uw organisatie een toezegging heeft in deze ronde" in sent.text
    again = mails(outbox)[1:]
    assert [m["To"] for m in again] == ["els@example.nl"]  # the contact on record, never who asked
    assert first in again[0].get_content()

    nothing = await client.post(f"{FORM}/resend", data={"organisation": str(orgs["utrecht"]), "_csrf_token": token})
    nonsense = await client.post(f"{FORM}/resend", data={"organisation": "x", "_csrf_token": token})
    assert main(nothing.text) == main(sent.text) == main(nonsense.text)  # the same answer either way
    assert len(mails(outbox)) == 2
    unforged = await client.post(f"{FORM}/resend", data={"organisation": str(orgs["amsterdam"])})
    assert unforged.status_code == 403


async def test_a_round_that_is_not_open_says_so_and_shows_no_form(client, fund, pledges, year, orgs):
    await make_round(pledges, year, "past", opens_on=TODAY - timedelta(days=60), closes_on=TODAY - timedelta(days=1))
    await make_round(pledges, year, "later", opens_on=TODAY + timedelta(days=7), closes_on=TODAY + timedelta(days=60))
    token = csrf_token((await client.get(f"{FORM}?organisation={orgs['amsterdam']}")).text)
    for slug, text in [("past", "Deze ronde is gesloten"), ("later", "Deze ronde neemt toezeggingen aan vanaf")]:
        for url in (f"/rounds/{slug}/pledge", f"/rounds/{slug}/pledge?organisation={orgs['amsterdam']}"):
            page = await client.get(url)
            assert page.status_code == 200 and text in page.text
            assert "<form" not in main(page.text)
        data = {**form_data(orgs["amsterdam"]), "_csrf_token": token}
        refused = await client.post(f"/rounds/{slug}/pledge", data=data, follow_redirects=False)
        assert refused.status_code == 400 and text in refused.text and "<form" not in main(refused.text)
    assert [p for r in await pledges.rounds() for p in await pledges.pledges(r.id)] == []


async def test_an_unknown_round_or_pledge_is_the_404_page(client, fund, orgs):
    for url in ["/rounds/nergens/pledge", "/rounds/%00/pledge", "/pledges/" + "x" * 43, "/pledges/%00", "/pledges/x"]:
        response = await client.get(url)
        assert response.status_code == 404, url
        assert "Pagina niet gevonden" in response.text
    page = await client.get(f"{FORM}?organisation={orgs['amsterdam']}")
    token = csrf_token(page.text)
    for url in ["/rounds/nergens/pledge", "/pledges/" + "x" * 43 + "/amount", "/pledges/" + "x" * 43 + "/cancel"]:
        response = await client.post(url, data={"_csrf_token": token, "amount": "5"})
        assert response.status_code == 404, url


async def test_an_in_kind_pledge_of_hours(client, fund, orgs, pledges):
    path = await pledged(
        client,
        orgs["utrecht"],
        form="hours",
        amount="",
        hours="40",
        hourly_rate="75,00",
        in_kind_description="Veertig uur advies over <b>open data</b>",
        budget_line="events",
    )
    pledge = await pledges.pledge_by_token(path.removeprefix("/pledges/"))
    assert (pledge.hours, pledge.hourly_rate, pledge.amount) == (40, Money(7500), Money(300_000))
    page = await client.get(path)
    assert "40 uur werk à €\xa075,00 per uur" in page.text
    assert "Bijeenkomsten" in page.text and "&lt;b&gt;open data&lt;/b&gt;" in page.text
    assert "IBAN" not in page.text  # nothing to transfer
    changed = await post_on_page(client, path, "amount", hours="30")
    assert changed.status_code == 303
    assert (await pledges.pledge_by_token(pledge.token)).amount == Money(225_000)


async def test_an_equal_split_round_shows_the_share_and_takes_cash_only(client, pledges, year, orgs):
    await make_round(pledges, year, "gedeeld", model=RoundModel.all_or_nothing, key=EQUAL, target=9_000, **OPEN)
    form_path = "/rounds/gedeeld/pledge"
    page = await client.get(f"{form_path}?organisation={orgs['amsterdam']}")
    assert "€\xa09.000,00" in page.text  # the whole target, while no one has joined
    assert 'name="amount"' not in page.text and 'value="hours"' not in page.text
    first = await pledges.pledge("gedeeld", cash(orgs["utrecht"], 1))
    page = await client.get(f"{form_path}?organisation={orgs['amsterdam']}")
    assert "€\xa04.500,00" in page.text
    path = await pledged(client, orgs["amsterdam"], path=form_path, amount="")
    pledge = await pledges.pledge_by_token(path.removeprefix("/pledges/"))
    assert pledge.amount == Money(450_000) and pledge.status is PledgeStatus.conditional
    own = await client.get(path)
    assert "/amount" not in own.text and "/cancel" in own.text  # a share is not chosen, but can be withdrawn
    assert "Betaal nog niet" in own.text
    earlier = await client.get(f"/pledges/{first.token}")
    assert (
        "Aandeel herberekend: van €\xa09.000,00 naar €\xa04.500,00, omdat een andere organisatie zich bij de ronde"
        in earlier.text
    )
    english = await client.get(f"/pledges/{first.token}?lang=en")
    assert "Share recomputed: from €9,000.00 to €4,500.00, because another organisation joined" in english.text


async def test_others_choose_whether_they_are_named_and_a_public_body_asked_is_named_anyway(
    client, fund, orgs, pledges
):
    umbrella = await client.get(f"{FORM}?organisation={orgs['vng']}")
    assert 'name="publish_name" value="yes"' in umbrella.text and "checked" not in re.search(
        r'<input[^>]*name="publish_name"[^>]*>', umbrella.text
    ).group(0)  # consent is given, not assumed
    hiding = await post_form(client, orgs["vng"], publish_name="", members="GM0363")
    assert hiding.status_code == 400 and "Wet open overheid" in hiding.text
    assert '<a href="#publish_name">' in hiding.text and 'id="publish_name-error"' in hiding.text
    alone = await pledges.pledge_by_token((await pledged(client, orgs["vng"], publish_name="")).split("/")[-1])
    assert not alone.publish_name, "an umbrella body alone is not listed unless it pledges: it may stay unnamed"
    # A crafted post without the box the form does not show: the municipality is named all the same.
    path = await pledged(client, orgs["utrecht"], publish_name="")
    assert (await pledges.pledge_by_token(path.split("/")[-1])).publish_name


async def test_an_umbrella_body_pledges_for_members_named_by_code_or_name(client, fund, orgs, pledges):
    page = await client.get(f"{FORM}?organisation={orgs['vng']}")
    assert 'name="members"' in page.text
    path = await pledged(client, orgs["vng"], members="gm0363\n\nGemeente Utrecht\n")
    page = await client.get(path)
    members = re.search(r'<ul class="members">(.*?)</ul>', page.text, re.DOTALL).group(1)
    assert "Gemeente Amsterdam" in members and "Gemeente Utrecht" in members
    again = await post_form(client, orgs["amsterdam"])
    assert again.status_code == 400 and "al een toezegging" in again.text  # covered by the umbrella


# -- the pledger's own page ------------------------------------------------------------------------


async def test_the_pledger_changes_the_amount_then_cancels_and_the_history_shows_both(client, fund, orgs, pledges):
    path = await pledged(client, orgs["amsterdam"])
    page = await client.get(path)
    assert field_value(page.text, "amount") == "1.000,00"
    assert 'action="' + path + '/amount"' in page.text and 'action="' + path + '/cancel"' in page.text

    bad = await post_on_page(client, path, "amount", amount="veel")
    assert bad.status_code == 400 and "<title>Fout: " in bad.text
    assert '<a href="#amount">' in bad.text and field_value(bad.text, "amount") == "veel"
    assert bad.headers["cache-control"] == "private, no-store"

    same = await post_on_page(client, path, "amount", amount="1000")
    assert same.status_code == 303 and same.headers["location"] == path  # nothing changed, nothing said

    changed = await post_on_page(client, path, "amount", amount="1.500,00")
    assert changed.status_code == 303 and changed.headers["location"] == f"{path}?done=changed"
    page = await client.get(changed.headers["location"])
    assert 'role="status"' in page.text and "Uw toezegging is gewijzigd" in page.text
    assert "€\xa01.500,00" in page.text and "Bedrag gewijzigd: was €\xa01.000,00" in page.text

    cancelled = await post_on_page(client, path, "cancel", reason="Geen budget <meer>")
    assert cancelled.status_code == 303 and cancelled.headers["location"] == f"{path}?done=cancelled"
    page = await client.get(cancelled.headers["location"])
    assert "Uw toezegging is ingetrokken" in page.text and "Status: Ingetrokken" in page.text
    assert "Geen budget &lt;meer&gt;" in page.text
    assert "/amount" not in page.text and "/cancel" not in page.text
    history = re.search(r'<table class="history">.*?</table>', page.text, re.DOTALL).group(0)
    assert [a for a in ("Toegezegd", "Bedrag gewijzigd", "Ingetrokken") if a in history] == [
        "Toegezegd",
        "Bedrag gewijzigd",
        "Ingetrokken",
    ]
    pledge = await pledges.pledge_by_token(path.removeprefix("/pledges/"))
    assert [e.action for e in pledge.history] == ["pledged", "amount_changed", "cancelled"]


async def test_the_pledge_page_in_english(client, fund, orgs):
    path = await pledged(client, orgs["amsterdam"])
    page = await client.get(f"{path}?lang=en")
    assert '<html lang="en">' in page.text
    assert "Your pledge to Contributions open" in page.text and "Status: Due" in page.text
    assert "€1,000.00" in page.text and "How to pay" in page.text and "Pledged" in page.text


ODD_QUERIES = ["q=%00", "q=%FF%FE", "q=%ED%A0%80", "q=%25_%5C", "organisation=0", "organisation=99999", "q=a&q=b"]


@pytest.mark.parametrize("query", ODD_QUERIES)
async def test_odd_searches_are_answered_never_with_a_500(client, fund, query):
    response = await client.get(f"{FORM}?{query}")
    assert response.status_code in (200, 400), response.text


async def test_odd_form_input_is_shown_again_never_a_500(client, fund, orgs, pledges):
    odd = {
        "contact_name": "Els\x00",
        "contact_email": "\udcff@example.nl",
        "amount": "1" * 400,
        "hours": "9" * 400,
        "members": "\x00\nGM\x000363",
        "organisation": str(orgs["amsterdam"]),
    }
    page = await client.get(f"{FORM}?organisation={orgs['amsterdam']}")
    body = "&".join(f"{k}={v}" for k, v in {**odd, "_csrf_token": csrf_token(page.text)}.items())
    response = await client.post(
        FORM,
        content=body.encode("utf-8", "surrogateescape"),
        headers={"content-type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )
    assert response.status_code == 400, response.text
    assert await pledges.pledges(fund.id) == []


async def test_ids_are_unique_and_every_label_and_description_points_at_something(client, fund, orgs):
    form = await client.get(f"{FORM}?organisation={orgs['vng']}")
    failed = await post_form(client, orgs["vng"], contact_email="", form="goods", members="Nergensdorp")
    path = await pledged(client, orgs["utrecht"])
    own = await post_on_page(client, path, "amount", amount="x")
    for response in (form, failed, own):
        ids = re.findall(r'\sid="([^"]+)"', response.text)
        assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
        pointed = re.findall(r'\bfor="([^"]+)"', response.text) + [
            i for refs in re.findall(r'aria-(?:describedby|labelledby)="([^"]+)"', response.text) for i in refs.split()
        ]
        assert set(pointed) <= set(ids), set(pointed) - set(ids)
        links = re.findall(r'<a href="#([^"]+)"', main(response.text))
        assert set(links) <= set(ids)
