"""One address's history as the projections see it: cut-offs applied, corrections folded in.

The rules are `domain.history`'s (contract §0), the one implementation the rules and the replay
use too: `standing` decides what the cut-offs keep (`known_at` governs corrections and
retractions alone), `resolve` applies the known amendments (a corrected event keeps its `time`
and position), and the effective events are ordered by `time`, ties broken by `streamposition`.

This runs for every event of a rebuild, so it works on tuples and avoids parsing times; without
cut-offs every event is within them, and `standing` is not asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from domain.history import CORRECTED, GOVERNS, RETRACTED, TYPE_NAMES, WITHIN, name_of, resolve, standing

LATE_DAYS = 30

# (time, streamposition, name, data): what a fold applies, in time order
Effective = tuple[str, int, str, dict[str, Any]]

_LATE_FROM: dict[str, str] = {}


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
    names = TYPE_NAMES
    cutting = at is not None or known_at is not None
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
        if cutting:
            place = standing(event, at, known_at)
            if place != WITHIN:
                if place == GOVERNS:
                    amendments.append(event)  # applies to its target whatever its own time; not counted
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
    """Apply the known amendments (`domain.history.resolve`, in stream order) to the effective
    tuples, and take the G15 counts of retracted events out again."""
    amended = resolve(sorted(amendments, key=lambda e: e["streamposition"]))
    kept: list[Effective] = []
    for event, entry in zip(sources, history.effective, strict=True):
        data = amended.data_of(event["id"], entry[3])
        if data is None:
            # a retracted event is not an accepted event (G15): take its counts out again
            counts = history.by_org[event["org"]]
            counts[0] -= 1
            if is_late(event["time"], event["recordedtime"]):
                counts[1] -= 1
            continue
        kept.append(entry if data is entry[3] else (entry[0], entry[1], entry[2], data))
    history.effective[:] = kept
