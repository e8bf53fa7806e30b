"""A witness cosigns only growth: it refuses a log that went back or was rewritten, reports a
split view loudly, and the site publishes the cosignatures of witnesses it knows."""

from __future__ import annotations

import dataclasses

import pytest
from litestar.testing import TestClient

from funding.app import create_app
from funding.dependencies import log_key
from funding.ledger.log import LogService
from funding.ledger.notes import Signer, cosigner_verifier, open_checkpoint, parse_note
from funding.witness import SplitView, WitnessRefused, WitnessState, witness
from tests.factories import book_contribution, open_chart
from tests.ledger.test_verify_log import _rewrite_history


@pytest.fixture
def witness_key() -> Signer:
    return Signer.generate("witness.test")


@pytest.fixture
async def site(ledger, settings, witness_key):
    """Five entries and their checkpoint, on an app that knows `witness_key`."""
    await open_chart(ledger)
    for euros in range(1, 6):
        await book_contribution(ledger, euros)
    known = dataclasses.replace(settings, witnesses=(str(cosigner_verifier(witness_key)),))
    await LogService(log_key(known).signer()).issue()
    with TestClient(app=create_app(known), base_url="http://testserver.local") as client:
        yield client, log_key(known).signer()


async def test_a_witness_cosigns_growth_and_the_site_publishes_it(site, ledger, witness_key, tmp_path):
    client, signer = site
    state = WitnessState(tmp_path / "state")
    first = witness("http://testserver.local", signer.verifier, witness_key, state, client)
    assert first.accepted and first.previous is None and first.checkpoint.size == 5
    for euros in range(6, 9):
        await book_contribution(ledger, euros)
    await LogService(signer).issue()
    second = witness("http://testserver.local", signer.verifier, witness_key, state, client)
    assert second.accepted and second.previous is not None and second.previous.size == 5
    published = client.get("/checkpoint").text
    checkpoint, note = open_checkpoint(published, signer.verifier)
    assert checkpoint.size == 8 and cosigner_verifier(witness_key).timestamp(note) > 0
    assert len(parse_note(published).signatures) == 2


async def test_a_site_refuses_cosignatures_of_strangers_and_of_checkpoints_it_never_issued(site, tmp_path):
    client, signer = site
    stranger = Signer.generate("stranger.test")
    done = witness("http://testserver.local", signer.verifier, stranger, WitnessState(tmp_path / "s"), client)
    assert not done.accepted
    forged = client.post("/api/v1/cosignatures", content=b"junk")
    assert forged.status_code == 400 and forged.json()["detail"]


async def test_a_witness_refuses_a_rewritten_log_and_reports_a_split_view(site, ledger, witness_key, backend, tmp_path):
    client, signer = site
    state = WitnessState(tmp_path / "state")
    witness("http://testserver.local", signer.verifier, witness_key, state, client)  # saw 5 entries
    await _rewrite_history(ledger, backend, seq=2)  # drops the checkpoints issued, too
    log = LogService(signer)
    await log.issue()  # a checkpoint of 5 entries again, with another root
    with pytest.raises(SplitView, match="SPLIT VIEW"):
        witness("http://testserver.local", signer.verifier, witness_key, state, client)
    await book_contribution(ledger, 6)
    await log.issue()
    with pytest.raises(WitnessRefused, match="history was rewritten"):
        witness("http://testserver.local", signer.verifier, witness_key, state, client)
    assert state.last(signer.name, signer.verifier).size == 5  # it never moved on
