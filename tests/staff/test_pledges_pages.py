"""Pledges in the back office: staff read a pledge's whole story, and a treasurer changes,
invoices, reminds and cancels it, each in the audit trail; an auditor only reads."""

from __future__ import annotations

import email
import re
from email import policy
from pathlib import Path

from funding.accounts.service import AccountService
from funding.accounts.tables import Role
from funding.invoicing.tables import Invoice
from funding.money import Money
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import PledgeService
from funding.pledges.tables import PaymentPreference, PledgeStatus
from tests.pledges.conftest import cash, make_round
from tests.staff.conftest import log_in


async def test_a_treasurer_changes_invoices_reminds_and_cancels_and_an_auditor_only_reads(
    client, staff_users, ledger, year, clock, settings
):
    pledges = PledgeService(ledger, clock=clock)
    await make_round(pledges, year)
    organisation = await OrganisationService().add(
        kind=OrganisationKind.gemeente,
        name="Gemeente Utrecht",
        oin="00000001002220647000",
        address="Stadsplateau 1",
        postcode="3521 AZ",
        city="Utrecht",
    )
    pledge = await pledges.pledge("2026", cash(organisation, 1000, payment_preference=PaymentPreference.online))
    url = f"/staff/pledges/{pledge.id}"

    await log_in(client, Role.auditor)
    page = await client.get(url)
    assert page.status_code == 200 and "Gemeente Utrecht" in page.text and pledge.formatted_reference in page.text
    assert 'id="reminder"' not in page.text and "/cancel" not in page.text, "an auditor is offered no changes"
    assert (await client.get("/staff/pledges/?round=2026")).status_code == 200
    client.cookies.clear()

    await log_in(client, Role.treasurer)
    token = client.cookies["csrftoken"]
    bad = await client.post(f"{url}/amount", data={"_csrf_token": token, "amount": "veel"})
    assert bad.status_code == 400 and 'id="amount-error"' in bad.text
    changed = await client.post(f"{url}/amount", data={"_csrf_token": token, "amount": "1.250,00"})
    assert changed.status_code == 200, re.findall(r"field-error\">(.*?)</p>", changed.text, re.S)
    assert (await pledges.pledge_by_token(pledge.token)).amount == Money.euros(1250)
    assert (await client.post(f"{url}/invoice", data={"_csrf_token": token})).status_code == 200
    assert await Invoice.count() == 1
    assert (await client.post(f"{url}/reminder", data={"_csrf_token": token})).status_code == 200
    outbox = sorted(Path(settings.outbox_dir).glob("*.eml"))
    subjects = [email.message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in outbox]
    assert any(subject.startswith("Herinnering") for subject in subjects), subjects
    no_reason = await client.post(f"{url}/cancel", data={"_csrf_token": token, "reason": " "})
    assert no_reason.status_code == 400 and 'id="reason-error"' in no_reason.text
    done = await client.post(f"{url}/cancel", data={"_csrf_token": token, "reason": "Raadsbesluit ingetrokken"})
    assert done.status_code == 200
    cancelled = await pledges.pledge_by_token(pledge.token)
    assert cancelled.status is PledgeStatus.cancelled and cancelled.billed == Money.zero()
    assert await Invoice.count() == 2, "the invoice, and its credit note at the cancellation"
    actions = [e["action"] for e in reversed(await AccountService().events(actor="treasurer@example.nl"))]
    assert actions[-5:] == ["login", "pledge_changed", "invoice_issued", "reminder_sent", "pledge_cancelled"]
