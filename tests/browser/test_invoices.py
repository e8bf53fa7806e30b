"""Asking for an invoice and reading it, with the keyboard alone, in Dutch and English.

On a demo server of this module's own (the tests issue invoices): a due cash pledge that has
none yet offers "send me an invoice"; pressing it issues one, the page says so and lists it; its
link leads to the HTML view, whose PDF and e-invoice links serve the stored files. axe and the
reflow check look at the pledge page before and after, and at the HTML view.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from funding import db
from funding.i18n import LOCALES
from tests.browser import keyboard
from tests.browser.axe import PageChecks
from tests.browser.conftest import run_async
from tests.browser.keyboard import press_and_follow
from tests.browser.site import SUMMARY, t
from tests.live import LiveServer

pytestmark = pytest.mark.browser

UNBILLED_SQL = (
    "SELECT token FROM pledge WHERE status = 'due' AND form = 'cash' AND billed_cents = 0 AND paid_cents = 0 "
    "ORDER BY id"
)


@pytest.fixture(scope="module")
def unbilled(own_demo_server: LiveServer) -> list[str]:
    """Tokens of the demo's due cash pledges with no invoice yet; each test takes its own."""

    async def tokens() -> list[str]:
        engine = db.engine_for_url(own_demo_server.database_url)
        return [row["token"] for row in await engine.run_ddl(UNBILLED_SQL)]

    found = run_async(tokens())
    assert len(found) >= len(LOCALES), f"the demo needs an uninvoiced due pledge per language, has {found}"
    return found


@pytest.mark.parametrize("locale", LOCALES)
def test_a_pledger_asks_for_an_invoice_and_reads_it_with_the_keyboard_alone(
    open_context, own_demo_server, unbilled, locale
):
    page = open_context(own_demo_server.url).new_page()
    check = PageChecks(f"invoices-{locale}")
    pledge_url = f"{own_demo_server.url}/pledges/{unbilled.pop(0)}"
    page.goto(f"{pledge_url}?lang={locale}")
    expect(page.locator("#invoice")).to_have_text(t(locale, "Send me an invoice"))
    check(page, "a due pledge's page, offering an invoice", locale)

    keyboard.tab_to(page, "#invoice")
    issued = press_and_follow(page)
    assert issued and issued.status == 200, f"asking for an invoice answered {issued}"
    expect(page).to_have_url(f"{pledge_url}?done=invoiced")
    expect(page.get_by_role("status")).to_have_text(
        t(locale, "Your invoice is issued and on its way by e-mail. You can also download it below.")
    )
    expect(page.locator("#invoice")).to_have_count(0)
    link = page.locator("#invoices-heading ~ div table a").first
    number = link.inner_text().rsplit(" ", 1)[-1]
    expect(link).to_have_text(f"{t(locale, 'Invoice')} {number}")
    check(page, "the pledge page with its invoice", locale)

    keyboard.tab_to(page, f'a[href$="/invoices/{number}"]')
    view = press_and_follow(page)
    assert view and view.status == 200, f"the invoice's page answered {view}"
    expect(page.locator("h1")).to_contain_text(number)  # the document's own heading, in its own language
    check(page, "the invoice's HTML view", locale)

    for suffix, media_type in (("pdf", "application/pdf"), ("xml", "application/xml")):
        href = page.locator(f'a[href$="/invoices/{number}.{suffix}"]').first.get_attribute("href")
        served = httpx.get(f"{own_demo_server.url}{href}", timeout=10)
        assert served.status_code == 200 and served.headers["content-type"].startswith(media_type), href
        assert served.content == httpx.get(f"{own_demo_server.url}{href}", timeout=10).content
    SUMMARY.append(f"invoices [{locale}]: axe-core on {check.axe.pages} pages, {len(check.axe.problems)} violations")
    assert len(check.checked) == 3, check.checked
    assert not check.problems, "\n".join(check.problems)
