"""A witness of another site's log (`funding witness URL`): it fetches the latest checkpoint,
checks the log's signature, proves with the site's consistency proof that the log only grew
since the last checkpoint it saw, refuses to go back, and cosigns (C2SP tlog-cosignature).

Two checkpoints of the same size with different roots are a split view: the log showed two
histories. The witness refuses it, keeps both notes as evidence, and says so loudly.
"""

from __future__ import annotations

import base64
import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from funding.ledger import merkle
from funding.ledger.notes import Checkpoint, NoteError, Signer, Verifier, cosign, open_checkpoint


class WitnessRefused(Exception):
    """The log's checkpoint is not one a witness may cosign: the log went back or was rewritten."""


class SplitView(WitnessRefused):
    """Two checkpoints of the same size with different roots."""


@dataclass(frozen=True)
class Witnessed:
    checkpoint: Checkpoint
    previous: Checkpoint | None
    cosigned: str
    """The checkpoint with the witness's cosignature, as sent to the site."""
    accepted: bool


class WitnessState:
    """The last checkpoint the witness cosigned, per log (a file per origin in `folder`)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def _path(self, origin: str, suffix: str = "checkpoint") -> Path:
        return self.folder / f"{hashlib.sha256(origin.encode()).hexdigest()[:16]}.{suffix}"

    def last(self, origin: str, verifier: Verifier) -> Checkpoint | None:
        path = self._path(origin)
        if not path.exists():
            return None
        checkpoint, _ = open_checkpoint(path.read_bytes(), verifier)
        return checkpoint

    def keep(self, origin: str, note: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self._path(origin, "tmp")
        temporary.write_bytes(note)
        temporary.replace(self._path(origin))

    def evidence(self, origin: str, note: bytes) -> Path:
        path = self._path(origin, f"split-view-{int(time.time())}")
        self.folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(note)
        return path


def witness(site: str, log_key: Verifier, signer: Signer, state: WitnessState, client: httpx.Client) -> Witnessed:
    """One round: fetch, check, cosign, send. Raises WitnessRefused (and SplitView) without
    cosigning; the last checkpoint kept only ever moves forward."""
    site = site.rstrip("/")
    response = client.get(f"{site}/checkpoint")
    response.raise_for_status()
    note = response.content
    try:
        checkpoint, opened = open_checkpoint(note, log_key)
    except NoteError as exc:
        raise WitnessRefused(f"the checkpoint of {site} does not open with the log's key: {exc}") from exc
    previous = state.last(checkpoint.origin, log_key)
    if previous is not None:
        if checkpoint.size < previous.size:
            raise WitnessRefused(
                f"{site} went back: its checkpoint is of {checkpoint.size} entries, "
                f"the last one cosigned was of {previous.size}"
            )
        if checkpoint.size == previous.size and checkpoint.root != previous.root:
            kept = state.evidence(checkpoint.origin, note)
            raise SplitView(
                f"SPLIT VIEW: {site} signed two different trees of {checkpoint.size} entries "
                f"({previous.root.hex()} before, {checkpoint.root.hex()} now; kept in {kept})"
            )
        if checkpoint.size > previous.size > 0:
            proof = client.get(
                f"{site}/api/v1/proofs/consistency", params={"from": previous.size, "to": checkpoint.size}
            )
            if proof.status_code != 200:
                raise WitnessRefused(f"{site} gives no consistency proof {previous.size} → {checkpoint.size}")
            try:
                hashes = [base64.b64decode(h) for h in proof.json()["hashes"]]
                merkle.verify_consistency(previous.size, checkpoint.size, previous.root, checkpoint.root, hashes)
            except (ValueError, KeyError, TypeError, merkle.ProofError) as exc:
                kept = state.evidence(checkpoint.origin, note)
                raise WitnessRefused(
                    f"{site}'s tree of {checkpoint.size} entries does not extend the one of {previous.size} "
                    f"it signed before: history was rewritten ({exc}; kept in {kept})"
                ) from exc
    # The log's own signature line and ours: the site adds ours to what it publishes.
    ours = cosign(opened.text, signer, int(time.time()))
    own = next(s for s in opened.signatures if s.name == log_key.name and s.id == log_key.id)
    cosigned = opened.text + "\n" + own.line() + ours.line()
    state.keep(checkpoint.origin, note)
    sent = client.post(f"{site}/api/v1/cosignatures", content=cosigned.encode(), headers={"content-type": "text/plain"})
    return Witnessed(checkpoint, previous, cosigned, sent.status_code == 200)
