"""The pledger's mail, through a real SMTP server (aiosmtpd, started here) and the outbox."""

from __future__ import annotations

import email
from datetime import date
from email.policy import default as default_policy

from funding.mail import Mailer
from funding.money import Money
from funding.pledges.notices import PledgeNotices
from funding.pledges.service import PledgeService
from funding.pledges.tables import PaymentPreference, RoundModel
from funding.settings import Settings
from tests.mail.test_mailer import smtp_server  # noqa: F401  (the fixture)
from tests.pledges.conftest import cash, make_round

BASE = "https://bijdragen.example"


def service(ledger, clock, **mail_settings) -> PledgeService:
    notices = PledgeNotices(
        Mailer(Settings(**mail_settings)),
        base_url=BASE,
        bank_name="Stichting Kennisnetwerk",
        bank_iban="NL91ABNA0417164300",
    )
    return PledgeService(ledger, notices=notices, clock=clock)


async def test_the_confirmation_reaches_an_smtp_server_in_the_pledgers_language(
    ledger,
    year,
    orgs,
    clock,
    smtp_server,  # noqa: F811
):
    controller, recorder = smtp_server
    pledges = service(ledger, clock, smtp_url=f"smtp://127.0.0.1:{controller.port}")
    await make_round(pledges, year)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], "1000.00", contact_email="zoe@amsterdam.example"))
    message = recorder.received()
    assert message["To"] == "zoe@amsterdam.example"
    assert message["Subject"] == "Uw toezegging aan Bijdragen 2026"
    body = message.get_content()
    assert "Beste Els de Vries," in body and "€\xa01.000,00" in body
    assert f"{BASE}/pledges/{pledge.token}" in body
    assert pledge.formatted_reference in body and "NL91ABNA0417164300" in body


async def test_release_mail_in_english_lands_in_the_outbox(ledger, year, orgs, clock, tmp_path):
    pledges = service(ledger, clock, outbox_dir=str(tmp_path))
    await make_round(pledges, year, model=RoundModel.all_or_nothing, target=100_000)
    await pledges.pledge("2026", cash(orgs["utrecht"], 2500, locale="en", contact_email="finance@utrecht.example"))
    clock.set(date(2026, 7, 1))
    await pledges.close_due_rounds()
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=default_policy) for path in sorted(tmp_path.glob("*.eml"))
    ]
    assert [m["Subject"] for m in messages] == [
        "Your pledge to Contributions 2026",
        "Contributions 2026 did not meet its target",
    ]
    released = messages[1].get_content()
    assert "€100,000.00" in released and "you owe nothing" in released and "Gemeente Utrecht" in released
    assert all(m["To"] == "finance@utrecht.example" for m in messages)


async def test_a_pledger_who_prefers_to_pay_online_is_told_how_when_mollie_is_on(ledger, year, orgs, clock, tmp_path):
    notices = PledgeNotices(
        Mailer(Settings(outbox_dir=str(tmp_path))), base_url=BASE, bank_name="S", bank_iban="NL91", online=True
    )
    pledges = PledgeService(ledger, notices=notices, clock=clock)
    await make_round(pledges, year)
    await pledges.pledge("2026", cash(orgs["utrecht"], 500, locale="en", payment_preference=PaymentPreference.online))
    await pledges.pledge("2026", cash(orgs["amsterdam"], 500, locale="en"))
    online, invoice = (
        email.message_from_bytes(path.read_bytes(), policy=default_policy).get_content()
        for path in sorted(tmp_path.glob("*.eml"))
    )
    assert "Pay €500.00 online on your pledge's page" in online and "NL91" in online
    assert "online" not in invoice and "Please transfer €500.00 to NL91" in invoice


async def test_a_mail_server_that_is_down_never_undoes_the_pledge(ledger, year, orgs, clock, caplog):
    pledges = service(ledger, clock, smtp_url="smtp://127.0.0.1:9")  # nothing listens on the discard port
    await make_round(pledges, year)
    pledge = await pledges.pledge("2026", cash(orgs["amsterdam"], 1000))
    assert (await pledges.pledge_by_token(pledge.token)).amount == Money.euros(1000)
    assert "could not be sent" in caplog.text
