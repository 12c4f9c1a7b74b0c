"""Periods derived from an effective history: samenloop episodes and data-exchange bases.

All functions take the effective history (corrections applied, retracted events dropped,
ordered by `time` then `streamposition`) and return half-open periods `[start, end)` in UTC
text; `end` is None while the period is still open at the end of the history.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.catalogue import event_name
from domain.history import derive
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

    `domain.history.Derived`, the read side's own: an episode starts at the first moment both
    hold and ends at the first moment either stops holding; events sharing one `time` take effect
    together, so no episode has zero length.
    """
    return [Period(start, end) for start, end in derive(effective).episodes]  # type: ignore[arg-type]


def consent_periods(effective: list[Event], direction: str) -> list[Period]:
    """Periods in which a resident's consent covers `direction` (scope it or `both`).

    A `ConsentToDataExchangeRevoked` ends the consent its `party_ref` gave; a new consent by
    the same party replaces the old one. Like samenloop, consent is the state after every event
    of a moment (§0 "Moments"): given and revoked at one `time` it never held.
    """
    scopes: dict[str, str] = {}
    periods: list[Period] = []
    start: str | None = None
    for index, event in enumerate(effective):
        name = event_name(event["type"])
        if name == "ConsentToDataExchangeGiven":
            scopes[event["data"]["party_ref"]] = event["data"]["scope"]
        elif name == "ConsentToDataExchangeRevoked":
            scopes.pop(event["data"]["party_ref"], None)
        if index + 1 < len(effective) and effective[index + 1]["time"] == event["time"]:
            continue  # not the last event of its moment
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
