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
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from domain.chain import canonical, verify_stream
from replay.errors import ReplayError
from replay.history import Event

BUNDLE_FORMAT = "nl.groningen.ledger.evidence-bundle"
BUNDLE_VERSION = 1


def seal_of(body: dict[str, Any]) -> str:
    """SHA-256 of the canonical form of the bundle without its seal."""
    return hashlib.sha256(canonical({k: v for k, v in body.items() if k != "seal"})).hexdigest()


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
    if body.get("version") != BUNDLE_VERSION:
        raise ReplayError(
            "not_a_bundle", f"not an evidence bundle of version {BUNDLE_VERSION}: {body.get('version')!r}"
        )
    shape = {"subject": str, "events": list, "seal": str, "provenance": dict}
    for key, kind in shape.items():
        if not isinstance(body.get(key), kind):
            raise ReplayError("not_a_bundle", f"not an evidence bundle: {key!r} is missing or not a {kind.__name__}")
    if not all(isinstance(e, dict) for e in body["events"]):
        raise ReplayError("not_a_bundle", "not an evidence bundle: an entry of 'events' is not an object")
    if body.get("head") is not None and not isinstance(body["head"], dict):
        raise ReplayError("not_a_bundle", "not an evidence bundle: 'head' is not an object")
    return body


def check_bundle(raw: bytes) -> BundleCheck:
    """Check a bundle's bytes with nothing but the file (pure)."""
    body = load_bundle(raw)
    events: list[Event] = body["events"]
    subject: str = body["subject"]
    check = BundleCheck(subject, len(events), body.get("head"), body["seal"], provenance=body["provenance"])
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
    return check


def verify_bundle_file(path: Path) -> tuple[int, list[str], str | None]:
    """`ledger verify --bundle FILE`: (exit code, lines for stdout, one error line or None).

    Exit 0 when intact; 1 when the bundle fails a check or is not a bundle; 2 when the file
    cannot be read.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return 2, [], f"cannot read {path}: {exc.strerror}"
    try:
        check = check_bundle(raw)
    except ReplayError as exc:
        return 1, [], f"{path}: {exc.message}"
    head = check.head or {}
    made = check.provenance.get("generated_at")
    summary = (
        f"address {check.subject}: {check.events} events, head #{head.get('streamposition')} {head.get('hash')}, "
        f"seal {check.seal}" + (f", made {made}" if made else "")
    )
    if check.ok:
        return (
            0,
            [f"bundle intact: {summary}", "compare the head hash with the ledger's own to rule out a rebuilt file"],
            None,
        )
    lines = [f"bundle NOT intact: {summary}"] + [f"  {p}" for p in check.problems]
    first = f" (first bad stream position {check.break_position})" if check.break_position else ""
    return 1, lines, f"{path}: the bundle failed verification{first}"
