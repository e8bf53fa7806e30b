"""Mollie's webhook. Its body is only a hint (classic webhooks are unsigned): the payment is
fetched from Mollie's API and booked from what the API says (`PaymentService.sync`).

Only a 200 tells Mollie the call arrived, so 200 means the work is done (or there is none: an
id that is not ours). When Mollie or the database cannot be reached the answer is 503, and
Mollie tries again later; it is never 200 with the work lost.
"""

from __future__ import annotations

import logging
from typing import Annotated

import msgspec
from litestar import Controller, Response, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body

from funding.payments.mollie import PAYMENT_ID, MollieUnavailable, UnexpectedPayment
from funding.payments.service import PaymentMismatch, PaymentService
from funding.web.errors import ErrorBody, error_responses

log = logging.getLogger(__name__)

MAX_BODY = 1024
"""Mollie posts `id=tr_…`: anything much longer is not Mollie."""


class MollieWebhook(msgspec.Struct, forbid_unknown_fields=True):
    """What Mollie posts: the id alone (anything else is not Mollie, and refused)."""

    id: Annotated[str, msgspec.Meta(max_length=64, description="The payment's id, tr_…")] = ""


class WebhookDone(msgspec.Struct):
    status_code: int
    detail: str


class WebhookController(Controller):
    path = "/webhooks"
    tags = ("webhooks",)

    @post(
        "/mollie",
        name="mollie_webhook",
        status_code=200,
        request_max_body_size=MAX_BODY,
        responses=error_responses(400, 413, 503),
        summary="Mollie's payment webhook",
    )
    async def mollie(
        self,
        payments: NamedDependency[PaymentService],
        data: Annotated[
            MollieWebhook,
            Body(media_type=RequestEncodingType.URL_ENCODED, schema_extra={"additionalProperties": False}),
        ],
    ) -> Response[WebhookDone | ErrorBody]:
        """Mollie says payment `id` changed: ask Mollie about it and book what changed."""
        if not data.id:
            return _answer(400, "The form field id is required.")
        if not PAYMENT_ID.fullmatch(data.id):
            return _answer(400, "The id is not a Mollie payment id (tr_…).")
        if not payments.mollie.configured:
            log.warning("webhook for %s while no MOLLIE_API_KEY is set: nothing to ask", data.id)
            return _answer(200, "Payments are not configured here.")
        try:
            await payments.sync(data.id)
        except MollieUnavailable as error:
            log.warning("webhook for %s: Mollie unavailable (%s); Mollie will call again", data.id, error)
            return _answer(503, "Mollie could not be reached; call again later.")
        except (PaymentMismatch, UnexpectedPayment) as error:
            # Logged loudly; asking Mollie again would not change the answer.
            log.error("webhook for %s: not booked: %s", data.id, error)
        except Exception:
            log.exception("webhook for %s failed; Mollie will call again", data.id)
            return _answer(503, "The payment could not be processed now; call again later.")
        return _answer(200, "ok")


def _answer(status: int, detail: str) -> Response:
    headers = {"retry-after": "60"} if status == 503 else {}
    return Response({"status_code": status, "detail": detail}, status_code=status, headers=headers)
