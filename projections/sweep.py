"""The aggregates of a series (projections §5) in one sweep of the log instead of one fold per point.

What the cut-offs keep of an address's history depends only on how each of its events compares
with them (`domain.history.standing`: its `recordedtime` with `known_at`, its `time` with `at`).
Between two points of a series, an address none of whose events has a `time` (or, as known
then, a `recordedtime`) in between keeps the same history, so it folds to the same summary.
So the sweep reads the log once, notes for each address the points at which its history
changes, and walks the points in order, folding again only the addresses that change there:
the aggregate at each point is the one a fold of the whole log at that point's cut-offs gives
(`tests/projections/test_series.py` compares them), for about one fold per event instead of
one per address and point.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator, Sequence

import orjson

from projections.figures import Aggregate
from projections.fold import fold
from projections.history import prepare
from projections.projector import RawReader, scan
from projections.summary import summarize

_loads = orjson.loads


def grouped(read_raw: RawReader, until: int) -> dict[str, list[bytes]]:
    """The raw events of the log's positions 1..`until` by address (what `sweep` walks)."""
    return scan(read_raw, 0, until)


def sweep(
    groups: dict[str, list[bytes]], points: Sequence[str], known_then: bool
) -> Iterator[tuple[str, Aggregate, int]]:
    """(point, aggregate, events counted) at each point of `points` (ascending) of the events
    `groups` (`grouped`): with `known_then` at `at=known_at=point`, else at `at=point`.

    The aggregate is one object changed in place from point to point: read it before the next.
    """
    changes: list[list[str]] = [[] for _ in points]
    n = len(points)
    for subject, bodies in groups.items():
        marks: set[int] = set()
        for body in bodies:
            event = _loads(body)
            marks.add(bisect_left(points, event["time"]))  # the first point whose `at` includes it
            if known_then:
                marks.add(bisect_left(points, event["recordedtime"]))
        for k in marks:
            if k < n:
                changes[k].append(subject)
    agg = Aggregate()
    current: dict[str, tuple[dict[str, object], int]] = {}
    events = 0
    for k, point in enumerate(points):
        known_at = point if known_then else None
        for subject in changes[k]:
            old = current.pop(subject, None)
            if old is not None:
                agg.add(subject, old[0], -1)
                events -= old[1]
            history = prepare(map(_loads, groups[subject]), subject, point, known_at)
            if history.stored:
                summary = summarize(fold(history))
                agg.add(subject, summary)
                current[subject] = (summary, history.stored)
                events += history.stored
        yield point, agg, events
