"""Evidence from the log's tree: version-2 bundles and the replay report's checkpoint line.

`bundle_v2` turns the replay's version-1 bundle of an address into version 2: each event's
global position and inclusion proof into the latest published checkpoint (one is made first
when the latest does not cover the address's last event), that cosigned checkpoint, and the
ledger's attestation of the seal. `inclusion_summary` is what `ledger replay` shows beside
"hash chain intact".
"""

from __future__ import annotations

from typing import Any

from domain import merkle
from domain.note import Checkpoint, NoteError, cosignature_time, parse_note
from ledger.bootstrap import Ledger
from ledger.checkpoints import CheckpointError, checkpoint_now, signing_key
from replay.bundle import load_bundle, make_bundle_v2


class EvidenceError(Exception):
    """A bundle that cannot be made as version 2 (one clear message)."""


def _published(note: str) -> tuple[Checkpoint, dict[str, int]]:
    parsed = parse_note(note)
    checkpoint = Checkpoint.parse(parsed.text)
    times = {s.name: cosignature_time(s) for s in parsed.signatures if s.name != checkpoint.origin}
    return checkpoint, times


def positions_of(ledger: Ledger, subject: str) -> list[int]:
    """1-based leaf positions of an address's events, in stream order."""
    return [i + 1 for i in ledger.tree.indices_of(ledger.tree.stream_positions(subject))]


def bundle_v2(ledger: Ledger, v1: bytes) -> bytes:
    body = load_bundle(v1)
    subject = body["subject"]
    try:
        key = signing_key(ledger.settings)
    except CheckpointError as exc:
        raise EvidenceError(str(exc)) from None
    positions = positions_of(ledger, subject)
    if len(positions) != len(body["events"]):
        raise EvidenceError(f"the address's {len(body['events'])} events are not its {len(positions)} stored ones")
    latest = ledger.tree.checkpoint()
    if latest is None or latest.size < positions[-1]:
        try:
            made = checkpoint_now(ledger)
        except CheckpointError as exc:
            raise EvidenceError(f"no published checkpoint covers the address's events: {exc}") from None
        if not made.published:
            raise EvidenceError(
                "no published checkpoint covers the address's events: " + "; ".join(made.problems)
            )
        latest = ledger.tree.checkpoint()
        assert latest is not None
    size = latest.size
    tree = ledger.tree
    proofs = []
    for event, position in zip(body["events"], positions, strict=True):
        if tree.leaf(position - 1) != merkle.leaf_hash(bytes.fromhex(event["hash"])):
            raise EvidenceError(
                f"stream position {event.get('streamposition')} is not the event the tree holds at global "
                f"position {position}: the store was changed underneath the ledger (run `ledger verify --since`)"
            )
        proofs.append(tree.inclusion(position - 1, size))
    return make_bundle_v2(v1, latest.note, size, positions, proofs, key.sign_note)


def inclusion_summary(ledger: Ledger, subject: str, events: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Whether the address's events are included in the latest published checkpoint (checked
    against the stored tree and the events' own hashes), with its size, time and signers."""
    latest = ledger.tree.checkpoint()
    if latest is None:
        return {"published": False, "message": "no published checkpoint yet"}
    try:
        checkpoint, times = _published(latest.note)
    except NoteError as exc:
        return {"published": True, "included": False, "message": f"the stored checkpoint is malformed: {exc}"}
    positions = positions_of(ledger, subject)
    covered = [(e, p) for e, p in zip(events, positions, strict=False) if p <= checkpoint.size]
    ok = True
    for event, position in covered:
        try:
            leaf = merkle.leaf_hash(bytes.fromhex(str(event.get("hash"))))
            proof = ledger.tree.inclusion(position - 1, checkpoint.size)
            merkle.verify_inclusion(leaf, position - 1, checkpoint.size, proof, checkpoint.root)
        except (merkle.ProofError, LookupError, ValueError):
            ok = False
            break
    signers = [checkpoint.origin, *sorted(times)]
    return {
        "published": True,
        "included": ok,
        "size": checkpoint.size,
        "made_at": latest.made_at,
        "signers": signers,
        "cosigned_at": times,
        "events_included": len(covered),
        "events": len(events),
    }



def sealed(ledger: Ledger, v1: bytes, chain_intact: bool) -> tuple[bytes, int]:
    """The bundle `ledger replay --bundle` writes: version 2 when the ledger has its signing key
    (and the chain is intact), else the replay's version 1 (unsigned)."""
    if not chain_intact or not ledger.settings.signing_key.exists():
        return v1, 1
    return bundle_v2(ledger, v1), 2
