"""Every form on the site can be filled in and sent with the keyboard alone, and says what is wrong.

The forms are found by crawling the site, not listed: a form added to any page is covered.
"""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from tests.browser.forms import submit_by_keyboard
from tests.browser.site import SUMMARY, server_routes

pytestmark = pytest.mark.browser


def test_every_form_on_the_site_works_with_the_keyboard_alone(
    survey, demo_routes, open_context, start_fresh_demo_server
):
    crawled = survey("demo_server", "nl")
    forms = crawled.forms
    total = sum(forms.forms.values())
    SUMMARY.append(
        f"forms: {total} on {len(forms.forms)} of {len(crawled.report.visited)} pages"
        + (f" {forms.forms}" if forms.forms else "")
    )
    if not total:
        return  # no forms on the site yet; the self-test below keeps the helper honest meanwhile
    server = start_fresh_demo_server()  # submitting writes: not on the shared demo server
    # A route's sample can be the shared server's own (a pledge's token): take the fresh one's.
    own = server_routes(server.database_url, server.url)
    moved = {path: own[route] for route, path in demo_routes.items()}
    page = open_context(server.url, locale="en-US").new_page()
    outcomes = [
        submit_by_keyboard(page, moved.get(path, path), index)
        for path, count in forms.forms.items()
        for index in range(count)
    ]
    assert len(outcomes) == total
    for outcome in outcomes:
        SUMMARY.append(
            f"  {outcome.where}: filled {len(outcome.filled)} fields, "
            f"answered {outcome.status}, errors {outcome.errors}"
        )
    problems = [problem for outcome in outcomes for problem in outcome.problems]
    assert not problems, "\n".join(problems)


SELF_TEST_FORM = """<!doctype html><html lang="nl"><head><title>Formulier</title></head><body><main>
<form method="post" action="/__form-self-test">
  <p><a href="/">Een link vóór de velden</a></p>
  <label for="email">E-mail</label> <input id="email" name="email" type="email" required>
  <label for="amount">Bedrag</label> <input id="amount" name="amount" inputmode="decimal" required
    {invalid}>{error}
  <label for="who">Wie</label>
  <select id="who" name="who"><option value="">Kies</option><option value="a">A</option></select>
  <fieldset><legend>Soort</legend>
    <input type="radio" name="kind" id="k1" value="one"><label for="k1">Een</label>
    <input type="radio" name="kind" id="k2" value="two"><label for="k2">Twee</label>
  </fieldset>
  <input type="checkbox" id="agree" name="agree" required><label for="agree">Akkoord</label>
  <label for="note">Opmerking</label> <textarea id="note" name="note"></textarea>
  <input type="hidden" name="csrf" value="token">
  <button>Versturen</button>
</form></main></body></html>"""


def test_the_form_helper_fills_sends_and_reads_errors_with_the_keyboard(page):
    """A stand-in form (served by the browser itself) with every kind of field the helper handles."""
    posted = []

    def answer(route):
        if route.request.method == "POST":
            posted.append(parse_qs(route.request.post_data))
            page_with_error = SELF_TEST_FORM.format(
                invalid='aria-invalid="true" aria-describedby="amount-error"',
                error='<p id="amount-error" class="error">Bedrag is te hoog.</p>',
            )
            route.fulfill(status=422, body=page_with_error, content_type="text/html")
        else:
            route.fulfill(body=SELF_TEST_FORM.format(invalid="", error=""), content_type="text/html")

    page.route("**/__form-self-test", answer)
    outcome = submit_by_keyboard(page, "/__form-self-test", 0)
    assert outcome.problems == []
    assert set(outcome.filled) == {"email", "amount", "who", "kind", "agree", "note"}
    assert posted == [
        {
            "email": ["test@example.org"],
            "amount": ["10.00"],
            "who": ["a"],
            "kind": ["one"],
            "agree": ["on"],
            "note": ["Test"],
            "csrf": ["token"],
        }
    ]
    assert outcome.status == 422 and outcome.errors == ["Bedrag is te hoog."]


def test_the_form_helper_reports_an_invalid_field_without_its_message(page):
    def answer(route):
        status = 422 if route.request.method == "POST" else 200
        invalid = 'aria-invalid="true"' if status == 422 else ""
        route.fulfill(status=status, body=SELF_TEST_FORM.format(invalid=invalid, error=""), content_type="text/html")

    page.route("**/__form-self-test", answer)
    outcome = submit_by_keyboard(page, "/__form-self-test", 0)
    assert outcome.problems == [
        "/__form-self-test form #1: 'amount' is marked invalid, but no message is tied to it with aria-describedby"
    ]
