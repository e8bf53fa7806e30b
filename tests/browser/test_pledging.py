"""Pledging with the keyboard alone, on a demo server of this module's own (the tests write).

In Dutch, as a municipality's officer would: from the open round's page to the search, the form
and the pledge's private page, then changing and cancelling it there. A form sent with mistakes
follows the GOV.UK pattern: the error summary takes focus, its links take focus to the fields,
and what was typed stays. axe (and the reflow check) then look at the pages no crawl reaches, in
Dutch and English: the search with results and the form for one organisation (reached by a search
form, not a link), the form's error states, the link re-sent, the pledge page as it changes.
Every page a link or the route table reaches (the round, the empty search, a pledge's page) is
checked by test_accessibility.py already.

Organisations come from the round's fair-share table (those without a pledge), amounts from
the key's suggestion, and words from the message catalog (`t`): nothing of the demo is copied.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.sync_api import Page, expect
from stdnum import iso11649

from funding.i18n import LOCALES
from funding.money import Money
from tests.browser import keyboard
from tests.browser.axe import PageChecks
from tests.browser.keyboard import press_and_follow, type_into
from tests.browser.pledge_page import details, history, words
from tests.browser.site import SUMMARY, t
from tests.live import LiveServer

pytestmark = pytest.mark.browser

PLEDGE_BUTTON = 'form[action$="/pledge"] button[type=submit]'
CHANGE_BUTTON = 'form[action$="/amount"] button[type=submit]'
CANCEL_BUTTON = 'form[action$="/cancel"] button[type=submit]'
RESEND_BUTTON = 'form[action$="/pledge/resend"] button[type=submit]'


@dataclass
class OpenRound:
    """The demo's open round on this module's server, and the organisations that can still pledge."""

    server: LiveServer
    slug: str
    free: list[dict]
    """Fair-share rows without a pledge; each test takes its own (`take`)."""
    pledged: list[dict] = field(default_factory=list)
    """Rows with a standing pledge: a second one is refused."""

    def take(self) -> dict:
        return self.free.pop(0)

    @property
    def form_path(self) -> str:
        return f"/rounds/{self.slug}/pledge"


@pytest.fixture(scope="module")
def open_round(own_demo_server: LiveServer) -> OpenRound:
    with httpx.Client(base_url=own_demo_server.url, timeout=10) as client:
        rounds = client.get("/api/v1/rounds").raise_for_status().json()
        slug = next(r["slug"] for r in rounds if r["accepts_pledges"])
        rows, after = [], None
        while True:  # every page of the table
            params = {"after": after} if after else {}
            table = client.get(f"/api/v1/rounds/{slug}/fair-shares", params=params).raise_for_status().json()
            rows += table["rows"]
            if (after := table["next_after"]) is None:
                break
    named = [row for row in rows if row["organisation_id"]]
    free = [row for row in named if row["status"] == "none"]
    pledged = [row for row in named if row["status"] == "conditional"]
    assert len(free) >= 4 and pledged, "the demo's open round needs organisations with and without a pledge"
    return OpenRound(own_demo_server, slug, free, pledged)


@pytest.fixture
def dutch(open_context, open_round: OpenRound) -> Page:
    """A page on this module's server in a browser that asks for Dutch, as the site's default."""
    return open_context(open_round.server.url, locale="nl-NL").new_page()


def fair_share_status(page: Page, open_round: OpenRound, name: str) -> str:
    """The status the round page's fair-share table gives `name`, following its pages."""
    page.goto(f"/rounds/{open_round.slug}")
    while True:
        header = page.get_by_role("rowheader", name=name, exact=True)
        row = page.locator("table.fair-shares tbody tr").filter(has=header)
        if row.count():
            return words(row.locator("td").last.inner_text())
        following = page.locator('nav.pagination a[rel="next"]')
        assert following.count(), f"{name} is on no page of the fair-share table"
        following.click()


def test_an_organisation_pledges_changes_and_cancels_with_the_keyboard_alone(dutch, open_round):
    page, chosen = dutch, open_round.take()
    suggested = Money.euros(chosen["suggested"]["value"])
    page.goto(f"/rounds/{open_round.slug}")
    expect(page.locator("html")).to_have_attribute("lang", "nl")

    keyboard.tab_to(page, f'main a[href="{open_round.form_path}"]')
    press_and_follow(page)
    expect(page.get_by_role("heading", level=1)).to_contain_text(t("nl", "Pledge to %(round)s") % {"round": ""})

    keyboard.tab_to(page, "#q")
    page.keyboard.type(chosen["name"])
    press_and_follow(page)
    expect(page).to_have_url(re.compile(r"\?q="))
    keyboard.tab_to(page, f'a[href$="?organisation={chosen["organisation_id"]}"]')
    press_and_follow(page)
    expect(page.locator("#organisation")).to_contain_text(chosen["name"])
    expect(page.locator("#amount")).to_have_value(suggested.format_number("nl"))  # the key's suggestion
    assert page.locator("#form").is_checked(), "in cash, unless the pledger says otherwise"

    type_into(page, "#contact_name", "Fatima el Amrani")
    type_into(page, "#contact_email", "f.elamrani@example.nl")
    expect(page.locator("#publish_name")).to_have_count(0)  # a body the round asks is always named
    keyboard.tab_to(page, PLEDGE_BUTTON)
    landed = press_and_follow(page)

    assert landed.status == 200 and landed.request.redirected_from.method == "POST"
    expect(page).to_have_url(re.compile(r"/pledges/[A-Za-z0-9_-]{20,}$"))
    expect(page.locator("#status-heading")).to_have_text(f"{t('nl', 'Status')}: {t('nl', 'Conditional')}")
    facts = details(page)
    reference = facts[t("nl", "Payment reference")]
    assert reference.startswith("RF") and iso11649.is_valid(reference), reference
    quoted = page.locator("section[aria-labelledby=pay-heading] code.reference").last
    expect(quoted).to_have_text(reference)  # the reference to quote when paying is the same
    assert facts[t("nl", "Amount")] == words(suggested.format("nl"))
    assert facts[t("nl", "Organisation")] == chosen["name"]
    assert facts[t("nl", "Name published")] == t("nl", "Yes")
    assert [row[1] for row in history(page)] == [t("nl", "Pledged")]
    pledge_url = page.url
    round_page = page.context.new_page()
    assert fair_share_status(round_page, open_round, chosen["name"]) == t("nl", "conditional"), "named, by its row"

    raised = suggested + Money.euros(250)
    type_into(page, "#amount", raised.format_number("nl"))
    keyboard.tab_to(page, CHANGE_BUTTON)
    press_and_follow(page)
    expect(page).to_have_url(pledge_url + "?done=changed")
    expect(page.get_by_role("status")).to_have_text(
        t("nl", "Your pledge is changed. We keep the change in its history below.")
    )
    assert details(page)[t("nl", "Amount")] == words(raised.format("nl"))

    reason = "De raad heeft het budget verschoven."
    type_into(page, "#reason", reason)
    keyboard.tab_to(page, CANCEL_BUTTON)
    press_and_follow(page)
    expect(page).to_have_url(pledge_url + "?done=cancelled")
    expect(page.get_by_role("status")).to_have_text(t("nl", "Your pledge is cancelled."))
    expect(page.locator("#status-heading")).to_have_text(f"{t('nl', 'Status')}: {t('nl', 'Cancelled')}")
    expect(page.locator(CHANGE_BUTTON)).to_have_count(0)  # nothing left to change
    steps = history(page)
    was = t("nl", "from %(previous)s") % {"previous": words(suggested.format("nl"))}  # the amount before
    assert [row[1:] for row in steps] == [
        [t("nl", "Pledged"), t("nl", "Conditional"), words(suggested.format("nl"))],
        [f"{t('nl', 'Amount changed')}: {was}", t("nl", "Conditional"), words(raised.format("nl"))],
        [f"{t('nl', 'Cancelled')}: {reason}", t("nl", "Cancelled"), words(raised.format("nl"))],
    ]
    assert fair_share_status(round_page, open_round, chosen["name"]) == t("nl", "not yet")


def test_a_form_with_mistakes_comes_back_with_a_summary_that_takes_focus_and_leads_to_each_field(dutch, open_round):
    page, chosen = dutch, open_round.take()
    page.goto(f"{open_round.form_path}?organisation={chosen['organisation_id']}")
    type_into(page, "#amount", "twaalfhonderd")
    type_into(page, "#contact_name", "Jan de Vries")  # and no e-mail address
    keyboard.tab_to(page, PLEDGE_BUTTON)
    answer = press_and_follow(page)

    assert answer.status == 400
    expect(page).to_have_title(re.compile("^" + re.escape(t("nl", "Error: %(title)s") % {"title": ""})))
    assert keyboard.focused_matches(page, ".error-summary"), f"focus is on {keyboard.focused(page)}"
    links = page.locator(".error-summary a")
    assert links.evaluate_all("links => links.map(a => a.getAttribute('href'))") == ["#amount", "#contact_email"]
    for name in ("amount", "contact_email"):
        field_ = page.locator(f"#{name}")
        expect(field_).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#{name}-error")).to_be_visible()
        message = links.filter(has=page.locator(f'xpath=self::*[@href="#{name}"]')).inner_text()
        assert message in page.locator(f"#{name}-error").inner_text()
        assert f"{name}-error" in field_.get_attribute("aria-describedby").split()

    keyboard.tab_to(page, '.error-summary a[href="#amount"]')
    page.keyboard.press("Enter")
    expect(page.locator("#amount")).to_be_focused()
    assert keyboard.in_viewport(page, 'label[for="amount"]'), "the field's question stays in sight"
    keyboard.tab_to(page, '.error-summary a[href="#contact_email"]', backwards=True)
    page.keyboard.press("Enter")
    expect(page.locator("#contact_email")).to_be_focused()
    assert keyboard.in_viewport(page, 'label[for="contact_email"]')

    expect(page.locator("#amount")).to_have_value("twaalfhonderd")
    expect(page.locator("#contact_name")).to_have_value("Jan de Vries")
    expect(page.locator("#contact_email")).to_have_value("")
    page.keyboard.type("j.devries@example.nl")  # focus is in the e-mail field: put the mistakes right
    type_into(page, "#amount", "1.200,00", backwards=True)
    keyboard.tab_to(page, PLEDGE_BUTTON)
    press_and_follow(page)
    expect(page).to_have_url(re.compile(r"/pledges/"))
    facts = details(page)
    assert facts[t("nl", "Amount")] == words(Money.euros(1200).format("nl"))
    assert facts[t("nl", "Contact")] == "Jan de Vries <j.devries@example.nl>"


@pytest.mark.parametrize("locale", LOCALES)
def test_the_pledge_forms_steps_and_the_pages_after_a_post_have_no_axe_violations(open_context, open_round, locale):
    """The search (with results, and with nothing typed), the form for one organisation, its error
    states (mistakes, a second pledge, the link re-sent) and the pledge page as it is made, changed
    with a mistake, changed and cancelled: each answers in `locale`, and axe and the reflow check
    find nothing, as on every crawled page."""
    page = open_context(open_round.server.url).new_page()
    checks = PageChecks(f"pledging-{locale}")

    def check(what: str, status: int) -> None:
        checks(page, what, locale, status)

    def answered(response, expected: int) -> None:
        assert response.status == expected, f"{page.url}: {response.status}, expected {expected}"

    def goto(path: str, expected: int) -> None:
        answered(page.goto(path), expected)

    def submit(button: str, expected: int) -> None:
        with page.expect_navigation() as navigation:
            page.locator(button).click()
        answered(navigation.value, expected)

    chosen = open_round.take()
    # An umbrella body that pledged already: its form has the members field too.
    taken = next((row for row in open_round.pledged if row["kind"] == "other_public"), open_round.pledged[0])
    goto(f"{open_round.form_path}?q=&lang={locale}", 400)
    check("the search with nothing typed", 400)
    page.fill("#q", chosen["name"].split()[0])  # "Gemeente", "Provincie": many matches
    with page.expect_navigation() as navigation:
        page.locator("#q").press("Enter")
    answered(navigation.value, 200)
    assert page.locator("ul.choices a").count() > 1
    check("the search's results", 200)
    goto(f"{open_round.form_path}?organisation={chosen['organisation_id']}", 200)
    check("the form for one organisation", 200)
    page.fill("#amount", "-5")
    page.fill("#contact_email", "not an address")
    submit(PLEDGE_BUTTON, 400)
    check("the form with mistakes", 400)

    page.fill("#amount", Money.euros(900).format_number(locale))
    page.fill("#contact_name", "Test Persoon")
    page.fill("#contact_email", "test@example.org")
    submit(PLEDGE_BUTTON, 200)
    check("a new pledge's page", 200)
    page.fill("#amount", "0")
    submit(CHANGE_BUTTON, 400)
    check("the pledge page with a mistake in the change", 400)
    page.fill("#amount", Money.euros(950).format_number(locale))
    submit(CHANGE_BUTTON, 200)
    check("the pledge page, changed", 200)
    submit(CANCEL_BUTTON, 200)
    check("the pledge page, cancelled", 200)

    goto(f"{open_round.form_path}?organisation={taken['organisation_id']}", 200)
    expect(page.locator("#members")).to_have_count(1 if taken["kind"] == "other_public" else 0)
    page.fill("#contact_name", "Test Persoon")
    page.fill("#contact_email", "test@example.org")
    submit(PLEDGE_BUTTON, 400)
    check("the form for an organisation that pledged already", 400)
    submit(RESEND_BUTTON, 200)
    check("the link re-sent", 200)

    SUMMARY.append(
        f"pledging [{locale}]: axe-core on {checks.axe.pages} pages no crawl reaches, "
        f"{len(checks.axe.problems)} violations"
    )
    assert checks.axe.pages == len(checks.checked) == 10
    assert not checks.problems, "\n".join(checks.problems)
