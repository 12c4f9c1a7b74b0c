"""The timeline: every event within the cut-offs in valid-time order, both times, in words.

Corrections and retractions appear twice: as entries of their own (at their own `time`) and
beside the event they amend, with both versions of its data. Registration later than
`LATE_DAYS` after the event happened is marked with the delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.catalogue import BY_NAME, event_name
from domain.timeutil import days_between
from replay.history import AMENDMENT_NAMES, CORRECTED, Amendment, Event, History
from replay.words import changed_fields, key_data, lane, terms

LATE_DAYS = 30.0


@dataclass(slots=True)
class Entry:
    """One timeline step."""

    seq: int
    id: str
    streamposition: int
    time: str
    recordedtime: str
    org: str
    actor: str | None
    name: str
    dutch: str
    english: str
    lane: str
    data: dict[str, Any]
    summary: str
    delay_days: float
    late: bool
    hash: str
    status: str = "valid"  # valid | corrected | retracted
    amendments: list[dict[str, Any]] = field(default_factory=list)
    amends: dict[str, Any] | None = None
    diff: list[dict[str, Any]] = field(default_factory=list)
    same_moment_as_next: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {slot: getattr(self, slot) for slot in self.__slots__}  # type: ignore[attr-defined]


def _amendment_dict(amendment: Amendment) -> dict[str, Any]:
    event = amendment.event
    return {
        "kind": amendment.kind,
        "id": event["id"],
        "streamposition": event["streamposition"],
        "time": event["time"],
        "recordedtime": event["recordedtime"],
        "org": event["org"],
        "actor": event.get("actor"),
        "reason": event["data"]["reason"],
        "before": amendment.before,
        "after": amendment.after,
        "changed": changed_fields(amendment.before, amendment.after),
    }


def build_timeline(history: History) -> list[Entry]:
    """Entries for `history.visible` (valid-time order), with amendments cross-referenced."""
    by_id = {e["id"]: e for e in history.known}
    retracted = history.retracted
    effective_data = {e["id"]: e["data"] for e in history.effective}
    entries = []
    for seq, event in enumerate(history.visible, start=1):
        name = event_name(event["type"])
        dutch, english = terms(name)
        entry_group = BY_NAME[name].group if name in BY_NAME else "ledger"
        data: dict[str, Any] = effective_data[event["id"]] if event["id"] in effective_data else event["data"]
        delay = days_between(event["time"], event["recordedtime"])
        entry = Entry(
            seq=seq,
            id=event["id"],
            streamposition=event["streamposition"],
            time=event["time"],
            recordedtime=event["recordedtime"],
            org=event["org"],
            actor=event.get("actor"),
            name=name,
            dutch=dutch,
            english=english,
            lane=lane(entry_group, event["org"]),
            data=data,
            summary=key_data(name, data),
            delay_days=round(delay, 6),
            late=delay > LATE_DAYS,
            hash=event["hash"],
        )
        amendments = history.amendments.get(event["id"], [])
        if amendments:
            entry.amendments = [_amendment_dict(a) for a in amendments]
            entry.status = "retracted" if event["id"] in retracted else "corrected"
        if name in AMENDMENT_NAMES:
            entry.amends = _amends(event, name, history, by_id)
        entries.append(entry)
    for current, following in zip(entries, entries[1:], strict=False):
        current.same_moment_as_next = current.time == following.time
    return entries


def _amends(event: Event, name: str, history: History, by_id: dict[str, Event]) -> dict[str, Any]:
    target_id = event["data"]["corrects"] if name == CORRECTED else event["data"]["retracts"]
    target = by_id.get(target_id)
    own = next((a for a in history.amendments.get(target_id, []) if a.event["id"] == event["id"]), None)
    target_name = event_name(target["type"]) if target else None
    return {
        "id": target_id,
        "streamposition": target["streamposition"] if target else None,
        "time": target["time"] if target else None,
        "name": target_name,
        "dutch": terms(target_name)[0] if target_name else None,
        "before": own.before if own else None,
        "after": own.after if own else None,
        "changed": changed_fields(own.before, own.after) if own else [],
    }
