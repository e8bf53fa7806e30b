"""The Mollie stand-in's checkout page, as a tester uses it in the demo: no axe violations, and
an outcome chosen and confirmed with the keyboard alone (no JavaScript of its own)."""

from __future__ import annotations

import pytest
from mollie.api.client import Client

from funding.mollie_standin import MollieStandin
from tests.browser import axe

pytestmark = pytest.mark.browser


@pytest.fixture
def standin():
    with MollieStandin(webhook_mode="queue") as running:
        yield running


def test_the_checkout_page_passes_axe_and_works_by_keyboard(open_context, standin):
    client = Client()
    client.set_api_key("test_standin")
    client.set_api_endpoint(standin.url)
    payment = client.payments.create(
        {
            "amount": {"currency": "EUR", "value": "25.00"},
            "description": "Pledge P-1042",
            "redirectUrl": f"{standin.url}/_standin/settings",
        }
    )
    page = open_context(standin.url).new_page()
    page.goto(payment.checkout_url)

    found = axe.violations(page)
    assert not found, "\n".join(line for violation in found for line in axe.describe(violation))

    page.keyboard.press("Tab")  # the chosen radio button of the group: paid
    page.keyboard.press("ArrowDown")  # failed
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.type") == "submit"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.url == f"{standin.url}/_standin/settings"
    assert standin.payment(payment.id)["status"] == "failed"
