"""Back-filled events in the provenance of an answer (trust.md §1, projections.md §0 and §4).

A backfill (`ledger import --backfill` into a store already in use) appends events at the end
of the ledger's global order that carry old `recordedtime`s: "what the ledger knew on D",
asked after it, includes them although the ledger did not know them on D. Every answer whose
cut-offs include such an event names the backfill in its provenance, under `backfills`
(absent when the answer includes none; `docs/read-side.md`).

The read side reaches the record of backfills through the `BackfillRecords` port only; the
adapter on the event store's database is `ledger.importlog`.

An event of a backfill *counts* for an answer when it is among the positions the answer read
and within its cut-offs as `projections.history.prepare` applies them: `recordedtime` ≤
`known_at`, and `time` ≤ `at` unless it is a correction or a retraction (those are governed by
`known_at` alone). A back-filled event that a later retraction removed still counts: it was
read, and the retraction is only there because the backfill put it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, TypedDict, Unpack


@dataclass(frozen=True, slots=True)
class BackfillRun:
    """One recorded backfill that stored events: who ran it, when, and which positions it added."""

    run: int
    operator: str
    recorded_at: str  # the ledger's clock when the run started
    recorded_until: str  # the ledger's clock at its last stored batch
    first_position: int
    last_position: int
    events: int  # events it stored (its positions lie within first..last; others may lie between)
    earliest_recordedtime: str


class Bounds(TypedDict, total=False):
    """What an answer read: global position ≤ `until`, the cut-offs `at` / `known_at`, and for one
    address (`subject`) stream position ≤ `streamposition` (absent or None: no bound)."""

    until: int | None
    at: str | None
    known_at: str | None
    subject: str | None
    streamposition: int | None


class BackfillRecords(Protocol):
    """What the read side needs to know about backfills."""

    def backfills(self) -> list[BackfillRun]:
        """Every backfill run that stored at least one event, in run order."""
        ...

    def subjects(self) -> set[str]:
        """The addresses with back-filled events (so that the others' answers ask nothing)."""
        ...

    def counted(self, **bounds: Unpack[Bounds]) -> dict[int, int]:
        """Per run, its events that count within `bounds` (see the module); runs with none are absent."""
        ...


def included(
    source: BackfillRecords | None,
    runs: list[BackfillRun],
    *,
    subjects: set[str] | None = None,
    **bounds: Unpack[Bounds],
) -> list[dict[str, Any]]:
    """The provenance entries of the backfills an answer includes (empty: it includes none).

    `runs` is `source.backfills()` as the caller last read it, `subjects` (optional)
    `source.subjects()`; without runs, or for an address without back-filled events, nothing is
    asked of the source.
    """
    if source is None or not runs:
        return []
    until, subject = bounds.get("until"), bounds.get("subject")
    if subject is not None and subjects is not None and subject not in subjects:
        return []
    candidates = [r for r in runs if until is None or r.first_position <= until]
    if not candidates:
        return []
    if subject is None and bounds.get("at") is None and bounds.get("known_at") is None and until is not None:
        if all(r.last_position <= until for r in candidates):
            return [entry(r, r.events) for r in candidates]  # every event of these runs is read
    counts = source.counted(**bounds)
    return [entry(r, counts[r.run]) for r in candidates if counts.get(r.run)]


def entry(run: BackfillRun, counted: int) -> dict[str, Any]:
    """One backfill as the provenance names it."""
    return {
        "backfill": run.run,
        "operator": run.operator,
        "recorded_at": run.recorded_at,
        "recorded_until": run.recorded_until,
        "positions": [run.first_position, run.last_position],
        "events": run.events,
        "earliest_recordedtime": run.earliest_recordedtime,
        "counted": counted,
    }


def describe(entries: list[dict[str, Any]]) -> list[str]:
    """One line per backfill for people: what the answer includes and why it matters."""
    return [
        f"includes {e['counted']:,} of the {e['events']:,} events back-filled by {e['operator']} "
        f"on {e['recorded_at'][:10]} (backfill {e['backfill']}, positions {e['positions'][0]:,}–"
        f"{e['positions'][1]:,}): recorded then, although their recordedtime says from "
        f"{e['earliest_recordedtime'][:10]}"
        for e in entries
    ]
