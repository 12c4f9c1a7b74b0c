"""Periods derived from an effective history: samenloop episodes and data-exchange bases.

All functions take the effective history (corrections applied, retracted events dropped,
ordered by `time` then `streamposition`) and return half-open periods `[start, end)` in UTC
text; `end` is None while the period is still open at the end of the history.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalogue import event_name
from replay.history import Event

DIRECTIONS = ("img_to_ncg", "ncg_to_img")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open period; `end` None means still open at the end of the history."""

    start: str
    end: str | None

    def contains(self, moment: str, until: str) -> bool:
        """Whether `moment` lies in the period, an open period counting up to `until`."""
        return self.start <= moment and (moment < self.end if self.end is not None else moment <= until)


def samenloop_episodes(effective: list[Event]) -> list[Period]:
    """Episodes in which the address is in the programme and has a pending claim (§0).

    An episode starts at the first moment both hold and ends at the first moment either stops
    holding. Events sharing one `time` are taken together, so no zero-length episodes arise.
    """
    in_programme = False
    pending: set[str] = set()
    episodes: list[Period] = []
    start: str | None = None
    for index, event in enumerate(effective):
        name = event_name(event["type"])
        data = event["data"]
        if name == "AddressAddedToProgramme":
            in_programme = True
        elif name == "AddressRemovedFromProgramme":
            in_programme = False
        elif name == "DamageClaimFiled":
            pending.add(data["claim_id"])
        elif name == "ClaimDecided":
            pending.difference_update(data["claim_ids"])
        elif name == "ClaimWithdrawn":
            pending.discard(data["claim_id"])
        last_of_moment = index + 1 == len(effective) or effective[index + 1]["time"] != event["time"]
        if not last_of_moment:
            continue
        active = in_programme and bool(pending)
        if active and start is None:
            start = event["time"]
        elif not active and start is not None:
            episodes.append(Period(start, event["time"]))
            start = None
    if start is not None:
        episodes.append(Period(start, None))
    return episodes


def consent_periods(effective: list[Event], direction: str) -> list[Period]:
    """Periods in which a resident's consent covers `direction` (scope it or `both`).

    A `ConsentToDataExchangeRevoked` ends the consent its `party_ref` gave; a new consent by
    the same party replaces the old one.
    """
    scopes: dict[str, str] = {}
    periods: list[Period] = []
    start: str | None = None
    for event in effective:
        name = event_name(event["type"])
        if name == "ConsentToDataExchangeGiven":
            scopes[event["data"]["party_ref"]] = event["data"]["scope"]
        elif name == "ConsentToDataExchangeRevoked":
            scopes.pop(event["data"]["party_ref"], None)
        else:
            continue
        active = any(scope in (direction, "both") for scope in scopes.values())
        if active and start is None:
            start = event["time"]
        elif not active and start is not None:
            periods.append(Period(start, event["time"]))
            start = None
    if start is not None:
        periods.append(Period(start, None))
    return periods


def union(periods: list[Period]) -> list[Period]:
    """Merge overlapping or touching periods into maximal ones, ordered by start."""
    merged: list[Period] = []
    for period in sorted(periods, key=lambda p: p.start):
        if merged:
            last = merged[-1]
            if last.end is None or period.start <= last.end:
                end = None if last.end is None or period.end is None else max(last.end, period.end)
                merged[-1] = Period(last.start, end)
                continue
        merged.append(period)
    return merged
