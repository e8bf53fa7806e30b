"""Signed checkpoints: C2SP `signed-note` with Ed25519, carrying a C2SP `tlog-checkpoint`.

Pure functions (no I/O), so a verifier can use them without the app.

A note is text (lines ending in `\\n`), a blank line, and one signature line per signer:
`— <key name> <base64(key id ‖ signature)>`. The key id is the first four bytes of
`SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)` (0x01: Ed25519); the signature is over the text.
Keys are written as Go's `golang.org/x/mod/sumdb/note` writes them:

* verifier key: `<name>+<key id, 8 hex digits>+<base64(0x01 ‖ 32-byte public key)>`
* signer key: `PRIVATE+KEY+<name>+<key id>+<base64(0x01 ‖ 32-byte seed)>`

A checkpoint's text is `<origin>\\n<tree size>\\n<base64 root hash>\\n` (extension lines may
follow; we write none). Its origin is also the signer's key name.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from typing import ClassVar, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
COSIGNATURE_V1 = 0x04
"""A timestamped Ed25519 cosignature: key type 0x04 in key ids and verifier keys."""
SIGNATURE_PREFIX = "— "  # U+2014 EM DASH, then a space
MAX_NOTE_BYTES = 1_000_000


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or whose signature does not verify."""


def key_id(name: str, key_type_and_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + key_type_and_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or any(c in name for c in " \n+") or not name.isprintable():
        raise NoteError(f"a key name must be non-empty and without spaces, newlines or '+': {name!r}")


@dataclass(frozen=True)
class _PublicKey:
    """A note key `<name>+<hex key id>+<base64(type byte ‖ 32-byte Ed25519 public key)>`; the
    type byte tells a log's signing key (0x01) from a witness's cosigning key (0x04)."""

    name: str
    id: bytes
    public_key: bytes
    TYPE: ClassVar[int]
    WHAT: ClassVar[str]

    @classmethod
    def parse(cls, text: str) -> Self:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError(f"a {cls.WHAT} is <name>+<key id>+<base64 key>")
        name, hex_id, encoded = parts
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
            wanted_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as exc:
            raise NoteError(f"the {cls.WHAT} does not decode: {exc}") from exc
        if len(wanted_id) != 4 or len(raw) != 33 or raw[0] != cls.TYPE:
            raise NoteError(f"a {cls.WHAT} is an Ed25519 key of type {cls.TYPE:#04x} (32 bytes)")
        if key_id(name, raw) != wanted_id:
            raise NoteError(f"the {cls.WHAT}'s id does not match its name and key")
        return cls(name, wanted_id, raw[1:])

    def __str__(self) -> str:
        return f"{self.name}+{self.id.hex()}+{base64.b64encode(bytes([self.TYPE]) + self.public_key).decode()}"


@dataclass(frozen=True)
class Verifier(_PublicKey):
    """A log's verifier key: checks the Ed25519 signatures on its checkpoints."""

    TYPE: ClassVar[int] = ED25519
    WHAT: ClassVar[str] = "verifier key"

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes

    @classmethod
    def generate(cls, name: str) -> Signer:
        _check_name(name)
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        key = Ed25519PrivateKey.generate()
        return cls(name, key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()))

    @classmethod
    def parse(cls, text: str) -> Signer:
        """A signer key `PRIVATE+KEY+<name>+<hex id>+<base64 seed>`."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a signer key is PRIVATE+KEY+<name>+<key id>+<base64 seed>")
        _, _, name, hex_id, encoded = parts
        _check_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
            wanted_id = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError) as exc:
            raise NoteError(f"the signer key does not decode: {exc}") from exc
        if len(raw) != 33 or raw[0] != ED25519:
            raise NoteError("only Ed25519 signer keys (type 0x01, 32 bytes) are supported")
        signer = cls(name, raw[1:])
        if signer.verifier.id != wanted_id:
            raise NoteError("the signer key's id does not match its name and key")
        return signer

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, key_id(self.name, bytes([ED25519]) + public), public)

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.id.hex()}+{encoded}"

    def __repr__(self) -> str:  # never print the seed by accident
        return f"Signer({self.name!r}, {self.verifier.id.hex()})"

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def signature_line(self, text: str) -> str:
        blob = self.verifier.id + self.sign(text.encode())
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Signature:
    name: str
    id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(self.id + self.signature).decode()}\n"


@dataclass(frozen=True)
class Note:
    text: str
    signatures: tuple[Signature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(signature.line() for signature in self.signatures)


def sign_note(text: str, *signers: Signer) -> str:
    _check_text(text)
    return text + "\n" + "".join(signer.signature_line(text) for signer in signers)


def _check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text or "\r" in text:
        raise NoteError("a note's text is lines that end in a newline, none of them empty")


def parse_note(data: str | bytes) -> Note:
    """Split a note into its text and signatures (unverified)."""
    if isinstance(data, bytes):
        if len(data) > MAX_NOTE_BYTES:
            raise NoteError("the note is too long")
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note is UTF-8 text") from exc
    text, separator, block = data.rpartition("\n\n")
    if not separator:
        raise NoteError("a note has a blank line between its text and its signatures")
    text += "\n"
    _check_text(text)
    if not block.endswith("\n"):
        raise NoteError("a note ends with a newline")
    signatures: list[Signature] = []
    for line in block[:-1].split("\n"):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"not a signature line: {line[:80]!r}")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        try:
            blob = base64.b64decode(encoded, validate=True)
        except binascii.Error as exc:
            raise NoteError(f"a signature of {name} does not decode") from exc
        if not space or not name or len(blob) < 5:
            raise NoteError(f"a malformed signature line: {line[:80]!r}")
        signatures.append(Signature(name, blob[:4], blob[4:]))
    return Note(text, tuple(signatures))


def open_note(data: str | bytes, verifier: Verifier) -> Note:
    """The note, when `verifier` has signed it; NoteError otherwise (a note with others' unknown
    signatures beside a good one is fine: witnesses add theirs)."""
    note = parse_note(data)
    for signature in note.signatures:
        if signature.name == verifier.name and signature.id == verifier.id:
            if verifier.verify(note.text.encode(), signature.signature):
                return note
            raise NoteError(f"the signature of {verifier.name} does not verify: the note was changed")
    raise NoteError(f"the note is not signed by {verifier.name}+{verifier.id.hex()}")


# -- checkpoints ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint is an origin, a size and a root hash, each on its own line")
        origin, size, root, *extensions = lines[:-1]
        if not origin:
            raise NoteError("a checkpoint's origin is empty")
        if not size.isdigit() or (size != "0" and size.startswith("0")) or not size.isascii():
            raise NoteError(f"a checkpoint's tree size is a decimal number: {size!r}")
        try:
            root_bytes = base64.b64decode(root, validate=True)
        except binascii.Error as exc:
            raise NoteError("a checkpoint's root hash is base64") from exc
        if len(root_bytes) != 32:
            raise NoteError("a checkpoint's root hash is 32 bytes")
        return cls(origin, int(size), root_bytes, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> str:
    if checkpoint.origin != signer.name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the key's name {signer.name!r}")
    return sign_note(checkpoint.text(), signer)


def open_checkpoint(data: str | bytes, verifier: Verifier) -> tuple[Checkpoint, Note]:
    """A checkpoint note signed by `verifier`, whose origin is the key's name."""
    note = open_note(data, verifier)
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != verifier.name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the key's name {verifier.name!r}")
    return checkpoint, note


# -- witness cosignatures (C2SP tlog-cosignature) -------------------------------------------------


def cosignature_message(checkpoint_text: str, timestamp: int) -> bytes:
    """What a witness signs: its statement that at `timestamp` (seconds since the epoch) this
    checkpoint was consistent with every earlier one it saw."""
    return f"cosignature/v1\ntime {timestamp}\n{checkpoint_text}".encode()


@dataclass(frozen=True)
class CosignatureVerifier(_PublicKey):
    """A witness's key: checks its timestamped cosignatures (C2SP tlog-cosignature)."""

    TYPE: ClassVar[int] = COSIGNATURE_V1
    WHAT: ClassVar[str] = "witness key"

    def timestamp(self, note: Note) -> int:
        """When this witness cosigned `note`'s checkpoint; NoteError if it did not."""
        for signature in note.signatures:
            if signature.name != self.name or signature.id != self.id:
                continue
            if len(signature.signature) != 8 + 64:
                raise NoteError(f"the cosignature of {self.name} is not 8 + 64 bytes")
            timestamp = int.from_bytes(signature.signature[:8], "big")
            message = cosignature_message(note.text, timestamp)
            try:
                Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature.signature[8:], message)
            except InvalidSignature as exc:
                raise NoteError(f"the cosignature of {self.name} does not verify") from exc
            return timestamp
        raise NoteError(f"the note has no cosignature of {self.name}+{self.id.hex()}")


def cosigner_verifier(signer: Signer) -> CosignatureVerifier:
    """A witness's key (kept as a signer key) as the verifier of its cosignatures."""
    public = signer.verifier.public_key
    return CosignatureVerifier(signer.name, key_id(signer.name, bytes([COSIGNATURE_V1]) + public), public)


def cosign(checkpoint_text: str, signer: Signer, timestamp: int) -> Signature:
    """The witness's cosignature line of a checkpoint: key id ‖ timestamp ‖ Ed25519 signature."""
    verifier = cosigner_verifier(signer)
    signature = signer.sign(cosignature_message(checkpoint_text, timestamp))
    return Signature(signer.name, verifier.id, timestamp.to_bytes(8, "big") + signature)
