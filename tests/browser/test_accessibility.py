"""axe-core finds no WCAG 2.1 A/AA violation on any page, in Dutch and in English, and every page
fits a phone-sized window.

No page is listed here: every GET HTML route from the app's route table, every page those link
to (older ledger pages, corrected entries …), error states and empty states, on the demo site and
on a site with an empty database (see `survey` in conftest.py).
"""

from __future__ import annotations

import pytest

from funding.i18n import LOCALES
from tests.browser import axe
from tests.browser.site import SUMMARY, ReflowCheck, Visit

pytestmark = pytest.mark.browser
SITES = ["demo_server", "empty_server"]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("site", SITES)
def test_every_page_answers_in_its_language_and_every_link_works(survey, site, locale):
    found = survey(site, locale)
    report = found.report
    SUMMARY.append(
        f"{site} [{locale}]: {len(found.routes)} routes discovered, {len(report.visited)} pages crawled"
        f" ({len(report.downloads)} non-HTML links: {report.downloads}), {report.seconds:.1f} s"
    )
    assert set(found.routes) <= set(report.visited), "a route from the route table was not visited"
    assert not report.problems, f"{len(report.problems)} problems:\n" + "\n".join(report.problems)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("site", SITES)
def test_no_page_has_axe_violations(survey, site, locale):
    found = survey(site, locale).axe
    violations = sum(found.by_rule.values())
    SUMMARY.append(
        f"axe-core {axe.VERSION} {site} [{locale}]: {found.pages} pages checked, {violations} violations"
        + (f" {dict(found.by_rule)}" if violations else "")
    )
    assert found.pages > 0
    assert not found.problems, f"{violations} violations (pages saved in artifacts/browser/):\n" + "\n".join(
        found.problems
    )


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("site", SITES)
def test_every_page_fits_a_320_pixel_window_without_sideways_scrolling(survey, site, locale):
    found = survey(site, locale).reflow
    assert not found.problems, "\n".join(found.problems)


def test_the_check_does_find_violations_on_a_bad_page_served_with_the_sites_policy(page):
    """Guards against a silent pass: axe must really run under the site's CSP and report."""
    bad = (
        "<!doctype html><html><head><title>x</title></head><body>"
        '<img src="/static/none.png"><p style="color:#aaa;background:#fff">pale</p>'
        '<a href="/"></a></body></html>'
    )
    policy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'"
    page.route(
        "**/__axe-self-test",
        lambda route: route.fulfill(body=bad, content_type="text/html", headers={"content-security-policy": policy}),
    )
    page.goto("/__axe-self-test")
    found = {violation["id"] for violation in axe.violations(page)}
    assert {"html-has-lang", "image-alt", "link-name", "color-contrast"} <= found


def test_the_reflow_check_finds_a_page_too_wide_for_a_phone(page):
    page.route(
        "**/__wide",
        lambda route: route.fulfill(
            body='<!doctype html><html lang="nl"><body><p style="width:900px">breed</p></body></html>',
            content_type="text/html",
        ),
    )
    page.goto("/__wide")
    problems = ReflowCheck(save=False).finish(Visit("/__wide", "nl", 200, page))
    assert len(problems) == 1 and 'p "breed"' in problems[0]
