"""Invoices on the pledger's page: asked for, listed, viewed as HTML, and downloaded as stored."""

from __future__ import annotations

import hashlib
from html import escape

import pytest

from funding.i18n import gettext, use_locale
from funding.invoicing.tables import Invoice
from funding.organisations.service import OrganisationService
from funding.organisations.tables import OrganisationKind
from funding.pledges.service import PledgeService
from funding.pledges.tables import PaymentPreference
from tests.pledges.conftest import cash, make_round

ADDRESS = {"address": "Markt 1", "postcode": "1234 AB", "city": "Elders"}


@pytest.fixture
async def pledge(ledger, year, clock, every_issued_document_validates):
    pledges = PledgeService(ledger, clock=clock)
    await make_round(pledges, year)
    organisation = await OrganisationService().add(
        kind=OrganisationKind.waterschap,
        name='Waterschap <Aa> & "Maas"',
        oin="00000001821002193000",
        address="Pettelaarpark 70",
        postcode="5216 PP",
        city="'s-Hertogenbosch",
    )
    return await pledges.pledge("2026", cash(organisation, 750, payment_preference=PaymentPreference.online))


def dutch(message: str) -> str:
    with use_locale("nl"):
        return gettext(message)


async def ask(client, pledge, **extra):
    page = await client.get(f"/pledges/{pledge.token}")
    assert page.status_code == 200
    return await client.post(
        f"/pledges/{pledge.token}/invoice",
        data={"_csrf_token": client.cookies["csrftoken"], **extra},
        follow_redirects=False,
    )


async def test_a_pledger_asks_for_an_invoice_and_downloads_the_stored_files(client, pledge, peppol):
    page = await client.get(f"/pledges/{pledge.token}")
    assert 'id="invoice"' in page.text, "a due cash pledge without an invoice offers one"
    answer = await ask(client, pledge)
    assert answer.status_code == 303 and answer.headers["location"] == f"/pledges/{pledge.token}?done=invoiced"
    page = await client.get(answer.headers["location"])
    assert "2026-0001" in page.text and 'id="invoice"' not in page.text
    assert f"/pledges/{pledge.token}/invoices/2026-0001.pdf" in page.text

    stored = await Invoice.select(Invoice.pdf, Invoice.xml, Invoice.pdf_sha256).first()
    first = await client.get(f"/pledges/{pledge.token}/invoices/2026-0001.pdf")
    again = await client.get(f"/pledges/{pledge.token}/invoices/2026-0001.pdf")
    assert first.status_code == 200 and first.headers["content-type"] == "application/pdf"
    assert first.content == again.content == bytes(stored["pdf"])
    assert first.headers["etag"] == f'"{hashlib.sha256(first.content).hexdigest()}"' == f'"{stored["pdf_sha256"]}"'
    assert "noindex" in first.headers["x-robots-tag"] and "private" in first.headers["cache-control"]
    xml = await client.get(f"/pledges/{pledge.token}/invoices/2026-0001.xml")
    assert xml.status_code == 200 and xml.content == bytes(stored["xml"])
    assert 'filename="factuur-2026-0001.xml"' in xml.headers["content-disposition"]
    peppol.assert_valid(xml.content, "the downloaded e-invoice")

    view = await client.get(f"/pledges/{pledge.token}/invoices/2026-0001")
    assert view.status_code == 200 and "2026-0001" in view.text and stored["pdf_sha256"] in view.text
    assert "<Aa>" not in view.text, "names are escaped"


async def test_asking_twice_or_for_another_pledges_invoice_is_refused(client, pledge, ledger, clock):
    assert (await ask(client, pledge)).status_code == 303
    other = await OrganisationService().add(
        kind=OrganisationKind.gemeente, name="Gemeente Elders", oin="00000001000000000001", **ADDRESS
    )
    pledges = PledgeService(ledger, clock=clock)
    theirs = await pledges.pledge("2026", cash(other, 100, payment_preference=PaymentPreference.online))
    assert (await ask(client, theirs)).status_code == 303
    for path in ("/invoices/2026-0002", "/invoices/2026-0002.pdf", "/invoices/2026-0002.xml"):
        assert (await client.get(f"/pledges/{pledge.token}{path}")).status_code == 404, "theirs, not this pledge's"
        assert (await client.get(f"/pledges/{theirs.token}{path}")).status_code == 200
    second = await ask(client, pledge)
    assert second.status_code == 400
    assert escape(dutch("This pledge has been invoiced already.")) in second.text
    assert await Invoice.count() == 2
    for path in (
        f"/pledges/{pledge.token}/invoices/2026-0003",
        f"/pledges/{pledge.token}/invoices/2026-0003.pdf",
        "/pledges/" + "x" * 43 + "/invoices/2026-0001.pdf",
    ):
        assert (await client.get(path)).status_code == 404, path
    assert (await client.get(f"/pledges/{pledge.token}/invoices/2026-0001.exe")).status_code == 400
