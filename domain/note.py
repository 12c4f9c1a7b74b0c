"""C2SP signed notes, checkpoints, cosignatures and the trust file (pure; the signature
primitive is injected: `domain.ports.Ed25519Verify`).

- signed-note: a text ending in a newline, an empty line, then signature lines
  `— <name> base64(key id ‖ signature)`; key id = SHA-256(name ‖ 0x0A ‖ alg ‖ public key)[:4];
  verifier keys `<name>+<key id hex>+base64(alg ‖ public key)` (alg 0x01: Ed25519). Parsing
  follows `golang.org/x/mod/sumdb/note.Open`: unknown keys are ignored, a known key whose
  signature fails is an error, a note must carry at least one verified signature.
- tlog-checkpoint: origin, tree size in decimal, root hash in base64, optional extension lines.
- tlog-cosignature, cosignature/v1: alg 0x04; the signature is u64 big-endian timestamp ‖
  Ed25519 signature over "cosignature/v1\\ntime <t>\\n" ‖ the checkpoint text.
- trust file (contract trust §2): one vkey a line (alg 0x01 the ledger, alg 0x04 a witness),
  `#` comments, and an optional `require <witness name>…` line (default: every witness).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.ports import Ed25519Verify

ALG_ED25519 = 0x01
ALG_COSIGNATURE_V1 = 0x04
SIG_PREFIX = "— "
COSIGNATURE_HEADER = "cosignature/v1"
MAX_SIGNATURES = 100



class NoteError(ValueError):
    """A malformed note, checkpoint, key or trust file, or a signature that does not verify."""


def valid_name(name: str) -> bool:
    """Non-empty, no Unicode space, no plus (sumdb/note's isValidName)."""
    return bool(name) and "+" not in name and not any(ch.isspace() or unicodedata.category(ch) == "Zs" for ch in name)


def key_id(name: str, alg: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public).digest()[:4]


def b64decode(text: str, what: str) -> bytes:
    """Standard base64, strictly: the one canonical spelling of the bytes, nothing else.

    Python (like Go's non-strict decoder) ignores the unused low bits of the last character, so
    `...Q0=` and `...Q1=` decode alike; a checked document must not have two spellings.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A C2SP vkey: name, algorithm and public key."""

    name: str
    alg: int
    public: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.alg, self.public)

    def vkey(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([self.alg]) + self.public)}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)
        if len(parts) != 3:
            raise NoteError(f"verifier key {text.strip()[:40]!r} is not <name>+<key id>+<key>")
        name, hash16, key64 = parts
        if not valid_name(name):
            raise NoteError(f"verifier key name {name!r} is not valid")
        if len(hash16) != 8 or any(c not in "0123456789abcdefABCDEF" for c in hash16):
            raise NoteError(f"verifier key {name}: key id {hash16!r} is not 8 hex digits")
        raw = b64decode(key64, f"verifier key {name}")
        if len(raw) != 33 or raw[0] not in (ALG_ED25519, ALG_COSIGNATURE_V1):
            raise NoteError(f"verifier key {name}: not an Ed25519 (0x01) or cosignature/v1 (0x04) key")
        key = cls(name, raw[0], raw[1:])
        if key.key_id.hex() != hash16.lower():
            raise NoteError(f"verifier key {name}: the key id does not match the key")
        return key


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    key_id: bytes
    signature: bytes  # after the key id

    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    text: str  # ends with a newline
    signatures: tuple[Signature, ...]

    def encode(self) -> bytes:
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode()


def parse_signature_line(line: str) -> Signature:
    if not line.startswith(SIG_PREFIX):
        raise NoteError(f"signature line {line[:40]!r} does not start with '— '")
    name, _, sig64 = line[len(SIG_PREFIX) :].partition(" ")
    if not valid_name(name) or not sig64:
        raise NoteError(f"signature line {line[:40]!r} is malformed")
    raw = b64decode(sig64, f"the signature of {name}")
    if len(raw) < 5:
        raise NoteError(f"the signature of {name} is too short")
    return Signature(name, raw[:4], raw[4:])


def parse_note(msg: bytes | str) -> Note:
    """Split a signed note into text and signatures (sumdb/note's syntax rules)."""
    if isinstance(msg, bytes):
        try:
            text = msg.decode("utf-8")
        except UnicodeDecodeError:
            raise NoteError("the note is not UTF-8") from None
    else:
        text = msg
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("the note holds a control character")
    split = text.rfind("\n\n")
    if split < 0:
        raise NoteError("the note has no signature block (no empty line)")
    body, sigs = text[: split + 1], text[split + 2 :]
    if not sigs or not sigs.endswith("\n"):
        raise NoteError("the note's signature block is empty or does not end with a newline")
    lines = sigs[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"the note has more than {MAX_SIGNATURES} signatures")
    return Note(body, tuple(parse_signature_line(line) for line in lines))


class NoteVerifier:
    """Verifies one key's signatures on notes: plain Ed25519 (0x01) or cosignature/v1 (0x04)."""

    def __init__(self, key: VerifierKey, ed25519_verify: Ed25519Verify) -> None:
        self.key = key
        self.name = key.name
        self.key_id = key.key_id
        self._verify = ed25519_verify

    def verify(self, text: str, signature: bytes) -> bool:
        if self.key.alg == ALG_COSIGNATURE_V1:
            if len(signature) != 72:
                return False
            (timestamp,) = struct.unpack(">Q", signature[:8])
            if timestamp >= 1 << 63:
                return False
            return self._verify(self.key.public, cosigned_message(text, timestamp), signature[8:])
        return len(signature) == 64 and self._verify(self.key.public, text.encode(), signature)


@dataclass(slots=True)
class Opened:
    note: Note
    verified: dict[str, Signature] = field(default_factory=dict)  # by key name
    unknown: list[Signature] = field(default_factory=list)


def open_note(msg: bytes | str, verifiers: Sequence[NoteVerifier]) -> Opened:
    """Parse and check a note: unknown keys are ignored; a known key's bad signature is an error;
    at least one known key must have signed."""
    note = parse_note(msg)
    known = {(v.name, v.key_id): v for v in verifiers}
    out = Opened(note)
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            out.unknown.append(sig)
            continue
        if sig.name in out.verified:
            continue
        if not verifier.verify(note.text, sig.signature):
            raise NoteError(f"the signature of {sig.name} does not verify")
        out.verified[sig.name] = sig
    if not out.verified:
        raise NoteError("no signature on the note is from a trusted key")
    return out


def cosigned_message(text: str, timestamp: int) -> bytes:
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{text}".encode()


def cosignature_time(sig: Signature) -> int:
    """The timestamp of a cosignature/v1 signature."""
    return int(struct.unpack(">Q", sig.signature[:8])[0])


# -- checkpoints ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        return "".join(f"{line}\n" for line in (self.origin, str(self.size), b64(self.root), *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        if not text.endswith("\n"):
            raise NoteError("the checkpoint does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("the checkpoint has fewer than three lines (origin, size, root hash)")
        origin, size, root64, *ext = lines
        if not origin:
            raise NoteError("the checkpoint's origin line is empty")
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError(f"the checkpoint's size {size[:30]!r} is not a decimal number")
        root = b64decode(root64, "the checkpoint's root hash")
        if len(root) != 32:
            raise NoteError("the checkpoint's root hash is not 32 bytes")
        if any(not line for line in ext):
            raise NoteError("the checkpoint has an empty extension line")
        return cls(origin, int(size), root, tuple(ext))


# -- the trust file ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trust:
    log: VerifierKey
    witnesses: tuple[VerifierKey, ...]
    required: tuple[str, ...]

    def text(self) -> str:
        lines = ["# Groningen ledger trust file: the ledger's key, the witnesses' keys, who must cosign"]
        lines += [self.log.vkey(), *(w.vkey() for w in self.witnesses)]
        lines.append("require " + " ".join(self.required) if self.required else "require")
        return "\n".join(lines) + "\n"

    @classmethod
    def parse(cls, text: str) -> Trust:
        log: VerifierKey | None = None
        witnesses: list[VerifierKey] = []
        required: list[str] | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line == "require" or line.startswith("require "):
                if required is not None:
                    raise NoteError(f"trust file line {number}: a second 'require' line")
                required = line.split()[1:]
                continue
            try:
                key = VerifierKey.parse(line)
            except NoteError as exc:
                raise NoteError(f"trust file line {number}: {exc}") from None
            if key.alg == ALG_ED25519:
                if log is not None:
                    raise NoteError(f"trust file line {number}: a second ledger key (alg 0x01)")
                log = key
            else:
                if any(w.name == key.name for w in witnesses):
                    raise NoteError(f"trust file line {number}: witness {key.name} twice")
                witnesses.append(key)
        if log is None:
            raise NoteError("the trust file names no ledger key (a vkey of algorithm 0x01)")
        names = [w.name for w in witnesses]
        need = names if required is None else required
        for name in need:
            if name not in names:
                raise NoteError(f"the trust file requires witness {name!r} but has no key for it")
        return cls(log, tuple(witnesses), tuple(need))


@dataclass(slots=True)
class CheckedCheckpoint:
    checkpoint: Checkpoint
    note: Note
    cosigners: dict[str, int]  # witness name -> cosignature time
    missing: list[str]  # required witnesses that did not cosign

    @property
    def ok(self) -> bool:
        return not self.missing


def check_checkpoint(msg: bytes | str, trust: Trust, ed25519_verify: Ed25519Verify) -> CheckedCheckpoint:
    """A checkpoint signed by the trusted ledger key, with the cosignatures the trust file names.

    NoteError when the note or checkpoint is malformed, a trusted key's signature fails, or the
    ledger did not sign; `missing` names required witnesses that did not cosign.
    """
    verifiers = [NoteVerifier(k, ed25519_verify) for k in (trust.log, *trust.witnesses)]
    opened = open_note(msg, verifiers)
    if trust.log.name not in opened.verified:
        raise NoteError(f"the checkpoint is not signed by the ledger key {trust.log.name}")
    checkpoint = Checkpoint.parse(opened.note.text)
    if checkpoint.origin != trust.log.name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the ledger's {trust.log.name!r}")
    cosigners = {
        name: cosignature_time(sig) for name, sig in opened.verified.items() if name != trust.log.name
    }
    missing = [name for name in trust.required if name not in cosigners]
    return CheckedCheckpoint(checkpoint, opened.note, cosigners, missing)
