"""Ed25519 keys (the `cryptography` package) for the ledger's notes and the witnesses' cosignatures.

A private key file holds one line in Go's `sumdb/note` signer-key form,
`PRIVATE+KEY+<name>+<key id hex>+base64(alg ‖ 32-byte seed)` (alg 0x01: the ledger's note key,
0x04: a witness's cosignature/v1 key), written with owner-only permissions (0600, in a 0700
folder). The public half is the vkey `<name>+<key id hex>+base64(alg ‖ public key)`. Key
material never appears in messages: errors name the file, not its content.
"""

from __future__ import annotations

import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from domain.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    NoteError,
    Signature,
    VerifierKey,
    b64,
    b64decode,
    cosigned_message,
    valid_name,
)


class KeyError_(Exception):
    """A key file that cannot be read or used (the message names the file, never the key)."""


def ed25519_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    name: str
    alg: int
    private: Ed25519PrivateKey

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    @property
    def verifier(self) -> VerifierKey:
        return VerifierKey(self.name, self.alg, self.public)

    def sign_note(self, text: str) -> Signature:
        """A plain signed-note signature (alg 0x01) over the note text."""
        if self.alg != ALG_ED25519:
            raise NoteError(f"{self.name} is a cosignature key, not a note key")
        return Signature(self.name, self.verifier.key_id, self.private.sign(text.encode()))

    def cosign(self, text: str, timestamp: int | None = None) -> Signature:
        """A cosignature/v1 over a checkpoint text."""
        if self.alg != ALG_COSIGNATURE_V1:
            raise NoteError(f"{self.name} is a note key, not a cosignature key")
        t = int(time.time()) if timestamp is None else timestamp
        sig = self.private.sign(cosigned_message(text, t))
        return Signature(self.name, self.verifier.key_id, struct.pack(">Q", t) + sig)

    def encode(self) -> str:
        seed = self.private.private_bytes_raw()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{b64(bytes([self.alg]) + seed)}"


def generate(name: str, alg: int) -> SigningKey:
    if not valid_name(name):
        raise KeyError_(f"key name {name!r} is not valid (no spaces, no '+')")
    return SigningKey(name, alg, Ed25519PrivateKey.generate())


def parse_signing_key(text: str, where: str) -> SigningKey:
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"] or not valid_name(parts[2]):
        raise KeyError_(f"{where} is not a private key (PRIVATE+KEY+<name>+<id>+<key>)")
    try:
        raw = b64decode(parts[4], where)
    except NoteError:
        raise KeyError_(f"{where}: the key is not base64") from None
    if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise KeyError_(f"{where}: not an Ed25519 note (0x01) or cosignature (0x04) key")
    key = SigningKey(parts[2], raw[0], Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if key.verifier.key_id.hex() != parts[3].lower():
        raise KeyError_(f"{where}: the key id does not match the key")
    return key


def read_text(path: Path, error: type[Exception], what: str, not_text: str) -> str:
    """The text of the file `path`, or `error` saying "cannot read the `what` PATH: why", or
    `not_text` when it is not text."""
    try:
        return path.read_text()
    except OSError as exc:
        raise error(f"cannot read the {what} {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise error(not_text) from None


def load_signing_key(path: Path) -> SigningKey:
    text = read_text(path, KeyError_, "key file", f"{path} is not a private key")
    return parse_signing_key(text, str(path))


def write_private(path: Path, key: SigningKey, *, force: bool = False) -> None:
    """Write a private key with owner-only permissions, atomically; refuse to overwrite."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.exists() and not force:
        raise KeyError_(f"{path} exists; not overwriting a key")
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (key.encode() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def load_vkey(value: str) -> VerifierKey:
    """A vkey given inline or as a file holding one."""
    path = Path(value)
    text = value
    if "+" not in value or path.exists():
        try:
            text = path.read_text()
        except OSError as exc:
            raise NoteError(f"cannot read {value}: {exc.strerror}") from None
    return VerifierKey.parse(text.strip().splitlines()[0] if text.strip() else text)
