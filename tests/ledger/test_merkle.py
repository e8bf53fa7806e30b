"""The Merkle tree against RFC 6962's known answers, and its proofs as properties.

The known answers are transparency-dev/merkle's (testonly/constants.go and reference_test.go:
the leaf inputs, every complete subtree's hash, the roots of sizes 0–8, and inclusion and
consistency proofs), which certificate-transparency-go uses too. Their leaves are hashes of
arbitrary bytes; the journal's leaves hash an entry's 32-byte hash the same way.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from funding.ledger import merkle

LEAF_INPUTS = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
LEAVES = [hashlib.sha256(b"\x00" + bytes.fromhex(data)).digest() for data in LEAF_INPUTS]
NODES = {
    0: [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    1: [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    2: [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    3: ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
}
ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
INCLUSION = [
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]


def stored(leaves: list[bytes]) -> dict[merkle.Node, bytes]:
    """The complete subtrees an append-by-append build stores, as `grow_tree` stores them."""
    nodes: dict[merkle.Node, bytes] = {}
    for index, leaf in enumerate(leaves):
        nodes.update(merkle.new_nodes(index, leaf, nodes))
    return nodes


def test_the_journal_leaf_hashes_an_entry_hash_as_rfc_6962_does():
    entry_hash = "ab" * 32
    assert merkle.leaf_hash(entry_hash) == hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()


def test_every_stored_node_is_the_known_complete_subtree():
    nodes = stored(LEAVES)
    assert {node: digest.hex() for node, digest in nodes.items()} == {
        (level, index): digest for level, hashes in NODES.items() for index, digest in enumerate(hashes)
    }


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_size_are_the_known_ones(size):
    assert merkle.root_of_leaves(LEAVES[:size]).hex() == ROOTS[size]
    assert merkle.root_hash(size, stored(LEAVES[:size])).hex() == ROOTS[size]
    compact = merkle.CompactRange()
    compact.extend(LEAVES[:size])
    assert compact.root().hex() == ROOTS[size]


def test_the_empty_tree_is_the_hash_of_nothing():
    assert merkle.EMPTY_ROOT.hex() == ROOTS[0] == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_are_the_known_ones_and_verify(index, size, proof):
    nodes = stored(LEAVES)
    assert [h.hex() for h in merkle.inclusion_proof(index, size, nodes)] == proof
    merkle.verify_inclusion(index, size, LEAVES[index], [bytes.fromhex(h) for h in proof], bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_are_the_known_ones_and_verify(old, new, proof):
    nodes = stored(LEAVES)
    assert [h.hex() for h in merkle.consistency_proof(old, new, nodes)] == proof
    merkle.verify_consistency(
        old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), [bytes.fromhex(h) for h in proof]
    )


def test_impossible_proofs_are_refused():
    nodes = stored(LEAVES)
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(8, 8, nodes)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(5, 4, nodes)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(0, 4, nodes)


def test_an_append_reads_and_writes_only_the_right_edge():
    assert merkle.siblings_for_append(0) == []
    assert merkle.siblings_for_append(6) == []
    assert merkle.siblings_for_append(7) == [(0, 6), (1, 2), (2, 0)]
    assert len(merkle.completed_by(2**20 - 1)) == 21
    assert all(len(merkle.root_nodes(n)) == bin(n).count("1") for n in range(1, 300))


def _leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


TREES = st.integers(min_value=1, max_value=300).flatmap(
    lambda size: st.tuples(st.just(size), st.integers(min_value=0, max_value=size - 1))
)


@given(TREES)
def test_every_inclusion_proof_verifies_and_any_change_fails(tree):
    size, index = tree
    leaves = _leaves(size)
    nodes = stored(leaves)
    root = merkle.root_of_leaves(leaves)
    assert merkle.root_hash(size, nodes) == root
    proof = merkle.inclusion_proof(index, size, nodes)
    merkle.verify_inclusion(index, size, leaves[index], proof, root)
    flip = bytes([root[0] ^ 1]) + root[1:]
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, leaves[index], proof, flip)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(b"\x01" * 32), proof, root)
    for i in range(len(proof)):
        altered = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], altered, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, leaves[index], [*proof, root], root)
    if proof:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(index, size, leaves[index], proof[:-1], root)
    if size > 1:  # the same proof for another index
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion((index + 1) % size, size, leaves[index], proof, root)


SIZE_PAIRS = st.integers(min_value=1, max_value=300).flatmap(
    lambda new: st.tuples(st.integers(min_value=1, max_value=new), st.just(new))
)


@given(SIZE_PAIRS)
def test_every_consistency_proof_verifies_and_any_change_fails(sizes):
    old, new = sizes
    leaves = _leaves(new)
    nodes = stored(leaves)
    old_root, new_root = merkle.root_of_leaves(leaves[:old]), merkle.root_of_leaves(leaves)
    proof = merkle.consistency_proof(old, new, nodes)
    merkle.verify_consistency(old, new, old_root, new_root, proof)
    for bad_old, bad_new in [(old_root[::-1], new_root), (old_root, new_root[::-1])]:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, bad_old, bad_new, proof)
    for i in range(len(proof)):
        altered = [*proof[:i], bytes([proof[i][0] ^ 1]) + proof[i][1:], *proof[i + 1 :]]
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, old_root, new_root, altered)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    if old != new:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(old, new, old_root, new_root, proof[:-1])
        # a rewritten leaf before `old`: the new tree is no extension of the old one
        rewritten = list(leaves)
        rewritten[old - 1] = merkle.leaf_hash(b"\x02" * 32)
        other = stored(rewritten)
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(
                old, new, old_root, merkle.root_hash(new, other), merkle.consistency_proof(old, new, other)
            )
