"""A local stand-in for Mollie's v2 API, for tests and `funding serve --demo` (no internet needed).

The real `mollie` client talks to it over a loopback socket::

    with MollieStandin(webhook_mode="queue") as standin:
        client = Client()
        client.set_api_key("test_standin")
        client.set_api_endpoint(standin.url)

It keeps payments, refunds and chargebacks in memory, shows Mollie's test-mode checkout page,
calls webhooks (or queues them for the test to deliver), injects faults, and is driven from
Python (`MollieStandin`) or over HTTP (`/_standin/…`). What it does and why: MOLLIE.md §d.
"""

from funding.mollie_standin.model import PaymentStatus, RefundStatus, StandinError
from funding.mollie_standin.standin import FaultKind, MollieStandin
from funding.mollie_standin.webhooks import Delivery, WebhookAttempt, WebhookMode

__all__ = [
    "Delivery",
    "FaultKind",
    "MollieStandin",
    "PaymentStatus",
    "RefundStatus",
    "StandinError",
    "WebhookAttempt",
    "WebhookMode",
]
