"""One stand-in for the folder, served on a loopback port, reset before each test; the real
`mollie` client pointed at it."""

from __future__ import annotations

import pytest
from mollie.api.client import Client

from funding.mollie_standin import MollieStandin

API_KEY = "test_standin"
TIMEOUT = (1, 1)
"""Connect and read seconds: small, so the `slow` fault outlasts them without slowing the tests."""


@pytest.fixture(scope="session")
def serving() -> MollieStandin:
    with MollieStandin(webhook_mode="queue", retry_delays=(1, 2, 4)) as standin:
        yield standin


@pytest.fixture
def standin(serving: MollieStandin) -> MollieStandin:
    serving.reset()
    return serving


@pytest.fixture
def mollie(standin: MollieStandin) -> Client:
    client = Client(timeout=TIMEOUT)
    client.set_api_key(API_KEY)
    client.set_api_endpoint(standin.url)
    return client


def payment_data(**overrides) -> dict:
    """What the app sends for a pledge's payment, give or take `overrides`."""
    return {
        "amount": {"currency": "EUR", "value": "25.00"},
        "description": "Pledge P-1042",
        "redirectUrl": "https://funding.example/pledges/P-1042/return",
        "webhookUrl": "https://funding.example/webhooks/mollie",
        "metadata": {"pledge_id": "P-1042", "attempt": 1},
        **overrides,
    }
