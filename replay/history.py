"""An address's history within the cut-offs, with corrections applied (projections.md §0).

- `known_at` (transaction time) keeps events with `recordedtime` ≤ it; it alone governs
  corrections and retractions, whatever their own `time`.
- `at` (valid time) keeps events with `time` ≤ it.
- The effective history drops retracted events, replaces corrected `data` (the latest known
  correction wins) and is ordered by `time`, ties by `streamposition`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from domain.catalogue import event_name

Event = dict[str, Any]
CORRECTED, RETRACTED = "EventCorrected", "EventRetracted"
AMENDMENT_NAMES = frozenset({CORRECTED, RETRACTED})


@dataclass(frozen=True, slots=True)
class Amendment:
    """One correction or retraction of an earlier event, with the versions it separates."""

    event: Event
    kind: Literal["correction", "retraction"]
    before: dict[str, Any]
    after: dict[str, Any] | None  # None for a retraction


@dataclass(slots=True)
class History:
    """What one address's history looks like for given cut-offs."""

    subject: str
    at: str | None
    known_at: str | None
    known: list[Event] = field(default_factory=list)
    visible: list[Event] = field(default_factory=list)
    effective: list[Event] = field(default_factory=list)
    amendments: dict[str, list[Amendment]] = field(default_factory=dict)
    not_yet_recorded: int = 0
    not_yet_happened: int = 0

    @property
    def retracted(self) -> set[str]:
        """Ids of the events retracted as known."""
        return {t for t, items in self.amendments.items() if any(a.kind == "retraction" for a in items)}


def within(event: Event, at: str | None, known_at: str | None) -> bool:
    """Whether an event counts for the cut-offs (both times, UTC text compares as time)."""
    return (at is None or event["time"] <= at) and (known_at is None or event["recordedtime"] <= known_at)


def order_key(event: Event) -> tuple[str, int]:
    """Valid-time order within one address: `time`, ties by `streamposition`."""
    return (event["time"], event["streamposition"])


def build_history(subject: str, events: list[Event], at: str | None, known_at: str | None) -> History:
    """Apply the cut-offs and the known amendments to an address's stored events (stream order)."""
    history = History(subject, at, known_at)
    current: dict[str, dict[str, Any]] = {}
    for event in events:
        if known_at is not None and event["recordedtime"] > known_at:
            history.not_yet_recorded += 1
            continue
        history.known.append(event)
        name = event_name(event["type"])
        if name in AMENDMENT_NAMES:
            data = event["data"]
            target = data["corrects"] if name == CORRECTED else data["retracts"]
            before = current.get(target)
            if before is None:  # names no earlier event of this stream (R8 prevents this)
                before = next((e["data"] for e in history.known if e["id"] == target), {})
            if name == CORRECTED:
                after: dict[str, Any] | None = data["data"]
                current[target] = data["data"]
                history.amendments.setdefault(target, []).append(Amendment(event, "correction", before, after))
            else:
                history.amendments.setdefault(target, []).append(Amendment(event, "retraction", before, None))
        else:
            current[event["id"]] = event["data"]
        if at is not None and event["time"] > at:
            history.not_yet_happened += 1
            continue
        history.visible.append(event)
    retracted = history.retracted
    for event in history.visible:
        if event_name(event["type"]) in AMENDMENT_NAMES or event["id"] in retracted:
            continue
        data = current.get(event["id"], event["data"])
        history.effective.append(event if data is event["data"] else {**event, "data": data})
    history.effective.sort(key=order_key)
    history.visible.sort(key=order_key)
    return history
