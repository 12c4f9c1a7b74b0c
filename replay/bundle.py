"""Offline evidence: one address's stored events with their chain and provenance, sealed.

A bundle is one JSON object written in canonical form (sorted keys, no white space, UTF-8)
plus a final newline:

    {"events":[…stored events, stream order…],"format":"nl.groningen.ledger.evidence-bundle",
     "head":{"hash":…,"streamposition":…},"provenance":{…},"seal":"<sha256>","subject":…,"version":1}

`seal` is the SHA-256 of the canonical form of the object without `seal`. Checking needs
nothing but the file: the bytes must be exactly the canonical form (so a change of any single
byte, white space included, is caught), the seal must match, the chain must verify from
genesis, and the declared head must be the last event. The seal proves integrity, not
authorship: compare the head hash with the one the ledger shows (`ledger verify --address`,
the replay report) to rule out a bundle rebuilt from scratch.

Version 2 (contract trust §3) adds what makes a rebuilt file fail offline:

    "tree": {"checkpoint": "<C2SP signed note: the ledger's signature and the witnesses'
             cosignatures>", "size": N, "positions": [global position of each event],
             "proofs": [[base64 hash, …] RFC 9162 inclusion proof of each event into the checkpoint]},
    "attestation": "<signed note by the ledger key over
                    'nl.groningen.ledger.evidence-bundle/v2\\n<subject>\\n<seal>\\n'>"

`seal` covers everything but `seal` and `attestation`; the attestation signs the seal, so events
dropped, added or changed with the chain and the seal recomputed fail on it, and an event that
is not the one the witnessed tree holds fails its inclusion proof. Checking needs the trust file
(`ledger verify --bundle FILE --trust TRUSTFILE`); version-1 bundles still verify, as unsigned.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from domain import merkle
from domain.chain import canonical, verify_stream
from domain.note import (
    Ed25519Verify,
    Note,
    NoteError,
    NoteVerifier,
    Signature,
    Trust,
    b64,
    b64decode,
    check_checkpoint,
    open_note,
)
from replay.errors import ReplayError
from replay.history import Event

BUNDLE_FORMAT = "nl.groningen.ledger.evidence-bundle"
BUNDLE_VERSION = 1
BUNDLE_VERSIONS = (1, 2)
ATTESTATION_HEADER = "nl.groningen.ledger.evidence-bundle/v2"


def seal_of(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical form of the bundle without its seal."""
    return hashlib.sha256(canonical({k: v for k, v in body.items() if k not in ("seal", "attestation")})).hexdigest()


def attestation_text(subject: str, seal: str) -> str:
    return f"{ATTESTATION_HEADER}\n{subject}\n{seal}\n"


def make_bundle_v2(
    v1: bytes,
    checkpoint_note: str,
    size: int,
    positions: list[int],
    proofs: list[list[bytes]],
    sign: Callable[[str], Signature],
) -> bytes:
    """A version-2 bundle from a version-1 one: positions, inclusion proofs, the cosigned
    checkpoint, and the ledger's attestation of the seal (`sign`: the ledger key's note signer)."""
    body = load_bundle(v1)
    body["version"] = 2
    body["tree"] = {
        "checkpoint": checkpoint_note,
        "size": size,
        "positions": positions,
        "proofs": [[b64(h) for h in proof] for proof in proofs],
    }
    body.pop("seal", None)
    seal = seal_of(body)
    text = attestation_text(body["subject"], seal)
    body["seal"] = seal
    body["attestation"] = Note(text, (sign(text),)).encode().decode()
    return canonical(body) + b"\n"


def make_bundle(subject: str, events: list[Event], provenance: dict[str, Any]) -> bytes:
    """The bundle's bytes for an address's stored events (stream order)."""
    last = events[-1] if events else None
    body: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "subject": subject,
        "head": None if last is None else {"streamposition": last.get("streamposition"), "hash": last.get("hash")},
        "events": events,
        "provenance": provenance,
    }
    body["seal"] = seal_of(body)
    return canonical(body) + b"\n"


@dataclass(slots=True)
class BundleCheck:
    """The outcome of checking a bundle; `ok` only when no problem was found."""

    subject: str
    events: int
    head: dict[str, Any] | None
    seal: str
    problems: list[str] = field(default_factory=list)
    break_position: int | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    signed: bool = False  # version 2 checked against a trust file
    checkpoint: dict[str, Any] | None = None  # size, root, cosigners (name -> time) when checked

    @property
    def ok(self) -> bool:
        return not self.problems


def load_bundle(raw: bytes) -> dict[str, Any]:
    """Parse a bundle's bytes; raise `not_a_bundle` with one clear message when it isn't one."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ReplayError("not_a_bundle", "not an evidence bundle: the file is not JSON") from None
    if not isinstance(body, dict) or body.get("format") != BUNDLE_FORMAT:
        raise ReplayError("not_a_bundle", f'not an evidence bundle: no "format": "{BUNDLE_FORMAT}"')
    if body.get("version") not in BUNDLE_VERSIONS:
        raise ReplayError("not_a_bundle", f"not an evidence bundle of version 1 or 2: {body.get('version')!r}")
    shape = {"subject": str, "events": list, "seal": str, "provenance": dict}
    for key, kind in shape.items():
        if not isinstance(body.get(key), kind):
            raise ReplayError("not_a_bundle", f"not an evidence bundle: {key!r} is missing or not a {kind.__name__}")
    if not all(isinstance(e, dict) for e in body["events"]):
        raise ReplayError("not_a_bundle", "not an evidence bundle: an entry of 'events' is not an object")
    if body.get("head") is not None and not isinstance(body["head"], dict):
        raise ReplayError("not_a_bundle", "not an evidence bundle: 'head' is not an object")
    if body["version"] == 2:
        tree = body.get("tree")
        if not isinstance(tree, dict) or not isinstance(body.get("attestation"), str):
            raise ReplayError("not_a_bundle", "not a version-2 bundle: 'tree' or 'attestation' is missing")
        kinds: dict[str, type] = {"checkpoint": str, "size": int, "positions": list, "proofs": list}
        for key, expected in kinds.items():
            if not isinstance(tree.get(key), expected) or isinstance(tree.get(key), bool):
                raise ReplayError(
                    "not_a_bundle", f"not a version-2 bundle: tree.{key} is missing or not a {expected.__name__}"
                )
        if not all(isinstance(p, int) and not isinstance(p, bool) for p in tree["positions"]):
            raise ReplayError("not_a_bundle", "not a version-2 bundle: a tree position is not a whole number")
        if not all(isinstance(p, list) and all(isinstance(h, str) for h in p) for p in tree["proofs"]):
            raise ReplayError("not_a_bundle", "not a version-2 bundle: a proof is not a list of base64 hashes")
    return body


def check_bundle(raw: bytes, trust: Trust | None = None, ed25519_verify: Ed25519Verify | None = None) -> BundleCheck:
    """Check a bundle's bytes with nothing but the file, and for version 2 the trust file (pure)."""
    body = load_bundle(raw)
    events: list[Event] = body["events"]
    subject: str = body["subject"]
    check = BundleCheck(
        subject, len(events), body.get("head"), body["seal"], provenance=body["provenance"], version=body["version"]
    )
    if raw != canonical(body) + b"\n":
        check.problems.append("the file's bytes are not its canonical form: it was edited or re-formatted")
    if seal_of(body) != body["seal"]:
        check.problems.append("the seal does not match the content: something in the bundle was changed")
    brk = verify_stream(subject, events)
    if brk is not None:
        check.break_position = brk.position
        check.problems.append(f"the hash chain breaks at stream position {brk.position}: {brk.reason}")
    last = events[-1] if events else None
    expected_head = None if last is None else {"streamposition": last.get("streamposition"), "hash": last.get("hash")}
    if body.get("head") != expected_head:
        check.problems.append("the declared head is not the last event: events were removed or added at the end")
    if not events:
        check.problems.append("the bundle holds no events")
    if check.version == 2 and trust is not None and ed25519_verify is not None:
        check.signed = True
        check.problems.extend(_check_v2(body, events, trust, ed25519_verify, check))
    return check


def _check_v2(
    body: dict[str, Any], events: list[Event], trust: Trust, verify: Ed25519Verify, check: BundleCheck
) -> list[str]:
    """The signatures, cosignatures and inclusion proofs of a version-2 bundle."""
    problems: list[str] = []
    try:
        opened = open_note(body["attestation"], [NoteVerifier(trust.log, verify)])
        if opened.note.text != attestation_text(body["subject"], body["seal"]):
            problems.append("the ledger's attestation is for another bundle (subject or seal differ)")
    except NoteError as exc:
        problems.append(f"the ledger's attestation of the seal does not verify: {exc}")
    tree = body["tree"]
    try:
        checked = check_checkpoint(tree["checkpoint"], trust, verify)
    except NoteError as exc:
        return [*problems, f"the checkpoint does not verify: {exc}"]
    cp = checked.checkpoint
    check.checkpoint = {"size": cp.size, "root": b64(cp.root), "cosigners": checked.cosigners}
    if checked.missing:
        problems.append("the checkpoint lacks the required cosignature of " + ", ".join(checked.missing))
    if tree["size"] != cp.size:
        problems.append(f"tree.size {tree['size']} is not the checkpoint's size {cp.size}")
    positions, proofs = tree["positions"], tree["proofs"]
    if len(positions) != len(events) or len(proofs) != len(events):
        return [*problems, "tree.positions and tree.proofs do not match the events one to one"]
    previous = 0
    for event, position, proof in zip(events, positions, proofs, strict=True):
        label = f"stream position {event.get('streamposition')} (global position {position})"
        if position <= previous:
            problems.append(f"{label}: the global positions are not increasing")
            break
        previous = position
        try:
            leaf = merkle.leaf_hash(bytes.fromhex(str(event.get("hash"))))
            hashes = [b64decode(h, "a proof hash") for h in proof]
            merkle.verify_inclusion(leaf, position - 1, cp.size, hashes, cp.root)
        except (ValueError, NoteError) as exc:
            problems.append(f"{label}: not included in the checkpoint: {exc}")
    return problems


def verify_bundle_file(
    path: Path, trust: Trust | None = None, ed25519_verify: Ed25519Verify | None = None
) -> tuple[int, list[str], str | None]:
    """`ledger verify --bundle FILE [--trust TRUSTFILE]`: (exit code, lines for stdout, one error line or None).

    Exit 0 when intact; 1 when the bundle fails a check or is not a bundle; 2 when the file
    cannot be read, or a version-2 bundle is checked without a trust file.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return 2, [], f"cannot read {path}: {exc.strerror}"
    try:
        check = check_bundle(raw, trust, ed25519_verify)
    except ReplayError as exc:
        return 1, [], f"{path}: {exc.message}"
    if check.version == 2 and not check.signed:
        return 2, [], f"{path} is a version-2 bundle: give --trust TRUSTFILE to check its signatures"
    head = check.head or {}
    made = check.provenance.get("generated_at")
    summary = (
        f"address {check.subject}: {check.events} events, head #{head.get('streamposition')} {head.get('hash')}, "
        f"seal {check.seal}" + (f", made {made}" if made else "")
    )
    if check.ok and check.version == 1:
        return (
            0,
            [
                f"bundle intact: {summary}",
                "unsigned (version 1): no checkpoint, no cosignatures; "
                "compare the head hash with the ledger's own to rule out a rebuilt file",
            ],
            None,
        )
    if check.ok and check.checkpoint is not None:
        cp = check.checkpoint
        signers = ", ".join(f"{name} at {_when(t)}" for name, t in sorted(cp["cosigners"].items()))
        return (
            0,
            [
                f"bundle intact and signed: {summary}",
                f"every event is included in checkpoint {cp['size']} (root {cp['root']}), "
                f"signed by {trust.log.name if trust else 'the ledger'} and cosigned by {signers or 'no witness'}",
            ],
            None,
        )
    lines = [f"bundle NOT intact: {summary}"] + [f"  {p}" for p in check.problems]
    if check.problems and check.version == 2:
        return 1, lines, f"{path}: the bundle failed verification: {check.problems[0]}"
    first = f" (first bad stream position {check.break_position})" if check.break_position else ""
    return 1, lines, f"{path}: the bundle failed verification{first}"


def _when(timestamp: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
