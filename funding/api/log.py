"""The verifiable log's public interface: the latest signed checkpoint, every one issued, and
RFC 9162 inclusion and consistency proofs (hashes in base64, as checkpoints write them)."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, QueryParameter

from funding.ledger.log import MAX_CHECKPOINTS_PAGE, LogService, entry_bundle, parse_tile_index, tile
from funding.web.errors import error_responses

MAX_SIZE = 2**53
TEXT = MediaType.TEXT


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class InclusionProofBody(msgspec.Struct):
    """RFC 9162 §2.1.3: the hashes that lead from entry `seq`'s leaf to the root of `tree_size`."""

    seq: int
    leaf_index: int
    tree_size: int
    entry_hash: str
    """The entry's hash (hex); its leaf is SHA-256(0x00 ‖ those 32 bytes)."""
    leaf_hash: str
    root_hash: str
    hashes: list[str]


class ConsistencyProofBody(msgspec.Struct):
    """RFC 9162 §2.1.4: the hashes that show the tree of `from` entries is the start of `to`'s."""

    from_size: int = msgspec.field(name="from")
    to_size: int = msgspec.field(name="to")
    from_root: str
    to_root: str
    hashes: list[str]


class CheckpointBody(msgspec.Struct):
    tree_size: int
    root_hash: str
    issued_at: datetime
    note: str
    """The signed note, as `GET /checkpoint` served it."""


class Accepted(msgspec.Struct):
    witnesses: list[str]
    """The witnesses whose cosignature of the checkpoint is kept."""


MAX_COSIGNED_NOTE = 16 * 1024


class CheckpointList(msgspec.Struct):
    verifier_key: str
    """The key that signs the checkpoints (C2SP signed-note verifier key)."""
    checkpoints: list[CheckpointBody]
    next_after: int | None
    """Pass as `after` for the next page; null on the last page."""


class CheckpointController(Controller):
    tags = ["verifiable log"]

    @get(
        "/checkpoint",
        name="checkpoint",
        media_type=MediaType.TEXT,
        responses={404: ResponseSpec(data_container=str, media_type=MediaType.TEXT, description="None issued yet")},
    )
    async def checkpoint(self, log: NamedDependency[LogService]) -> Response[str]:
        """The latest signed checkpoint (C2SP tlog-checkpoint in a signed note) with the
        cosignatures of the witnesses the site knows: save it, and `funding verify --checkpoint`
        proves later that the ledger only grew. Not cached: issuing and cosigning change it
        without touching the journal, whose changes are what empty the response cache."""
        latest = await log.latest()
        if latest is None:
            return Response("no checkpoint has been issued yet\n", status_code=404, media_type=TEXT)
        return Response(await log.cosigned(latest), media_type=TEXT)


class LogApiController(Controller):
    path = "/api/v1"
    tags = ["verifiable log"]

    @get("/checkpoints", name="api_checkpoints")
    async def checkpoints(
        self,
        log: NamedDependency[LogService],
        after: Annotated[int, QueryParameter(ge=-1, le=MAX_SIZE, description="Checkpoints of larger trees")] = -1,
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_CHECKPOINTS_PAGE, description="Per page")] = 100,
    ) -> CheckpointList:
        """Every checkpoint issued, smallest tree first, a page at a time."""
        issued = await log.checkpoints(after, limit)
        return CheckpointList(
            verifier_key=str(log.signer.verifier),
            checkpoints=[CheckpointBody(c.tree_size, b64(c.root_hash), c.issued_at, c.note) for c in issued],
            next_after=issued[-1].tree_size if len(issued) == limit else None,
        )

    @post(
        "/cosignatures",
        name="api_cosignatures",
        status_code=200,
        responses=error_responses(400, 413),
        request_max_body_size=MAX_COSIGNED_NOTE,
    )
    async def cosignatures(self, log: NamedDependency[LogService], request: Request) -> Accepted:
        """A witness sends a checkpoint of ours with its cosignature (C2SP tlog-cosignature);
        cosignatures of witnesses the site knows (FUNDING_WITNESSES) are kept and published
        with the checkpoint at `GET /checkpoint`."""
        return Accepted(witnesses=await log.accept_cosignatures(await request.body()))

    @get("/proofs/inclusion", name="api_inclusion_proof", responses=error_responses(400, 404))
    async def inclusion(
        self,
        log: NamedDependency[LogService],
        seq: Annotated[int, QueryParameter(ge=1, le=MAX_SIZE, description="The entry")],
        size: Annotated[
            int | None,
            QueryParameter(
                ge=1,
                le=MAX_SIZE,
                description="A tree size: the first this many entries; "
                "default: the latest checkpoint's, when it holds the entry, else the whole log",
            ),
        ] = None,
    ) -> InclusionProofBody:
        """That entry `seq` is in the tree of the first `size` entries (RFC 9162 §2.1.3)."""
        if size is None:
            latest = await log.latest()
            size = latest.tree_size if latest is not None and latest.tree_size >= seq else await log.size()
        proof = await log.inclusion(seq, size)
        return InclusionProofBody(
            seq=proof.seq,
            leaf_index=proof.seq - 1,
            tree_size=proof.tree_size,
            entry_hash=proof.entry_hash,
            leaf_hash=b64(proof.leaf_hash),
            root_hash=b64(proof.root_hash),
            hashes=[b64(h) for h in proof.hashes],
        )

    @get("/proofs/consistency", name="api_consistency_proof", responses=error_responses(400, 404))
    async def consistency(
        self,
        log: NamedDependency[LogService],
        from_size: Annotated[int, QueryParameter(name="from", ge=1, le=MAX_SIZE, description="The older size")],
        to_size: Annotated[int, QueryParameter(name="to", ge=1, le=MAX_SIZE, description="The newer size")],
    ) -> ConsistencyProofBody:
        """That the tree of `from` entries is the start of the tree of `to` (RFC 9162 §2.1.4)."""
        proof = await log.consistency(from_size, to_size)
        return ConsistencyProofBody(
            from_size=proof.old_size,
            to_size=proof.new_size,
            from_root=b64(proof.old_root),
            to_root=b64(proof.new_root),
            hashes=[b64(h) for h in proof.hashes],
        )


IMMUTABLE = {"cache-control": "public, max-age=31536000, immutable"}
TILE_RESPONSES = {
    200: ResponseSpec(data_container=bytes, media_type="application/octet-stream", description="The tile"),
    404: ResponseSpec(data_container=str, media_type=MediaType.TEXT, description="No such tile (yet)"),
}


class TileController(Controller):
    """The tree as C2SP tlog-tiles: static, immutable files, so a plain file server can mirror
    the whole log (`/checkpoint` beside them) and anyone can verify it without this app."""

    path = "/tile"
    tags = ["verifiable log"]

    @get("/{level:str}/{index:path}", name="tile", media_type="application/octet-stream", responses=TILE_RESPONSES)
    async def tile(self, level: FromPath[str], index: FromPath[str]) -> Response[bytes]:
        """A tile (C2SP tlog-tiles; paths spelled as it spells them, e.g. `0/x001/x234/067`):
        `L/N` holds the tree's nodes at height 8·L, 256 to a full tile, `L/N.p/W` a partial one
        of W; `entries/N[.p/W]` is an entry bundle: each entry's leaf input (its 32-byte hash),
        length-prefixed."""
        parsed = parse_tile_index(index)
        if parsed is None:
            return _no_tile()
        if level == "entries":
            data = await entry_bundle(*parsed)
        elif level.isdigit() and level.isascii() and str(int(level)) == level and int(level) <= MAX_TILE_LEVEL:
            data = await tile(int(level), *parsed)
        else:
            return _no_tile()
        return _no_tile() if data is None else Response(data, media_type="application/octet-stream", headers=IMMUTABLE)


MAX_TILE_LEVEL = 7
"""Height 56: more leaves than any journal will hold."""


def _no_tile() -> Response[bytes]:
    return Response(b"no such tile\n", status_code=404, media_type=TEXT)
