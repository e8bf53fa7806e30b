"""A visitor's walk through the public site, with the mouse and then with the keyboard alone.

Link texts come from the message catalog (`t`), so the walk reads like the Dutch page does without
hard-coding Dutch. Keyboard checks run on every route the app has, in both languages.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from funding.i18n import LOCALES
from tests.browser import keyboard
from tests.browser.site import SUMMARY, t

pytestmark = pytest.mark.browser


_IN_OR_AFTER_MAIN = """() => {
  const focus = document.activeElement, main = document.querySelector('main');
  return !focus || focus === document.body || main.contains(focus)
    || !!(main.compareDocumentPosition(focus) & Node.DOCUMENT_POSITION_FOLLOWING);
}"""


def follow(page: Page, link: Locator) -> None:
    with page.expect_navigation():
        link.click()


def press_and_follow(page: Page, key: str = "Enter") -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


def seqs(page: Page) -> list[int]:
    return [int(text.lstrip("#")) for text in page.locator(".entry .seq").all_inner_texts()]


def head_seq(page: Page) -> int:
    return page.request.get("/api/v1/ledger/head").json()["seq"]


def test_a_visitor_reads_the_overview_then_pages_through_the_whole_ledger(page):
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("link", name=t("nl", "Overview"))).to_have_attribute("aria-current", "page")
    follow(page, page.get_by_role("navigation", name=t("nl", "Main")).get_by_role("link", name=t("nl", "Ledger")))
    expect(page).to_have_url(re.compile(r"/ledger$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("nl", "Public ledger"))
    expect(page.get_by_role("link", name=t("nl", "Ledger"), exact=True)).to_have_attribute("aria-current", "page")

    first = seqs(page)
    pages, seen = [first], list(first)
    while (older := page.get_by_role("link", name=t("nl", "Older entries"))).count():
        follow(page, older)
        pages.append(seqs(page))
        assert pages[-1][0] == seen[-1] - 1, "an older page starts right below the previous one"
        seen += pages[-1]
    assert seen == list(range(head_seq(page), 0, -1)), "paging back reaches every entry once, down to #1"

    follow(page, page.get_by_role("link", name=t("nl", "Newer entries")))
    assert seqs(page) == pages[-2], "a newer page is the one before it again"
    if len(pages) > 2:
        follow(page, page.get_by_role("link", name=t("nl", "Newest")))
        assert seqs(page) == first


def test_a_visitor_switches_to_english_and_back_and_the_choice_is_remembered(page):
    page.goto("/ledger")
    follow(page, page.get_by_role("navigation", name=t("nl", "Language")).get_by_role("link", name="English"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("en", "Public ledger"))
    follow(page, page.get_by_role("navigation", name=t("en", "Main")).get_by_role("link", name=t("en", "Overview")))
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")  # no ?lang= in this link: the cookie
    follow(page, page.get_by_role("navigation", name=t("en", "Language")).get_by_role("link", name="Nederlands"))
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=2).first).to_contain_text(t("nl", "Budget period %(name)s") % {"name": ""})


def test_the_footer_leads_to_the_accessibility_statement_and_the_open_data(page):
    page.goto("/")
    footer = page.get_by_role("contentinfo")
    follow(page, footer.get_by_role("link", name=t("nl", "Accessibility statement")))
    expect(page).to_have_url(re.compile(r"/accessibility$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("nl", "Accessibility statement"))
    with page.expect_response(re.compile(r"/ledger\.json$")) as answer:
        footer.get_by_role("link", name=t("nl", "Open data: the whole ledger (JSON)")).click()
    response = answer.value
    assert response.status == 200
    assert response.headers["content-type"].startswith("application/json")
    export = response.json()
    assert export["head_seq"] == len(export["entries"]) == head_seq(page)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_first_tab_reaches_the_skip_link_which_moves_focus_to_the_main_content(page, routes, locale):
    for path in routes:
        page.goto(f"{path}?lang={locale}")
        page.keyboard.press("Tab")
        focus = keyboard.focused(page)
        assert focus is not None and focus.href == "#main", f"{path}: the first Tab reached {focus}"
        assert focus.in_viewport, f"{path}: the skip link stays out of sight when focused"
        assert focus.text == t(locale, "Skip to main content")
        page.keyboard.press("Enter")
        assert keyboard.focused_matches(page, "main"), (
            f"{path}: after the skip link, focus is on {keyboard.focused(page)}"
        )
        page.keyboard.press("Tab")
        assert page.evaluate(_IN_OR_AFTER_MAIN), f"{path}: Tab after the skip link went to {keyboard.focused(page)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_tab_stop_shows_clearly_where_focus_is(page, routes, locale):
    """WCAG 2.4.7 and 1.4.11: a visible focus indicator with 3:1 contrast, and no keyboard trap."""
    problems, counted = [], 0
    for path in routes:
        page.goto(f"{path}?lang={locale}")
        stops = keyboard.tab_stops(page)
        counted += len(stops)
        for stop in stops:
            if not stop.in_viewport:
                problems.append(f"{path}: {stop} is focused out of sight")
            if (ratio := stop.indicator_contrast()) < 3:
                problems.append(f"{path}: {stop} focus indicator contrast {ratio:.2f}:1 on {stop.background}")
    SUMMARY.append(f"keyboard [{locale}]: {counted} tab stops on {len(routes)} routes, {len(problems)} problems")
    assert not problems, "\n".join(problems)


def test_the_language_switch_works_with_the_keyboard_alone(page):
    page.goto("/ledger")
    keyboard.tab_to(page, 'a[hreflang="en"]')
    press_and_follow(page)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/ledger\?lang=en$"))
    keyboard.tab_to(page, 'a[hreflang="nl"]')
    press_and_follow(page)
    expect(page.locator("html")).to_have_attribute("lang", "nl")


def test_ledger_pages_turn_with_the_keyboard_alone(page):
    page.goto("/ledger")
    first = seqs(page)
    keyboard.tab_to(page, 'a[rel="next"]')
    press_and_follow(page)
    expect(page).to_have_url(re.compile(r"before=\d+"))
    assert seqs(page)[0] == first[-1] - 1
    keyboard.tab_to(page, 'a[rel="prev"]')
    press_and_follow(page)
    expect(page).to_have_url(re.compile(r"after=\d+"))
    assert seqs(page) == first


def test_a_missing_page_speaks_the_visitors_language(page):
    """A 404 for a path no route matches is answered before the locale middleware runs."""
    page.goto("/?lang=en")
    response = page.goto("/this-page-does-not-exist")
    assert response.status == 404
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text(t("en", "Page not found"))
