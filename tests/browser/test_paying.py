"""Paying a due pledge online with the keyboard alone, through the Mollie stand-in's checkout.

`funding serve --demo` points the app at a local Mollie stand-in, and the demo's keep-it-all
round was decided with some cash pledges still owed (due, or partly paid): their pages offer
"pay now". A pledger reaches that page through the link the programme mailed; the demo mails
nothing, so the test reads the pledge's token from the server's database (the one step not
taken as a pledger takes it). The tests pay, so they share a demo server of this module's own.

In each language, on one owed pledge: "pay now", the stand-in's checkout, "failed" and back to
the page, which says nothing was charged; "pay now" with Mollie away (the stand-in's control API
fails the next call), which the page says at its error summary, whose link leads back to the
button; "pay now" again, "paid" and back, to the thanks; the finished payment's checkout (as the
Back button shows it) and its link back; then the payment in the public ledger under Mollie's id.
axe and the reflow check look at every page on the way: the pledge page with its pay section,
after a failure (with its online payments), with Mollie away and after payment, the stand-in's
checkout open and finished, and the ledger with the new entry.
"""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from funding import db
from funding.i18n import LOCALES
from funding.pledges.tables import ContributionForm, PledgeStatus
from tests.browser import keyboard
from tests.browser.axe import PageChecks
from tests.browser.conftest import run_async
from tests.browser.keyboard import press_and_follow
from tests.browser.pledge_page import details, payments, words
from tests.browser.site import SUMMARY, t
from tests.live import LiveServer

pytestmark = pytest.mark.browser

CHECKOUT_LOCALE = "nl"
"""The stand-in's checkout is in Dutch, with the English in `lang="en"` spans."""
OWED = (PledgeStatus.due.value, PledgeStatus.partially_paid.value)
OWED_SQL = "SELECT token FROM pledge WHERE status IN ({}) AND form = '{}' ORDER BY id".format(
    ", ".join(f"'{status}'" for status in OWED), ContributionForm.cash.value
)


@pytest.fixture(scope="module")
def owed(own_demo_server: LiveServer) -> list[str]:
    """The tokens of the demo's cash pledges that still owe money; each test takes its own."""

    async def tokens() -> list[str]:
        engine = db.engine_for_url(own_demo_server.database_url)  # not bound: this process's tables stay put
        return [row["token"] for row in await engine.run_ddl(OWED_SQL)]

    found = run_async(tokens())
    assert len(found) >= len(LOCALES), f"the demo needs a cash pledge that owes money per language, has {found}"
    return found


def pay_at_checkout(page: Page, outcome: str, check: PageChecks, *, focused: bool = False) -> str:
    """From the pledge page: "pay now" (Tab to it, unless `focused` there already), then on the
    stand-in's checkout choose `outcome` and continue, all by keyboard. Returns the checkout's
    address, once back on the pledge page."""
    if not focused:
        keyboard.tab_to(page, "#pay")
    at_checkout = press_and_follow(page)
    assert at_checkout and at_checkout.status == 200, f"pay now answered {at_checkout}"
    checkout_url = page.url
    assert re.search(r"/checkout/tr_\w+$", checkout_url), f"pay now led to {checkout_url}, not the stand-in's checkout"
    check(page, f"the stand-in's checkout, to choose {outcome}", CHECKOUT_LOCALE)
    choices = page.locator("input[name=status]")
    english = page.locator("fieldset label span[lang=en]")  # Mollie's name for each outcome, marked as English
    assert english.all_inner_texts() == [f"({value})" for value in choices.evaluate_all("cs => cs.map(c => c.value)")]

    keyboard.tab_to(page, "input[name=status]:checked")  # Tab enters a radio group at its chosen option
    for _ in range(choices.count()):
        if keyboard.focused_matches(page, f"#status-{outcome}:checked"):
            break
        page.keyboard.press("ArrowDown")  # the arrow keys move through the group, choosing as they go
    else:
        raise AssertionError(f"no choice {outcome!r} reached with the arrow keys on {checkout_url}")
    keyboard.tab_to(page, "form[method=post] button[type=submit]")
    back = press_and_follow(page)
    assert back and back.status == 200, f"continuing at the checkout answered {back}"
    return checkout_url


def payment_id(checkout_url: str) -> str:
    return checkout_url.rsplit("/", 1)[-1]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_due_pledge_is_paid_online_with_the_keyboard_alone_after_a_failure_and_mollie_away(
    open_context, own_demo_server, owed, locale
):
    started = time.monotonic()
    page = open_context(own_demo_server.url).new_page()
    check = PageChecks(f"paying-{locale}")
    pledge_url = f"{own_demo_server.url}/pledges/{owed.pop(0)}"
    page.goto(f"{pledge_url}?lang={locale}")  # the site remembers the language chosen
    expect(page.locator("html")).to_have_attribute("lang", locale)
    facts = details(page)
    owes, organisation = facts[t(locale, "Still to be paid")], facts[t(locale, "Organisation")]
    pay_now = t(locale, "Pay %(amount)s now") % {"amount": owes}
    assert words(page.locator("#pay").inner_text()) == words(pay_now)
    check(page, "an owed pledge's page, with its pay section", locale)

    first = pay_at_checkout(page, "failed", check)
    expect(page).to_have_url(f"{pledge_url}?done=payment_failed")
    expect(page.get_by_role("status")).to_have_text(
        t(locale, "The payment was not completed and nothing was charged. You can try again, or pay by bank transfer.")
    )
    assert details(page)[t(locale, "Still to be paid")] == owes
    assert [row[1:] for row in payments(page)] == [[payment_id(first), t(locale, "Failed"), owes]]
    check(page, "the pledge page after a failed payment, with its online payments", locale)

    standin = first.split("/checkout/")[0]
    httpx.post(f"{standin}/_standin/faults", json={"n": 1, "status": 503}, timeout=10).raise_for_status()
    keyboard.tab_to(page, "#pay")
    away = press_and_follow(page)
    assert away and away.status == 503, f"pay now with Mollie away answered {away}"
    expect(page.locator(".error-summary")).to_be_focused()  # `autofocus`: it takes focus as the page shows
    message = t(
        locale, "Online payment is not available right now. Nothing was charged: please try again in a few minutes."
    )
    expect(page.locator("#pay-error")).to_contain_text(message)
    assert details(page)[t(locale, "Still to be paid")] == owes
    check(page, "the pledge page when Mollie is away", locale, 503)
    keyboard.tab_to(page, '.error-summary a[href="#pay"]')
    page.keyboard.press("Enter")
    expect(page.locator("#pay")).to_be_focused()  # the summary leads to the button: press it again

    second = pay_at_checkout(page, "paid", check, focused=True)
    paid = payment_id(second)
    assert paid != payment_id(first), "a failed payment is over: paying again starts a new one"
    expect(page).to_have_url(f"{pledge_url}?done=paid")  # the return page asked Mollie itself
    expect(page.get_by_role("status")).to_have_text(t(locale, "Thank you: your payment was received."))
    expect(page.locator("#status-heading")).to_have_text(f"{t(locale, 'Status')}: {t(locale, 'Paid')}")
    expect(page.locator("#pay")).to_have_count(0)  # nothing left to pay
    assert [row[1:] for row in payments(page)] == [
        [payment_id(first), t(locale, "Failed"), owes],
        [paid, t(locale, "Paid"), owes],
    ]
    check(page, "the pledge page after payment, with the thanks", locale)

    page.goto(second)  # as the Back button shows it: nothing left to choose, a link back
    expect(page.locator("input[name=status]")).to_have_count(0)
    check(page, "the stand-in's checkout of a finished payment", CHECKOUT_LOCALE)
    keyboard.tab_to(page, "main a.button")
    press_and_follow(page)
    expect(page).to_have_url(f"{pledge_url}?done=paid")

    page.goto("/ledger")
    entry = page.locator("article.entry").filter(has=page.locator("code", has_text=re.compile(f"^{paid}$")))
    expect(entry).to_have_count(1)
    expect(entry.locator("h2")).to_contain_text(organisation)
    mollie = entry.locator("table.postings tbody tr").filter(has=page.locator("th code", has_text="assets:mollie"))
    assert words(mollie.locator("td").first.inner_text()) == owes, "received on Mollie's account: what was owed"
    check(page, "the ledger with the payment", locale)

    SUMMARY.append(
        f"paying [{locale}]: axe-core on {check.axe.pages} pages no crawl reaches, {len(check.axe.problems)}"
        f" violations, {time.monotonic() - started:.1f} s"
    )
    assert len(check.checked) == 8, check.checked
    assert not check.problems, "\n".join(check.problems)
