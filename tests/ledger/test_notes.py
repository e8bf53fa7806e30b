"""Signed notes and checkpoints against the C2SP and Go `sumdb/note` examples."""

from __future__ import annotations

import base64

import pytest

from funding.ledger.notes import (
    Checkpoint,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
    open_note,
    parse_note,
    sign_checkpoint,
    sign_note,
)

# golang.org/x/mod/sumdb/note's example (note_test.go, example_test.go)
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
# C2SP signed-note's example
SPEC_VERIFIER = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
SPEC_NOTE = (
    "This is an example message.\n\n— example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
)


def test_the_go_example_signs_byte_for_byte():
    signer = Signer.parse(GO_SIGNER)
    assert str(signer) == GO_SIGNER
    assert str(signer.verifier) == GO_VERIFIER
    assert sign_note(GO_TEXT, signer) == GO_NOTE
    assert open_note(GO_NOTE, Verifier.parse(GO_VERIFIER)).text == GO_TEXT


def test_the_c2sp_example_verifies():
    note = open_note(SPEC_NOTE.encode(), Verifier.parse(SPEC_VERIFIER))
    assert note.text == "This is an example message.\n"
    assert str(note) == SPEC_NOTE


def test_a_changed_text_or_another_key_fails():
    with pytest.raises(NoteError, match="does not verify"):
        open_note(GO_NOTE.replace("problem,", "problem;"), Verifier.parse(GO_VERIFIER))
    with pytest.raises(NoteError, match="not signed by"):
        open_note(GO_NOTE, Verifier.parse(SPEC_VERIFIER))


@pytest.mark.parametrize(
    "key",
    [
        GO_VERIFIER.replace("c74f20a3", "c74f20a4"),  # wrong id
        GO_VERIFIER.replace("PeterNeumann", "PeterNeuman"),  # id no longer matches the name
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+" + base64.b64encode(b"\x02" + b"\x00" * 32).decode(),  # not Ed25519
    ],
)
def test_malformed_verifier_keys_are_refused(key):
    with pytest.raises(NoteError):
        Verifier.parse(key)


@pytest.mark.parametrize(
    "note",
    [
        "no blank line\n— a b\n",
        "text\n\nnot a signature\n",
        "text\n\n— PeterNeumann !!!\n",
        "text\n\n— PeterNeumann AAAA\n",  # too short for a key id and signature
        "text\n\n— PeterNeumann " + base64.b64encode(b"x" * 68).decode(),  # no final newline
    ],
)
def test_malformed_notes_are_refused(note):
    with pytest.raises(NoteError):
        parse_note(note)


def test_a_checkpoint_is_origin_size_and_base64_root():
    signer = Signer.generate("funding.example.org")
    checkpoint = Checkpoint("funding.example.org", 12, bytes(range(32)))
    note = sign_checkpoint(checkpoint, signer)
    assert note.startswith(
        "funding.example.org\n12\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n— funding.example.org "
    )
    opened, _ = open_checkpoint(note, signer.verifier)
    assert opened == checkpoint


def test_a_checkpoint_with_an_extension_line_and_a_cosignature_still_opens():
    signer, witness = Signer.generate("log.example"), Signer.generate("witness.example")
    text = Checkpoint("log.example", 3, b"\x07" * 32, ("extension line",)).text()
    note = sign_note(text, signer, witness)
    opened, parsed = open_checkpoint(note, signer.verifier)
    assert opened.extensions == ("extension line",) and len(parsed.signatures) == 2


@pytest.mark.parametrize(
    "text",
    [
        "origin\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # leading zero
        "origin\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "origin\n1\nAAEC\n",  # not 32 bytes
        "origin\n1\n",
        "\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    ],
)
def test_malformed_checkpoints_are_refused(text):
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_a_checkpoint_signed_for_another_origin_is_refused():
    signer = Signer.generate("log.example")
    note = sign_note(Checkpoint("other.example", 1, b"\x00" * 32).text(), signer)
    with pytest.raises(NoteError, match="origin"):
        open_checkpoint(note, signer.verifier)


def test_the_seed_is_not_in_the_repr():
    signer = Signer.parse(GO_SIGNER)
    assert "AYEKF" not in repr(signer)


# transparency-dev/formats note/note_cosigv1_test.go: a witness key and a cosignature's timestamp
WITNESS_KEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
COSIGNATURE_BLOB = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
)


def test_a_known_witness_key_parses_and_its_timestamp_reads():
    from funding.ledger.notes import CosignatureVerifier

    assert str(CosignatureVerifier.parse(WITNESS_KEY)) == WITNESS_KEY
    blob = base64.b64decode(COSIGNATURE_BLOB)
    assert int.from_bytes(blob[4:12], "big") == 1727964367
    with pytest.raises(NoteError):
        CosignatureVerifier.parse(GO_VERIFIER)  # an ordinary Ed25519 key is not a witness key


def test_a_cosignature_verifies_with_its_timestamp_and_not_on_another_checkpoint():
    from funding.ledger.notes import cosign, cosigner_verifier

    log, witness = Signer.generate("log.example"), Signer.generate("witness.example")
    note = sign_checkpoint(Checkpoint("log.example", 5, b"\x01" * 32), log)
    parsed = parse_note(note)
    cosigned = parse_note(str(parsed) + cosign(parsed.text, witness, 1_700_000_000).line())
    assert cosigner_verifier(witness).timestamp(cosigned) == 1_700_000_000
    open_checkpoint(str(cosigned), log.verifier)  # the log's own signature still opens it
    other = parse_note(sign_checkpoint(Checkpoint("log.example", 6, b"\x01" * 32), log))
    forged = parse_note(str(other) + cosign(parsed.text, witness, 1_700_000_000).line())
    with pytest.raises(NoteError, match="does not verify"):
        cosigner_verifier(witness).timestamp(forged)
