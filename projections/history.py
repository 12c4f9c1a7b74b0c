"""One address's history as the projections see it: cut-offs applied, corrections folded in.

Contract §0: `known_at` keeps events with `recordedtime` ≤ `known_at` (corrections and
retractions included); a correction replaces the `data` of the event it names, a retraction
removes that event; both are governed by `known_at` alone. `at` keeps events with `time` ≤
`at`. The effective events are ordered by `time`, ties broken by `streamposition`.

This runs for every event of a rebuild, so it works on tuples and avoids parsing times.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.catalogue import event_name

CORRECTED = "EventCorrected"
RETRACTED = "EventRetracted"
LATE_DAYS = 30

# (time, streamposition, name, data): what a fold applies, in time order
Effective = tuple[str, int, str, dict[str, Any]]

_NAMES: dict[str, str] = {}
_LATE_FROM: dict[str, str] = {}


def name_of(event_type: str) -> str:
    """The catalogue name of a full type (cached: the hot path of every fold)."""
    name = _NAMES.get(event_type)
    if name is None:
        name = _NAMES[event_type] = event_name(event_type)
    return name


def _late_limit(day: str) -> str:
    limit = _LATE_FROM[day] = (date.fromisoformat(day) + timedelta(days=LATE_DAYS)).isoformat()
    return limit


def is_late(happened: str, recorded: str) -> bool:
    """`recordedtime - time > 30 days`, on the fixed-width UTC text without parsing."""
    day = happened[:10]
    limit = _LATE_FROM.get(day) or _late_limit(day)
    recorded_day = recorded[:10]
    if recorded_day != limit:
        return recorded_day > limit
    return recorded[10:] > happened[10:]


@dataclass(slots=True)
class History:
    """What a fold needs from one address's stored events within the cut-offs."""

    subject: str
    effective: list[Effective] = field(default_factory=list)
    # every stored event within the cut-offs (the chain as it stood), for the `ledger` section
    stored: int = 0
    last: dict[str, Any] | None = None
    # accepted events within the cut-offs (corrections included, retracted ones not), per org:
    # [count, count with recordedtime - time > 30 days] (G15)
    by_org: dict[str, list[int]] = field(default_factory=dict)
    # the latest `time` and `recordedtime` of all the events given, before the cut-offs: a
    # history whose events are all within some cut-offs folds to the same state under them
    latest_time: str = ""
    latest_recorded: str = ""


def prepare(
    events: Iterable[dict[str, Any]],
    subject: str,
    at: str | None = None,
    known_at: str | None = None,
) -> History:
    """Apply the cut-offs and the corrections to one address's stored events (any order)."""
    history = History(subject)
    effective = history.effective
    by_org = history.by_org
    names = _NAMES
    amendments: list[dict[str, Any]] = []
    sources: list[dict[str, Any]] = []
    stored = 0
    last_position = 0
    last = None
    late_from = _LATE_FROM
    latest_time = latest_recorded = ""
    for event in events:
        recorded = event["recordedtime"]
        happened = event["time"]
        if happened > latest_time:
            latest_time = happened
        if recorded > latest_recorded:
            latest_recorded = recorded
        if known_at is not None and recorded > known_at:
            continue
        if at is not None and happened > at:
            if event["type"][-17:-3] not in ("EventCorrected", "EventRetracted"):
                continue
            amendments.append(event)  # governs its target whatever its own time; not counted
            continue
        stored += 1
        position = event["streamposition"]
        if position > last_position:
            last_position = position
            last = event
        counts = by_org.get(event["org"])
        if counts is None:
            counts = by_org[event["org"]] = [0, 0]
        counts[0] += 1
        # late registration (G15), inlined `is_late`: the hot path of every rebuild
        day = happened[:10]
        limit = late_from.get(day) or _late_limit(day)
        if recorded[:10] > limit or (recorded[:10] == limit and recorded[10:] > happened[10:]):
            counts[1] += 1
        event_type = event["type"]
        name = names.get(event_type) or name_of(event_type)
        if name == CORRECTED or name == RETRACTED:
            amendments.append(event)
            continue
        effective.append((happened, position, name, event["data"]))
        sources.append(event)
    history.stored = stored
    history.last = last
    history.latest_time = latest_time
    history.latest_recorded = latest_recorded
    if amendments:
        _amend(history, amendments, sources)
    effective.sort()
    return history


def _amend(history: History, amendments: list[dict[str, Any]], sources: list[dict[str, Any]]) -> None:
    """Replace corrected data and drop retracted events (and their G15 counts), in stream order."""
    replaced: dict[str, dict[str, Any]] = {}
    retracted: set[str] = set()
    for event in sorted(amendments, key=lambda e: e["streamposition"]):
        data = event["data"]
        if "corrects" in data:
            replaced[data["corrects"]] = data["data"]
        else:
            retracted.add(data["retracts"])
    kept: list[Effective] = []
    for event, entry in zip(sources, history.effective, strict=True):
        event_id = event["id"]
        if event_id in retracted:
            # a retracted event is not an accepted event (G15): take its counts out again
            counts = history.by_org[event["org"]]
            counts[0] -= 1
            if is_late(event["time"], event["recordedtime"]):
                counts[1] -= 1
            continue
        data = replaced.get(event_id)
        kept.append(entry if data is None else (entry[0], entry[1], entry[2], data))
    history.effective[:] = kept
