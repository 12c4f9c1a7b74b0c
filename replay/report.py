"""The replay report: a JSON-ready dict built from one address's stored events, without I/O.

Order of work: verify the chain (a break limits everything to the events before it), apply
the cut-offs and corrections, build the timeline with the view's change at every step, the
view at the cut-offs, the findings, and the provenance needed to reproduce all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.chain import ChainBreak
from domain.envelope import SUBJECT_PATTERN, not_a_subject
from replay.chain import check_chain, verified_prefix
from replay.errors import ReplayError
from replay.findings import all_findings
from replay.history import Event, build_history
from replay.steps import ViewFn, fill_diffs
from replay.timeline import LATE_DAYS, build_timeline

REPORT_KIND = "nl.groningen.ledger.replay"
REPORT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Inputs:
    """Everything besides the events that a report depends on."""

    subject: str
    at: str | None
    known_at: str | None
    now: str
    code: dict[str, Any]
    store_position: int | None = None
    store_head_hash: str | None = None
    source: str = "event store"
    # the backfills whose events count within the cut-offs (`projections.backfills`), for the provenance
    backfills: tuple[dict[str, Any], ...] = ()


def check_subject(subject: str) -> None:
    """Raise `bad_input` unless `subject` is a BAG nummeraanduiding id."""
    if not SUBJECT_PATTERN.match(subject):
        raise ReplayError("bad_input", not_a_subject(subject))


def build_report(stored: list[Event], inputs: Inputs, view: ViewFn) -> dict[str, Any]:
    """The whole report for one address; `stored` are its stored events in stream order."""
    subject = inputs.subject
    check_subject(subject)
    if not stored:
        raise ReplayError("not_found", f"no events for address {subject}")
    brk = check_chain(subject, stored)
    verified = verified_prefix(stored, brk)
    history = build_history(subject, verified, inputs.at, inputs.known_at)
    if verified and not history.visible:
        raise ReplayError("bad_input", _before_first(verified, inputs))
    entries = build_timeline(history)
    until = inputs.at if inputs.at is not None else inputs.now
    baseline = view([], subject, None, inputs.known_at, until) if verified else None
    _, method = fill_diffs(entries, verified, subject, inputs.known_at, view, baseline)
    current = view(verified, subject, inputs.at, inputs.known_at, until) if history.visible else None
    findings = all_findings(history.effective, until)
    return {
        "kind": REPORT_KIND,
        "version": REPORT_VERSION,
        "subject": subject,
        "cutoffs": {"at": inputs.at, "known_at": inputs.known_at, "until": until},
        "chain": _chain(subject, stored, verified, brk),
        "counts": {
            "stored": len(stored),
            "verified": len(verified),
            "shown": len(entries),
            "recorded_after_known_at": history.not_yet_recorded,
            "happened_after_at": history.not_yet_happened,
            "late_registrations": sum(1 for e in entries if e.late),
            "corrections": sum(1 for e in entries if e.name == "EventCorrected"),
            "retractions": sum(1 for e in entries if e.name == "EventRetracted"),
        },
        "timeline": [e.as_dict() for e in entries],
        "view": current,
        "findings": [f.as_dict() for f in findings],
        "provenance": {**_provenance(stored, verified, inputs), "view_steps": method},
    }


def _before_first(verified: list[Event], inputs: Inputs) -> str:
    first_time = min(e["time"] for e in verified)
    first_recorded = verified[0]["recordedtime"]
    parts = []
    if inputs.at is not None and inputs.at < first_time:
        parts.append(f"the at cut-off {inputs.at} is before the first event ({first_time})")
    if inputs.known_at is not None and inputs.known_at < first_recorded:
        parts.append(f"the known-at cut-off {inputs.known_at} is before the first registration ({first_recorded})")
    if not parts:
        parts.append(f"no event of address {inputs.subject} lies within at={inputs.at} and known_at={inputs.known_at}")
    return "; ".join(parts)


def _chain(subject: str, stored: list[Event], verified: list[Event], brk: ChainBreak | None) -> dict[str, Any]:
    head = verified[-1] if verified else None
    return {
        "intact": brk is None,
        "checked": len(stored),
        "verified": len(verified),
        "break": None if brk is None else {"position": brk.position, "reason": brk.reason},
        "head": None if head is None else {"streamposition": head["streamposition"], "hash": head["hash"]},
        "message": (
            f"hash chain intact: {len(stored)} events of address {subject} verified"
            if brk is None
            else f"hash chain BROKEN at stream position {brk.position} of address {subject}: {brk.reason}; "
            f"the history below stops at position {brk.position - 1}"
        ),
    }


def _provenance(stored: list[Event], verified: list[Event], inputs: Inputs) -> dict[str, Any]:
    # Pinning both cut-offs reproduces this report exactly, however much the ledger grows.
    known_at = inputs.known_at or (stored[-1].get("recordedtime") if stored else None)
    args = [f"--at {inputs.at or inputs.now}"] + ([f"--known-at {known_at}"] if known_at else [])
    backfills = {"backfills": list(inputs.backfills)} if inputs.backfills else {}  # absent when none count
    return {
        "generated_at": inputs.now,
        "source": inputs.source,
        "events_read": len(stored),
        "events_verified": len(verified),
        "chain_head": None
        if not verified
        else {"streamposition": verified[-1]["streamposition"], "hash": verified[-1]["hash"]},
        "cutoffs": {"at": inputs.at, "known_at": inputs.known_at},
        "now": inputs.now,
        "store": {"position": inputs.store_position, "head_hash": inputs.store_head_hash},
        "late_registration_days": LATE_DAYS,
        "code": inputs.code,
        "reproduce": " ".join(["ledger replay", inputs.subject, *args, "--format json"]),
        **backfills,
    }
