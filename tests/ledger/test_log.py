"""The stored Merkle tree grows with every append, and the log serves roots, proofs and signed
checkpoints from it (`/checkpoint`, `/api/v1/checkpoints`, `/api/v1/proofs/…`)."""

from __future__ import annotations

import base64

import pytest

from funding import db
from funding.ledger import merkle
from funding.ledger.log import LogService, ProofUnavailable, load_signer
from funding.ledger.notes import Signer, open_checkpoint
from funding.ledger.service import LedgerService
from tests.factories import book_contribution, open_chart

SIZE = 13


@pytest.fixture
def signer() -> Signer:
    return Signer.generate("funding.test")


@pytest.fixture
async def entries(ledger: LedgerService) -> list[bytes]:
    """SIZE entries; their leaves."""
    await open_chart(ledger)
    return [merkle.leaf_hash((await book_contribution(ledger, 100 + n)).hash) for n in range(SIZE)]


async def test_the_stored_tree_is_the_rfc_tree_of_the_entries_at_every_size(entries, signer):
    log = LogService(signer)
    assert await log.size() == SIZE
    for size in range(SIZE + 1):
        assert await log.root(size) == merkle.root_of_leaves(entries[:size])


async def test_proofs_from_the_stored_tree_verify(entries, signer):
    log = LogService(signer)
    for size in (1, 5, 8, SIZE):
        root = merkle.root_of_leaves(entries[:size])
        for seq in range(1, size + 1):
            proof = await log.inclusion(seq, size)
            assert proof.root_hash == root and proof.leaf_hash == entries[seq - 1]
            merkle.verify_inclusion(seq - 1, size, entries[seq - 1], proof.hashes, root)
        for old in range(1, size + 1):
            consistency = await log.consistency(old, size)
            merkle.verify_consistency(old, size, merkle.root_of_leaves(entries[:old]), root, consistency.hashes)


async def test_proofs_beyond_the_log_are_refused(entries, signer):
    log = LogService(signer)
    for call in (log.inclusion(SIZE + 1, SIZE + 1), log.inclusion(3, 2), log.consistency(4, SIZE + 1)):
        with pytest.raises(ProofUnavailable):
            await call


async def test_a_checkpoint_is_issued_once_per_size_and_kept(entries, ledger, signer):
    log = LogService(signer)
    first = await log.issue()
    assert first is not None and first.tree_size == SIZE
    assert await log.issue() is None  # nothing new to sign
    checkpoint, _ = open_checkpoint(first.note, signer.verifier)
    assert (checkpoint.origin, checkpoint.size, checkpoint.root) == ("funding.test", SIZE, first.root_hash)
    await book_contribution(ledger, 5)
    second = await log.issue()
    assert second is not None and second.tree_size == SIZE + 1
    assert [c.tree_size for c in await log.checkpoints()] == [SIZE, SIZE + 1]
    assert (await log.latest()) == second


async def test_the_tree_and_checkpoints_are_append_only(entries, signer, backend):
    await LogService(signer).issue()
    engine = db.current_engine()
    for statement in (
        "UPDATE merkle_node SET hash = hash WHERE level = 0 AND position = 0",
        "DELETE FROM merkle_node WHERE level = 1",
        "UPDATE log_checkpoint SET note = 'x'",
        "DELETE FROM log_checkpoint",
    ):
        with pytest.raises(Exception, match="append-only"):
            await engine.run_ddl(statement)


async def test_the_checkpoint_and_proofs_over_http(entries, client, settings):
    from funding.dependencies import log_key

    assert (await client.get("/checkpoint")).status_code == 404
    signer = log_key(settings).signer()
    issued = await LogService(signer).issue()
    assert issued is not None
    response = await client.get("/checkpoint")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert response.text == issued.note
    listing = (await client.get("/api/v1/checkpoints")).json()
    assert listing["verifier_key"] == str(signer.verifier)
    assert [c["tree_size"] for c in listing["checkpoints"]] == [SIZE]

    proof = (await client.get(f"/api/v1/proofs/inclusion?seq=3&size={SIZE}")).json()
    root = base64.b64decode(proof["root_hash"])
    assert root == issued.root_hash and proof["leaf_index"] == 2
    merkle.verify_inclusion(
        2, SIZE, merkle.leaf_hash(proof["entry_hash"]), [base64.b64decode(h) for h in proof["hashes"]], root
    )
    await book_contribution(LedgerService(), 1)  # a proof without a size is against the latest checkpoint
    assert (await client.get("/api/v1/proofs/inclusion?seq=3")).json() == proof
    assert (await client.get(f"/api/v1/proofs/inclusion?seq={SIZE + 1}")).json()["tree_size"] == SIZE + 1
    consistency = (await client.get(f"/api/v1/proofs/consistency?from=5&to={SIZE}")).json()
    assert consistency["from"] == 5 and consistency["to"] == SIZE
    merkle.verify_consistency(
        5,
        SIZE,
        merkle.root_of_leaves(entries[:5]),
        root,
        [base64.b64decode(h) for h in consistency["hashes"]],
    )


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/proofs/inclusion?seq={SIZE + 1}&size={SIZE + 1}",
        "/api/v1/proofs/inclusion?seq=4&size=3",
        "/api/v1/proofs/inclusion?seq=0&size=3",
        f"/api/v1/proofs/inclusion?seq={SIZE + 1}",
        "/api/v1/proofs/consistency?from=5&to=4",
        f"/api/v1/proofs/consistency?from=1&to={SIZE + 1}",
        "/api/v1/proofs/consistency?from=0&to=1",
        "/api/v1/proofs/consistency?from=x&to=1",
        "/api/v1/checkpoints?limit=0",
    ],
)
async def test_impossible_proof_requests_are_a_4xx_with_json(entries, client, url):
    response = await client.get(url)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["detail"]


def test_a_demo_makes_its_key_once_and_keeps_it(tmp_path):
    path = tmp_path / "keys" / "log.key"
    made = load_signer("", str(path), "demo.example")
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_signer("", str(path), "demo.example") == made
    assert load_signer(str(path), "", "ignored") == made
    assert load_signer(str(made), "", "ignored") == made


async def test_the_verify_page_says_how_in_dutch_and_english_and_shows_the_key(client, settings, entries):
    from funding.dependencies import log_key

    key = str(log_key(settings).signer().verifier)
    dutch = await client.get("/verify")
    assert dutch.status_code == 200 and "Zo controleert u dit grootboek" in dutch.text and key in dutch.text
    english = await client.get("/verify?lang=en")
    assert "How to verify this ledger" in english.text and "--checkpoint checkpoint.txt" in english.text
    ledger_page = await client.get("/ledger")
    assert 'href="/api/v1/proofs/inclusion?seq=13"' in ledger_page.text
    assert (await client.get("/api/v1/proofs/inclusion?seq=13")).status_code == 200


@pytest.mark.parametrize(
    ("path", "parsed"),
    [("000", (0, None)), ("x001/x234/067", (1234067, None)), ("005.p/17", (5, 17)), ("x001/002.p/255", (1002, 255))],
)
def test_tile_paths_are_read_as_c2sp_spells_them(path, parsed):
    from funding.ledger.log import parse_tile_index

    assert parse_tile_index(path) == parsed


@pytest.mark.parametrize(
    "path", ["0", "0000", "x000/001", "001/002", "005.p/0", "005.p/256", "005.p/07", "abc", "x1/001"]
)
def test_other_spellings_of_a_tile_are_refused(path):
    from funding.ledger.log import parse_tile_index

    assert parse_tile_index(path) is None


async def test_a_mirror_of_the_tiles_rebuilds_the_signed_root_without_the_app(ledger, client, settings):
    """260 entries: full tile 0 and partial tile 1 (4 wide) at level 0, partial tile 0 (1 wide,
    the first 256 leaves' subtree) at level 1, and the entry bundles."""
    from funding.dependencies import log_key

    await open_chart(ledger)
    for n in range(260):
        await book_contribution(ledger, 1 + n)
    issued = await LogService(log_key(settings).signer()).issue()
    assert issued is not None and issued.tree_size == 260

    async def fetch(path: str) -> bytes:
        response = await client.get(path)
        assert response.status_code == 200, path
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        return response.content

    full, partial = await fetch("/tile/0/000"), await fetch("/tile/0/001.p/4")
    assert len(full) == 256 * 32 and len(partial) == 4 * 32
    leaves = [(full + partial)[i : i + 32] for i in range(0, 260 * 32, 32)]
    assert merkle.root_of_leaves(leaves) == issued.root_hash
    assert await fetch("/tile/1/000.p/1") == merkle.root_of_leaves(leaves[:256])
    bundle = await fetch("/tile/entries/000") + await fetch("/tile/entries/001.p/4")
    items = [bundle[i : i + 34] for i in range(0, len(bundle), 34)]
    assert all(item[:2] == b"\x00\x20" for item in items)
    assert [merkle.leaf_hash(item[2:]) for item in items] == leaves
    for missing in ("/tile/0/001", "/tile/0/001.p/5", "/tile/1/000", "/tile/entries/002", "/tile/0/x000/001"):
        assert (await client.get(missing)).status_code == 404, missing
