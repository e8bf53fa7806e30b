"""The verifiable log over the journal: the stored Merkle tree's roots and proofs, and the signed
checkpoints issued over it.

The tree itself is grown by `LedgerService.append` (`grow_tree`) in the entry's own transaction;
this service only reads it, and issues checkpoints: the tree's size and root at a moment, as a
C2SP tlog-checkpoint signed with the site's Ed25519 key (`funding.ledger.notes`). Every issued
checkpoint is kept (append-only), so anyone holding an old one can ask for a consistency proof.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from funding.db import as_datetime, lock_transaction, write_transaction
from funding.ledger import merkle
from funding.ledger.notes import (
    Checkpoint,
    CosignatureVerifier,
    NoteError,
    Signer,
    open_checkpoint,
    parse_note,
    sign_checkpoint,
)
from funding.ledger.service import APPEND_LOCK, EntryNotFound, LedgerError, tree_nodes
from funding.ledger.tables import JournalEntry, LogCheckpoint, LogCosignature, MerkleNode

log = logging.getLogger(__name__)

MAX_CHECKPOINTS_PAGE = 500
TREE_BATCH = 10_000
"""Entries per query when `check_tree` walks the whole tree."""


class ProofUnavailable(LedgerError):
    """A proof between sizes or for an entry the log does not have (yet)."""


class CosignatureRefused(LedgerError):
    """A cosignature of no checkpoint we issued, or by no witness we know, or that does not verify."""


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    tree_size: int
    entry_hash: str
    leaf_hash: bytes
    root_hash: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes
    hashes: list[bytes]


@dataclass(frozen=True)
class IssuedCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    issued_at: datetime


def origin_for(base_url: str) -> str:
    """The log's name: its public URL without the scheme (C2SP: a schema-less URL)."""
    origin = base_url.split("://", 1)[-1].rstrip("/")
    return origin.replace("+", "-").replace(" ", "-") or "funding"


def load_signer(configured: str, key_file: str, origin: str) -> Signer:
    """The checkpoint key: `configured` (FUNDING_LOG_SIGNING_KEY) is the key itself
    (`PRIVATE+KEY+…`) or the path of a file holding it. Without one, the key in `key_file`,
    made (readable by its owner only) the first time: a demo keeps its own key."""
    if configured:
        text = configured if configured.startswith("PRIVATE+KEY+") else Path(configured).read_text()
        return Signer.parse(text)
    path = Path(key_file)
    if path.exists():
        return Signer.parse(path.read_text())
    signer = Signer.generate(origin)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(str(signer) + "\n")
    log.warning("no FUNDING_LOG_SIGNING_KEY: made a checkpoint key of its own in %s (%s)", path, signer.verifier)
    return signer


class LogService:
    """Roots, proofs and checkpoints of the journal's Merkle tree."""

    def __init__(self, signer: Signer | None = None, witnesses: tuple[CosignatureVerifier, ...] = ()) -> None:
        self._signer = signer
        self.witnesses = witnesses

    @property
    def signer(self) -> Signer:
        if self._signer is None:
            raise NoteError("no checkpoint key is configured")
        return self._signer

    async def size(self) -> int:
        """The tree's size: the number of entries (seq runs 1, 2, 3 … without gaps)."""
        row = await JournalEntry.select(JournalEntry.seq).order_by(JournalEntry.seq, ascending=False).first()
        return int(row["seq"]) if row else 0

    async def root(self, size: int) -> bytes:
        await self._check_size(size)
        return merkle.root_hash(size, await self._nodes(merkle.root_nodes(size)))

    async def inclusion(self, seq: int, size: int) -> InclusionProof:
        """The audit path of entry `seq` in the tree of the first `size` entries."""
        if not 1 <= seq <= size:
            raise ProofUnavailable(f"entry {seq} is not in a tree of size {size} (need 1 ≤ seq ≤ size)")
        await self._check_size(size)
        index = seq - 1
        needed = [*merkle.inclusion_nodes(index, size), *merkle.root_nodes(size), (0, index)]
        nodes = await self._nodes(needed)
        row = await JournalEntry.select(JournalEntry.hash).where(JournalEntry.seq == seq).first()
        if row is None:
            raise EntryNotFound(f"there is no entry {seq}")
        return InclusionProof(
            seq=seq,
            tree_size=size,
            entry_hash=row["hash"],
            leaf_hash=nodes[(0, index)],
            root_hash=merkle.root_hash(size, nodes),
            hashes=merkle.inclusion_proof(index, size, nodes),
        )

    async def consistency(self, old: int, new: int) -> ConsistencyProof:
        """The proof that the tree of `old` entries is the start of the tree of `new`."""
        if not 1 <= old <= new:
            raise ProofUnavailable(f"no consistency proof from size {old} to size {new} (need 1 ≤ from ≤ to)")
        await self._check_size(new)
        needed = [*merkle.consistency_nodes(old, new), *merkle.root_nodes(old), *merkle.root_nodes(new)]
        nodes = await self._nodes(needed)
        return ConsistencyProof(
            old_size=old,
            new_size=new,
            old_root=merkle.root_hash(old, nodes),
            new_root=merkle.root_hash(new, nodes),
            hashes=merkle.consistency_proof(old, new, nodes),
        )

    # -- checkpoints --------------------------------------------------------------------------
    async def issue(self) -> IssuedCheckpoint | None:
        """Sign and keep a checkpoint of the tree as it is now; None when the latest one already
        has this size (a size is signed once: its root cannot change)."""
        signer = self.signer
        async with write_transaction():
            await lock_transaction(APPEND_LOCK)  # no entry lands between reading the size and the root
            size = await self.size()
            latest = await self.latest()
            if latest is not None and latest.tree_size == size:
                return None
            if latest is not None and latest.tree_size > size:
                raise LedgerError(f"the journal has {size} entries, but a checkpoint of {latest.tree_size} was issued")
            root = merkle.root_hash(size, await self._nodes(merkle.root_nodes(size)))
            note = sign_checkpoint(Checkpoint(signer.name, size, root), signer)
            issued_at = datetime.now(UTC).replace(microsecond=0)
            await LogCheckpoint.insert(
                LogCheckpoint(tree_size=size, root_hash=root.hex(), note=note, issued_at=issued_at)
            )
        log.info("issued checkpoint of size %d", size)
        return IssuedCheckpoint(size, root, note, issued_at)

    async def latest(self) -> IssuedCheckpoint | None:
        rows = await self._checkpoints("TRUE", [], ascending=False, limit=1)
        return rows[0] if rows else None

    async def checkpoints(self, after: int = -1, limit: int = 100) -> list[IssuedCheckpoint]:
        """Every issued checkpoint, oldest first, from tree size `after` on (keyset)."""
        if not 1 <= limit <= MAX_CHECKPOINTS_PAGE:
            raise LedgerError(f"limit must be between 1 and {MAX_CHECKPOINTS_PAGE}")
        return await self._checkpoints("tree_size > {}", [after], ascending=True, limit=limit)

    async def _checkpoints(self, condition: str, args: list, *, ascending: bool, limit: int) -> list[IssuedCheckpoint]:
        rows = await LogCheckpoint.raw(
            f"SELECT tree_size, root_hash, note, issued_at FROM log_checkpoint WHERE {condition} "
            f"ORDER BY tree_size {'ASC' if ascending else 'DESC'} LIMIT {int(limit)}",
            *args,
        )
        return [
            IssuedCheckpoint(
                int(row["tree_size"]), bytes.fromhex(row["root_hash"]), row["note"], as_datetime(row["issued_at"])
            )
            for row in rows
        ]

    # -- witnesses ----------------------------------------------------------------------------
    async def accept_cosignatures(self, data: str | bytes) -> list[str]:
        """Keep the cosignatures of known witnesses on `data`, a checkpoint we issued with their
        signature lines added; the names of the witnesses whose cosignature is now kept (a
        witness's first cosignature of a checkpoint is the one kept)."""
        try:
            checkpoint, note = open_checkpoint(data, self.signer.verifier)
        except NoteError as exc:
            raise CosignatureRefused(f"not a checkpoint of this log: {exc}") from exc
        row = await LogCheckpoint.select(LogCheckpoint.note).where(LogCheckpoint.tree_size == checkpoint.size).first()
        if row is None or parse_note(row["note"]).text != note.text:
            raise CosignatureRefused(f"this log issued no such checkpoint of {checkpoint.size} entries")
        accepted: list[str] = []
        for witness in self.witnesses:
            try:
                timestamp = witness.timestamp(note)
            except NoteError:
                continue
            line = next(s for s in note.signatures if s.name == witness.name and s.id == witness.id).line()
            async with write_transaction():
                exists = await LogCosignature.exists().where(
                    (LogCosignature.tree_size == checkpoint.size) & (LogCosignature.witness == witness.name)
                )
                if not exists:
                    await LogCosignature.insert(
                        LogCosignature(
                            tree_size=checkpoint.size,
                            witness=witness.name,
                            cosigned_at=timestamp,
                            line=line,
                            received_at=datetime.now(UTC).replace(microsecond=0),
                        )
                    )
            accepted.append(witness.name)
        if not accepted:
            raise CosignatureRefused("no cosignature of a witness this log knows verifies on it")
        return accepted

    async def cosigned(self, issued: IssuedCheckpoint) -> str:
        """The checkpoint's note with the cosignatures kept for it appended."""
        rows = (
            await LogCosignature.select(LogCosignature.line)
            .where(LogCosignature.tree_size == issued.tree_size)
            .order_by(LogCosignature.witness)
        )
        return issued.note + "".join(row["line"] for row in rows)

    # -- auditing -----------------------------------------------------------------------------
    async def check_tree(
        self, observe: Callable[[int, str], object], *, size: int, batch: int = TREE_BATCH
    ) -> str | None:
        """Recompute every complete subtree of the first `size` entries from their hashes and
        compare it with the stored one, a batch of entries at a time (memory stays flat);
        `observe(seq, hash)` sees each entry. The first difference, or None when the stored
        tree is the entries' tree."""
        edge: list[bytes] = []
        after = 0
        while True:
            rows = await JournalEntry.raw(
                f"SELECT seq, hash FROM journal_entry WHERE seq > {{}} AND seq <= {{}} ORDER BY seq LIMIT {int(batch)}",
                after,
                size,
            )
            if not rows:
                return None
            expected: dict[merkle.Node, bytes] = {}
            for row in rows:
                seq, digest = int(row["seq"]), row["hash"]
                observe(seq, digest)
                index = seq - 1
                siblings = {node: edge[-1 - n] for n, node in enumerate(merkle.siblings_for_append(index))}
                made = merkle.new_nodes(index, merkle.leaf_hash(digest), siblings)
                del edge[len(edge) - len(siblings) :]
                edge.append(made[-1][1])
                expected.update(made)
            first, last = after, int(rows[-1]["seq"])  # leaves first … last - 1
            stored = await self._completed_between(first, last)
            for node, digest in expected.items():
                if stored.get(node) != digest:
                    found = stored[node].hex() if node in stored else "nothing"
                    return (
                        f"the stored Merkle tree's node {node} (level, position) is {found}, but the entries "
                        f"give {digest.hex()}: a tree node was changed"
                    )
            if len(stored) != len(expected):
                return f"the stored Merkle tree has nodes no entry made, among leaves {first}–{last - 1}"
            after = last

    async def check_tree_in_database(self, size: int) -> str | None:
        """`check_tree` done by PostgreSQL itself (its `sha256`), without reading the tree out:
        every leaf against its entry's hash, every node against its two children, and one node
        at each place the first `size` entries complete. The first difference, or None."""
        leaf = await MerkleNode.raw(
            "SELECT e.seq FROM journal_entry e LEFT JOIN merkle_node n ON n.level = 0 AND n.position = e.seq - 1 "
            "WHERE e.seq <= {} AND (n.hash IS NULL OR "
            "n.hash <> encode(sha256('\\x00'::bytea || decode(e.hash, 'hex')), 'hex')) ORDER BY e.seq LIMIT 1",
            size,
        )
        if leaf:
            return f"the stored Merkle tree's leaf of entry {leaf[0]['seq']} is not its hash's: a tree node was changed"
        node = await MerkleNode.raw(
            "SELECT p.level, p.position FROM merkle_node p "
            "LEFT JOIN merkle_node l ON l.level = p.level - 1 AND l.position = 2 * p.position "
            "LEFT JOIN merkle_node r ON r.level = p.level - 1 AND r.position = 2 * p.position + 1 "
            "WHERE p.level > 0 AND (l.hash IS NULL OR r.hash IS NULL OR p.hash <> "
            "encode(sha256('\\x01'::bytea || decode(l.hash, 'hex') || decode(r.hash, 'hex')), 'hex')) "
            "ORDER BY p.level, p.position LIMIT 1"
        )
        if node:
            where = (int(node[0]["level"]), int(node[0]["position"]))
            return (
                f"the stored Merkle tree's node {where} (level, position) is not its children's: "
                "a tree node was changed"
            )
        counts = await MerkleNode.raw(
            "SELECT level, count(*) AS n FROM merkle_node WHERE position < ({} >> level) GROUP BY level", size
        )
        found = {int(row["level"]): int(row["n"]) for row in counts}
        expected = {level: size >> level for level in range(size.bit_length())}
        if found != expected:
            return f"the stored Merkle tree has {found} nodes per level for {size} entries, not {expected}"
        return None

    async def _completed_between(self, first: int, last: int) -> dict[merkle.Node, bytes]:
        """The stored nodes that appending leaves first … last - 1 completed: at level L, the
        positions p with (p + 1)·2^L − 1 among those leaves."""
        ranges = []
        level = 0
        while (1 << level) <= last:
            low, high = -(-(first + 1) // (1 << level)) - 1, last // (1 << level) - 1
            if low <= high:
                ranges.append(f"(level = {level} AND position BETWEEN {low} AND {high})")
            level += 1
        rows = await MerkleNode.raw(f"SELECT level, position, hash FROM merkle_node WHERE {' OR '.join(ranges)}")
        return {(int(row["level"]), int(row["position"])): bytes.fromhex(row["hash"]) for row in rows}

    # -- helpers ------------------------------------------------------------------------------
    async def _check_size(self, size: int) -> None:
        if size < 0:
            raise ProofUnavailable("a tree size is 0 or more")
        current = await self.size()
        if size > current:
            raise ProofUnavailable(f"the log has {current} entries, not {size}")

    async def _nodes(self, needed: list[merkle.Node]) -> dict[merkle.Node, bytes]:
        nodes = await tree_nodes(needed)
        missing = set(needed) - nodes.keys()
        if missing:
            raise LedgerError(f"the stored Merkle tree lacks {len(missing)} node(s): run `funding verify`")
        return nodes


class LogKey:
    """The checkpoint key, loaded (or made) on first use and kept for the process."""

    def __init__(self, configured: str, key_file: str, origin: str) -> None:
        self.configured, self.key_file, self.origin = configured, key_file, origin
        self._signer: Signer | None = None

    def signer(self) -> Signer:
        if self._signer is None:
            self._signer = load_signer(self.configured, self.key_file, self.origin)
        return self._signer


# -- C2SP tlog-tiles ---------------------------------------------------------------------------
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT


def parse_tile_index(path: str) -> tuple[int, int | None] | None:
    """`x001/x234/067` → (1234067, None); `005.p/17` → (5, 17); None unless canonical (the
    only spelling C2SP tlog-tiles allows, so each tile has one URL)."""
    parts = path.strip("/").split("/")
    width: int | None = None
    if len(parts) >= 2 and parts[-2].endswith(".p"):
        if not parts[-1].isdigit() or parts[-1].startswith("0") or not 1 <= int(parts[-1]) < TILE_WIDTH:
            return None
        width = int(parts[-1])
        parts = [*parts[:-2], parts[-2][:-2]]
    *upper, last = parts
    if len(last) != 3 or not last.isdigit() or not last.isascii():
        return None
    if any(len(p) != 4 or p[0] != "x" or not p[1:].isdigit() or not p[1:].isascii() for p in upper):
        return None
    if upper and upper[0] == "x000":
        return None
    return int("".join(p[1:] for p in upper) + last), width


async def tile(level: int, index: int, width: int | None) -> bytes | None:
    """Tile `index` at tile level `level`: the hashes of the tree's nodes at height 8·level,
    positions 256·index on (`width` of them, or all 256); None until they all exist."""
    count = width or TILE_WIDTH
    first = index * TILE_WIDTH
    rows = await MerkleNode.raw(
        "SELECT position, hash FROM merkle_node WHERE level = {} AND position >= {} AND position < {} "
        "ORDER BY position",
        level * TILE_HEIGHT,
        first,
        first + count,
    )
    if len(rows) != count:
        return None
    return b"".join(bytes.fromhex(row["hash"]) for row in rows)


async def entry_bundle(index: int, width: int | None) -> bytes | None:
    """Entry bundle `index`: the leaf inputs of entries 256·index + 1 on, each a big-endian
    uint16 length (32) and the entry's hash (its leaf is SHA-256(0x00 ‖ those bytes))."""
    count = width or TILE_WIDTH
    first = index * TILE_WIDTH + 1
    rows = await JournalEntry.raw(
        "SELECT seq, hash FROM journal_entry WHERE seq >= {} AND seq < {} ORDER BY seq", first, first + count
    )
    if len(rows) != count:
        return None
    return b"".join(b"\x00\x20" + bytes.fromhex(row["hash"]) for row in rows)
