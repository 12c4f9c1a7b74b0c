"""An address's history within the cut-offs, with corrections applied (projections.md §0).

The rules are `domain.history`'s, the one implementation the rules and the read side use too:
- `known_at` (transaction time) keeps events with `recordedtime` ≤ it; it alone governs
  corrections and retractions, whatever their own `time`.
- `at` (valid time) keeps events with `time` ≤ it.
- The effective history drops retracted events, replaces corrected `data` (the latest known
  correction wins; the event keeps its `time` and position) and is ordered by `time`, ties by
  `streamposition`.
This module adds what the timeline shows: every known amendment with the data before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.history import AMENDMENTS, CORRECTED, Event, order_key
from domain.history import Step as Amendment
from domain.history import cut as _cut

__all__ = ["AMENDMENT_NAMES", "CORRECTED", "Amendment", "Event", "History", "build_history"]

AMENDMENT_NAMES = AMENDMENTS


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


def build_history(subject: str, events: list[Event], at: str | None, known_at: str | None) -> History:
    """Apply the cut-offs and the known amendments to an address's stored events (stream order)."""
    cut = _cut(events, at, known_at, steps=True)
    amendments: dict[str, list[Amendment]] = {}
    for step in cut.amendments.steps:
        amendments.setdefault(step.target, []).append(step)
    return History(
        subject,
        at,
        known_at,
        known=cut.known,
        visible=sorted(cut.within, key=order_key),
        effective=sorted(cut.effective, key=order_key),
        amendments=amendments,
        not_yet_recorded=cut.not_recorded,
        not_yet_happened=cut.not_happened,
    )
