"""One address's history as the projections see it: cut-offs applied, corrections folded in.

Contract §0: `known_at` keeps events with `recordedtime` ≤ `known_at` (corrections and
retractions included); a correction replaces the `data` of the event it names, a retraction
removes that event; both are governed by `known_at` alone. `at` keeps events with `time` ≤
`at`. The effective events are ordered by `time`, ties broken by `streamposition`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from domain.catalogue import event_name
from projections.timeutil import days_between

CORRECTED = "EventCorrected"
RETRACTED = "EventRetracted"
LATE_DAYS = 30

_NAMES: dict[str, str] = {}


def name_of(event_type: str) -> str:
    """The catalogue name of a full type (cached: the hot path of every fold)."""
    name = _NAMES.get(event_type)
    if name is None:
        name = _NAMES[event_type] = event_name(event_type)
    return name


@dataclass(slots=True)
class Effective:
    """An accepted event as the fold applies it: corrected `data`, original `time`."""

    time: str
    streamposition: int
    name: str
    data: dict[str, Any]
    org: str


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


def _late(event: dict[str, Any]) -> bool:
    recorded: str = event["recordedtime"]
    happened: str = event["time"]
    if recorded[:10] <= happened[:10]:
        return False  # same day or earlier: never more than 30 days (cheap path)
    return days_between(happened, recorded) > LATE_DAYS


def prepare(
    events: Iterable[dict[str, Any]],
    subject: str,
    at: str | None = None,
    known_at: str | None = None,
) -> History:
    """Apply the cut-offs and the corrections to one address's stored events (any order)."""
    kept: list[tuple[str, dict[str, Any]]] = []
    amendments: list[tuple[int, str, dict[str, Any]]] = []
    for event in events:
        if known_at is not None and event["recordedtime"] > known_at:
            continue
        name = name_of(event["type"])
        kept.append((name, event))
        if name == CORRECTED or name == RETRACTED:
            amendments.append((event["streamposition"], name, event["data"]))

    replaced: dict[str, dict[str, Any]] = {}
    retracted: set[str] = set()
    if amendments:
        amendments.sort(key=lambda item: item[0])
        for _, name, data in amendments:
            if name == CORRECTED:
                replaced[data["corrects"]] = data["data"]
            else:
                retracted.add(data["retracts"])

    history = History(subject)
    last_position = 0
    effective = history.effective
    by_org = history.by_org
    for name, event in kept:
        happened = event["time"]
        if at is not None and happened > at:
            continue
        history.stored += 1
        position = event["streamposition"]
        if position > last_position:
            last_position = position
            history.last = event
        event_id = event["id"]
        if event_id in retracted:
            continue
        counts = by_org.get(event["org"])
        if counts is None:
            counts = by_org[event["org"]] = [0, 0]
        counts[0] += 1
        if _late(event):
            counts[1] += 1
        if name == CORRECTED or name == RETRACTED:
            continue
        data = replaced.get(event_id, event["data"]) if replaced else event["data"]
        effective.append(Effective(happened, position, name, data, event["org"]))
    effective.sort(key=lambda e: (e.time, e.streamposition))
    return history
