"""What `funding verify` checks beyond the hash chain: the Merkle tree of the entries it read,
against a checkpoint saved earlier, the site's latest one, and their proofs. Pure (no I/O).

The tree is recomputed from the entries themselves as they stream past (`TreeWatch`, O(log n)
memory), so a saved checkpoint is checked against the ledger's own history, not against what a
server says; the site's consistency and inclusion proofs are then checked as well, as a witness
or a reader with only checkpoints would.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from funding.ledger import merkle
from funding.ledger.chain import EntryRecord
from funding.ledger.notes import Checkpoint


class TreeWatch:
    """Follows verified entries in seq order: the tree's roots at the sizes asked for, one entry's leaf."""

    def __init__(self, sizes: Iterable[int] = (), entry: int | None = None) -> None:
        self.compact = merkle.CompactRange()
        self.wanted = set(sizes)
        self.roots: dict[int, bytes] = {0: merkle.EMPTY_ROOT} if 0 in self.wanted else {}
        self.entry = entry
        self.leaf: bytes | None = None
        self._stored: tuple[int, bytes] | None = None

    def add(self, entry: EntryRecord) -> None:
        self.add_hash(entry.seq, entry.hash)

    def add_hash(self, seq: int, entry_hash: str) -> None:
        leaf = merkle.leaf_hash(entry_hash)
        self.compact.append(leaf)
        if seq == self.entry:
            self.leaf = leaf
        if self.compact.size in self.wanted:
            self.roots[self.compact.size] = self.compact.root()

    async def from_stored_tree(self, log, size: int) -> None:
        """Take the roots and the leaf from the stored tree, once it is proven to be the tree of
        the entries (`LogService.check_tree_in_database`), instead of recomputing them."""
        for wanted in self.wanted:
            if wanted <= size:
                self.roots[wanted] = await log.root(wanted)
        if self.entry is not None and self.entry <= size:
            self.leaf = (await log.inclusion(self.entry, size)).leaf_hash
        self._stored = (size, await log.root(size))

    @property
    def size(self) -> int:
        return self._stored[0] if self._stored else self.compact.size

    def root(self) -> bytes:
        return self._stored[1] if self._stored else self.compact.root()


@dataclass
class LogReport:
    """Findings about the log: `lines` said on success, `problems` that make verify fail."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_saved(saved: Checkpoint, watch: TreeWatch, report: LogReport, what: str = "the saved checkpoint") -> bool:
    """Does the ledger read still hold the tree `saved` signed? Names what differs."""
    if watch.size < saved.size:
        report.problems.append(
            f"{what} is of {saved.size} entries, but the ledger has only {watch.size}: "
            f"entries {watch.size + 1}–{saved.size} were removed"
        )
        return False
    root = watch.roots[saved.size]
    if root != saved.root:
        report.problems.append(
            f"{what} signed root {saved.root.hex()} for the first {saved.size} entries, but those "
            f"entries now give root {root.hex()}: history before seq {saved.size + 1} was rewritten"
        )
        return False
    report.lines.append(f"{what} ({saved.size} entries) matches the ledger's first {saved.size} entries")
    return True


def check_consistency(
    old: Checkpoint, new_size: int, new_root: bytes, proof: Sequence[bytes], report: LogReport, source: str
) -> bool:
    try:
        merkle.verify_consistency(old.size, new_size, old.root, new_root, proof)
    except merkle.ProofError as exc:
        report.problems.append(
            f"the consistency proof from {old.size} to {new_size} entries ({source}) fails: {exc}: "
            f"the log of {new_size} entries does not extend the checkpoint"
        )
        return False
    report.lines.append(f"consistency proof {old.size} → {new_size} entries verified ({source})")
    return True


def check_inclusion(
    seq: int, size: int, leaf: bytes | None, root: bytes, proof: Sequence[bytes], report: LogReport, source: str
) -> bool:
    if leaf is None:
        report.problems.append(f"entry {seq} is not in the ledger read")
        return False
    try:
        merkle.verify_inclusion(seq - 1, size, leaf, proof, root)
    except merkle.ProofError as exc:
        report.problems.append(f"the inclusion proof of entry {seq} in {size} entries ({source}) fails: {exc}")
        return False
    report.lines.append(f"entry {seq} is in the tree of {size} entries: inclusion proof verified ({source})")
    return True
