"""`funding rounds close` and `funding pledges record`, run as staff run them."""

from __future__ import annotations

import email
import os
import subprocess
import sys
from datetime import date, timedelta

from funding.money import Money
from funding.pledges.service import PledgeService
from funding.pledges.tables import PledgeSource, PledgeStatus, RoundModel, RoundStatus
from funding.settings import ROOT
from tests.pledges.conftest import cash, make_round

TODAY = date.today()


def run(database: str, outbox, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database, "FUNDING_OUTBOX": str(outbox)}
    env.pop("SMTP_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "funding", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )


async def test_a_decision_is_recorded_as_a_due_pledge_with_its_reference_and_mail(
    database, ledger, year, orgs, tmp_path
):
    service = PledgeService(ledger)
    await make_round(service, year, opens_on=TODAY - timedelta(days=5), closes_on=TODAY + timedelta(days=5))
    args = ["pledges", "record", "--organisation", "gm0363", "--round", "2026", "--amount", "25.000,50"]
    args += ["--decision-ref", "raadsbesluit 2026-14", "--decision-date", "2026-11-01"]
    args += ["--contact-email", "financien@amsterdam.example"]
    result = run(database, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert "Gemeente Amsterdam, EUR 25000.50, due" in result.stdout
    (pledge,) = await service.pledges((await service.round("2026")).id)
    assert (pledge.source, pledge.status, pledge.amount) == (
        PledgeSource.staff,
        PledgeStatus.due,
        Money.euros("25000.50"),
    )
    assert (pledge.decision_reference, pledge.decision_date) == ("raadsbesluit 2026-14", date(2026, 11, 1))
    assert pledge.booked_seq is not None and f"/pledges/{pledge.token}" in result.stdout
    (mail,) = tmp_path.glob("*.eml")
    assert email.message_from_bytes(mail.read_bytes())["To"] == "financien@amsterdam.example"

    again = run(database, tmp_path, *args)
    assert again.returncode == 1 and "al een toezegging" in again.stderr
    assert len(await service.pledges((await service.round("2026")).id)) == 1


async def test_bad_input_is_refused_with_the_option_it_is_about(database, ledger, year, orgs, tmp_path):
    service = PledgeService(ledger)
    await make_round(service, year, opens_on=TODAY - timedelta(days=5), closes_on=TODAY + timedelta(days=5))
    base = ["pledges", "record", "--round", "2026", "--decision-ref", "r", "--decision-date", "2026-11-01"]
    amount = run(database, tmp_path, *base, "--organisation", "GM0363", "--amount", "veel")
    assert amount.returncode == 2 and "--amount" in amount.stderr
    unknown = run(database, tmp_path, *base, "--organisation", "GM9999", "--amount", "10")
    assert unknown.returncode == 1 and "GM9999" in unknown.stderr
    no_mail = run(database, tmp_path, *base, "--organisation", "GM0344", "--amount", "10")
    assert no_mail.returncode == 1 and "--contact-email" in no_mail.stderr
    anonymous = run(
        database,
        tmp_path,
        *base,
        "--organisation",
        "GM0363",
        "--amount",
        "10",
        "--anonymous",
        "--contact-email",
        "a@b.nl",
    )
    assert anonymous.returncode == 1 and "--anonymous" in anonymous.stderr and "altijd" in anonymous.stderr
    assert await service.pledges((await service.round("2026")).id) == []


async def test_rounds_past_their_close_date_are_decided_once(database, ledger, year, orgs, clock, tmp_path):
    service = PledgeService(ledger, clock=clock)
    clock.set(TODAY - timedelta(days=3))
    await make_round(
        service,
        year,
        model=RoundModel.all_or_nothing,
        target=1_000,
        opens_on=TODAY - timedelta(days=10),
        closes_on=TODAY - timedelta(days=1),
    )
    await make_round(service, year, "later", opens_on=TODAY - timedelta(days=10), closes_on=TODAY + timedelta(days=10))
    pledge = await service.pledge("2026", cash(orgs["amsterdam"], 1000))
    first = run(database, tmp_path, "rounds", "close")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["2026: succeeded"]
    assert (await service.pledge_by_token(pledge.token)).status is PledgeStatus.due
    again = run(database, tmp_path, "rounds", "close")
    assert again.stdout.strip() == "no open round is past its close date"
    named = run(database, tmp_path, "rounds", "close", "later", "--reason", "board decision")
    assert named.stdout.strip() == "later: closed"
    assert (await service.round("later")).status is RoundStatus.closed
    missing = run(database, tmp_path, "rounds", "close", "no-such-round")
    assert missing.returncode == 1 and "no-such-round" in missing.stderr
