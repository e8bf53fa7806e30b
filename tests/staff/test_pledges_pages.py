"""Pledges in the back office: staff read a pledge's whole story, and a treasurer changes,
invoices, reminds and cancels it, each in the audit trail; an auditor only reads."""

from __future__ import annotations

import email
import re
from datetime import date, timedelta
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
    stored = await Invoice.select(Invoice.number, Invoice.pdf).first()
    pdf = await client.get(f"{url}/invoices/{stored['number']}.pdf")
    assert pdf.status_code == 200 and pdf.content == bytes(stored["pdf"]), "staff download the stored file"
    assert (await client.get(f"/staff/pledges/{pledge.id + 1}/invoices/{stored['number']}.pdf")).status_code == 404
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


async def test_a_treasurer_records_a_decided_pledge_and_bad_input_is_shown_at_its_field(
    client, staff_users, ledger, year, clock
):
    pledges = PledgeService(ledger, clock=clock)
    today = date.today()
    await make_round(pledges, year, opens_on=today - timedelta(days=5), closes_on=today + timedelta(days=5))
    await OrganisationService().add(
        kind=OrganisationKind.provincie,
        name="Provincie Utrecht",
        oin="00000001002220647000",
        billing_email="f@pu.example",
    )
    await log_in(client, Role.treasurer)
    form = await client.get("/staff/pledges/new")
    assert form.status_code == 200 and 'name="decision_date"' in form.text
    fields = {"_csrf_token": client.cookies["csrftoken"], "round": "2026", "amount": "25.000,00"}
    bad = await client.post(
        "/staff/pledges/new", data={**fields, "organisation": "GM9999", "decision_date": "14-11-2026"}
    )
    assert bad.status_code == 400
    for field in ("organisation", "decision_date", "decision_reference"):
        assert f'id="{field}-error"' in bad.text, field
    assert 'value="GM9999"' in bad.text, "what was typed stays"
    made = await client.post(
        "/staff/pledges/new",
        data={
            **fields,
            "organisation": "00000001002220647000",
            "decision_date": "2026-11-14",
            "decision_reference": "Statenbesluit 2026-31",
        },
        follow_redirects=False,
    )
    assert made.status_code == 303, re.findall(r"field-error\">(.*?)</p>", made.text, re.S)
    (pledge,) = await pledges.pledges((await pledges.round("2026")).id)
    assert (pledge.organisation_name, pledge.amount, pledge.decision_reference) == (
        "Provincie Utrecht",
        Money.euros(25_000),
        "Statenbesluit 2026-31",
    )
    assert made.headers["location"] == f"/staff/pledges/{pledge.id}?done=recorded"
    assert (await AccountService().events(action="pledge_recorded"))[0]["actor"] == "treasurer@example.nl"
