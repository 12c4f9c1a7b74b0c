"""C2SP signed notes, checkpoints, cosignatures and trust files, against Go's published vectors."""

from __future__ import annotations

import base64

import pytest

from domain.note import (
    ALG_COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteError,
    NoteVerifier,
    Trust,
    VerifierKey,
    check_checkpoint,
    cosignature_time,
    open_note,
    parse_note,
)
from ledger.keys import ALG_ED25519, ed25519_verify, generate, parse_signing_key

# From golang.org/x/mod/sumdb/note's package documentation.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
GO_MSG = GO_TEXT + "\n" + GO_SIG


def test_go_vectors_byte_for_byte() -> None:
    key = parse_signing_key(GO_SKEY, "vector")
    assert key.verifier.vkey() == GO_VKEY  # key id = SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[:4]
    assert VerifierKey.parse(GO_VKEY).key_id.hex() == "c74f20a3"
    assert Note(GO_TEXT, (key.sign_note(GO_TEXT),)).encode().decode() == GO_MSG  # Ed25519 is deterministic
    opened = open_note(GO_MSG, [NoteVerifier(VerifierKey.parse(GO_VKEY), ed25519_verify)])
    assert list(opened.verified) == ["PeterNeumann"]


def test_unknown_keys_are_ignored_bad_known_signatures_are_errors() -> None:
    verifier = NoteVerifier(VerifierKey.parse(GO_VKEY), ed25519_verify)
    other = generate("Someone", ALG_ED25519)
    with_unknown = GO_MSG + other.sign_note(GO_TEXT).line()
    opened = open_note(with_unknown, [verifier])
    assert list(opened.verified) == ["PeterNeumann"] and [s.name for s in opened.unknown] == ["Someone"]
    with pytest.raises(NoteError, match="no signature on the note is from a trusted key"):
        open_note(GO_TEXT + "\n" + other.sign_note(GO_TEXT).line(), [verifier])
    tampered = GO_MSG.replace("cryptography", "cryptographY")
    with pytest.raises(NoteError, match="the signature of PeterNeumann does not verify"):
        open_note(tampered, [verifier])


@pytest.mark.parametrize(
    "msg,message",
    [
        (b"no blank line\n", "no signature block"),
        (b"text\n\n", "signature block is empty"),
        (b"text\n\nnot a signature\n", "does not start with"),
        (b"text\n\n\xe2\x80\x94 name !!!\n", "not base64"),
        (b"text\x01\n\n\xe2\x80\x94 a AAAAAAAA\n", "control character"),
        (b"\xff\n\n", "not UTF-8"),
    ],
)
def test_malformed_notes_one_message(msg: bytes, message: str) -> None:
    with pytest.raises(NoteError, match=message):
        parse_note(msg)


def test_checkpoint_roundtrip_and_malformed() -> None:
    cp = Checkpoint("groningen-ledger", 20852163, bytes(32), ("ext",))
    assert Checkpoint.parse(cp.text()) == cp
    for text, message in [
        ("groningen-ledger\n12\n", "fewer than three lines"),
        ("groningen-ledger\n012\nAAAA\n", "not a decimal number"),
        ("groningen-ledger\n12\nAAAA\n", "not 32 bytes"),
        ("groningen-ledger\n12\n" + "A" * 44, "does not end with a newline"),
    ]:
        with pytest.raises(NoteError, match=message):
            Checkpoint.parse(text)


def test_cosignature_v1_and_trust() -> None:
    ledger = generate("groningen-ledger", ALG_ED25519)
    img = generate("img-witness", ALG_COSIGNATURE_V1)
    ncg = generate("ncg-witness", ALG_COSIGNATURE_V1)
    trust = Trust(ledger.verifier, (img.verifier, ncg.verifier), ("img-witness", "ncg-witness"))
    assert Trust.parse(trust.text()) == trust
    text = Checkpoint("groningen-ledger", 5, bytes(range(32))).text()
    cosig = img.cosign(text, timestamp=1679315147)
    assert cosignature_time(cosig) == 1679315147
    assert img.verifier.vkey().split("+")[2].startswith("B")  # alg byte 0x04
    note = Note(text, (ledger.sign_note(text), cosig)).encode()
    checked = check_checkpoint(note, trust, ed25519_verify)
    assert checked.cosigners == {"img-witness": 1679315147} and checked.missing == ["ncg-witness"]
    full = Note(text, (ledger.sign_note(text), cosig, ncg.cosign(text))).encode()
    assert check_checkpoint(full, trust, ed25519_verify).ok
    with pytest.raises(NoteError, match="not signed by the ledger key"):
        check_checkpoint(Note(text, (cosig,)).encode(), trust, ed25519_verify)


def test_base64_with_set_padding_bits_is_refused() -> None:
    from domain.note import NoteError, b64decode

    canonical = base64.b64encode(bytes(32)).decode()  # "AAAA…A=": the last "A" carries 2 unused bits
    assert b64decode(canonical, "x") == bytes(32)
    with pytest.raises(NoteError, match="not canonical base64"):
        b64decode(canonical[:-2] + "B=", "x")  # same bytes to a lenient decoder
