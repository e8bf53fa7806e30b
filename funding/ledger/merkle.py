"""The journal's Merkle tree (RFC 6962 / RFC 9162 §2.1): pure functions, no I/O.

The leaf of entry `seq` is `SHA-256(0x00 ‖ bytes.fromhex(entry.hash))` at index `seq - 1`; a node
is `SHA-256(0x01 ‖ left ‖ right)`; the tree of the first n leaves is RFC 9162's MTH(D[0:n]):
split at the largest power of two below n, left subtree complete, right subtree the rest.

Every range this recursion meets is made of *complete subtrees* `(level, index)`: the 2**level
leaves from `index * 2**level` on. The database stores each one's hash once it is complete (at
most log2 n new ones per append, see `completed_by`), so a root or a proof needs only O(log n)
stored nodes, fetched in one query: a function here first says which nodes it needs
(`*_nodes`), then computes from them (`Nodes`, a mapping from `(level, index)` to hash bytes).

`CompactRange` keeps only the right edge of a tree (one hash per bit of n): verifying a chain of
any length computes its root in O(log n) memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence

Node = tuple[int, int]
"""(level, index): the complete subtree over leaves index·2^level … (index+1)·2^level − 1."""
Nodes = Mapping[Node, bytes]

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH of no leaves: the hash of the empty string."""


class ProofError(ValueError):
    """A proof asked for sizes or indexes that do not exist, or one that does not verify."""


def leaf_hash(entry_hash: str | bytes) -> bytes:
    """The leaf of a journal entry from its hash (64 hex digits, or its 32 bytes)."""
    data = bytes.fromhex(entry_hash) if isinstance(entry_hash, str) else entry_hash
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root_of_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[0:n]) from the leaf hashes, by RFC 9162's recursion (the reference, for tests)."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root_of_leaves(leaves[:k]), root_of_leaves(leaves[k:]))


# -- which complete subtrees a range is made of -------------------------------------------------
def range_nodes(start: int, end: int) -> list[Node]:
    """The complete subtrees, left to right, that MTH(D[start:end]) is built from, for a range
    the RFC's recursion meets (start a multiple of the largest power of two ≤ end − start)."""
    nodes: list[Node] = []
    while start < end:
        size = end - start
        level = size.bit_length() - 1  # the largest complete subtree that fits …
        while start % (1 << level):  # … and starts at `start`
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def range_hash(start: int, end: int, nodes: Nodes) -> bytes:
    """MTH(D[start:end]) from stored complete subtrees: right-to-left fold of `range_nodes`."""
    if start >= end:
        return EMPTY_ROOT
    parts = [nodes[node] for node in range_nodes(start, end)]
    result = parts[-1]
    for part in reversed(parts[:-1]):
        result = node_hash(part, result)
    return result


def root_nodes(size: int) -> list[Node]:
    return range_nodes(0, size)


def root_hash(size: int, nodes: Nodes) -> bytes:
    """The root of the tree of the first `size` leaves."""
    return range_hash(0, size, nodes)


def completed_by(index: int) -> list[Node]:
    """The complete subtrees that appending leaf `index` completes: the leaf itself, then one
    per trailing 1-bit of `index` (their parents up the right edge)."""
    nodes = [(0, index)]
    level = 0
    while (index >> level) & 1:
        level += 1
        nodes.append((level, index >> level))
    return nodes


def siblings_for_append(index: int) -> list[Node]:
    """The stored nodes `new_nodes` needs to complete the subtrees leaf `index` completes."""
    return [(level, (index >> level) - 1) for level in range(len(completed_by(index)) - 1)]


def new_nodes(index: int, leaf: bytes, nodes: Nodes) -> list[tuple[Node, bytes]]:
    """The complete subtrees (and their hashes) that appending `leaf` at `index` adds."""
    made = [((0, index), leaf)]
    current = leaf
    for level, sibling in siblings_for_append(index):
        current = node_hash(nodes[(level, sibling)], current)
        made.append(((level + 1, (index >> (level + 1))), current))
    return made


# -- inclusion proofs (RFC 9162 §2.1.3) ---------------------------------------------------------
def _inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PATH(index, D[0:size]), leaf side first."""
    ranges: list[tuple[int, int]] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def _check_inclusion_args(index: int, size: int) -> None:
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of size {size}")


def inclusion_nodes(index: int, size: int) -> list[Node]:
    _check_inclusion_args(index, size)
    return [node for start, end in _inclusion_ranges(index, size) for node in range_nodes(start, end)]


def inclusion_proof(index: int, size: int, nodes: Nodes) -> list[bytes]:
    """The audit path of leaf `index` in the tree of size `size`."""
    _check_inclusion_args(index, size)
    return [range_hash(start, end, nodes) for start, end in _inclusion_ranges(index, size)]


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root that `proof` leads to from `leaf`."""
    _check_inclusion_args(index, size)
    fn, sn = index, size - 1
    result = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            result = node_hash(p, result)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return result


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes) -> None:
    """Raise ProofError unless `proof` shows `leaf` at `index` in the tree whose root is `root`."""
    if root_from_inclusion_proof(index, size, leaf, proof) != root:
        raise ProofError(f"the inclusion proof of leaf {index} does not lead to the root of size {size}")


# -- consistency proofs (RFC 9162 §2.1.4) -------------------------------------------------------
def _consistency_ranges(old: int, new: int) -> list[tuple[int, int]]:
    """The ranges whose hashes make PROOF(old, D[0:new]), in the RFC's order."""
    ranges: list[tuple[int, int]] = []

    def subproof(m: int, start: int, end: int, complete: bool) -> None:
        n = end - start
        if m == n:
            if not complete:
                ranges.append((start, end))
            return
        k = _split(n)
        if m <= k:
            subproof(m, start, start + k, complete)
            ranges.append((start + k, end))
        else:
            subproof(m - k, start + k, end, False)
            ranges.append((start, start + k))

    subproof(old, 0, new, True)
    return ranges


def _check_consistency_args(old: int, new: int) -> None:
    if not 0 < old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new} (need 0 < from ≤ to)")


def consistency_nodes(old: int, new: int) -> list[Node]:
    _check_consistency_args(old, new)
    return [node for start, end in _consistency_ranges(old, new) for node in range_nodes(start, end)]


def consistency_proof(old: int, new: int, nodes: Nodes) -> list[bytes]:
    """The proof that the tree of size `old` is a prefix of the tree of size `new`."""
    _check_consistency_args(old, new)
    return [range_hash(start, end, nodes) for start, end in _consistency_ranges(old, new)]


def verify_consistency(old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """RFC 9162 §2.1.4.2: raise ProofError unless `proof` shows the tree of size `old` with root
    `old_root` to be a prefix of the tree of size `new` with root `new_root`."""
    _check_consistency_args(old, new)
    if old == new:
        if proof:
            raise ProofError("a consistency proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError(f"two different roots for the same size {old}")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # a power of two: the old root is the proof's first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError(f"the consistency proof does not lead to the old root of size {old}")
    if sr != new_root:
        raise ProofError(f"the consistency proof does not lead to the new root of size {new}")


# -- the right edge, for streaming ---------------------------------------------------------------
class CompactRange:
    """The right edge of a growing tree: one hash per 1-bit of its size (largest first), enough
    to append the next leaf and to compute the root, in O(log n) memory."""

    __slots__ = ("edge", "size")

    def __init__(self) -> None:
        self.size = 0
        self.edge: list[bytes] = []

    def append(self, leaf: bytes) -> None:
        current, index = leaf, self.size
        while index & 1:
            current = node_hash(self.edge.pop(), current)
            index >>= 1
        self.edge.append(current)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self.edge:
            return EMPTY_ROOT
        result = self.edge[-1]
        for part in reversed(self.edge[:-1]):
            result = node_hash(part, result)
        return result
