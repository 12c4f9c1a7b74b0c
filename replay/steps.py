"""The joint case view at every step of the timeline, and what changed at each step.

The view after a step is by definition the projections' own `case_view` with `at` = the
step's `time`, the replay's `known_at` and "now" = that time (as `ledger case` takes it for an
`at`): exactly what `ledger case --at <time> --known-at <known_at>` shows. Events sharing one
`time` form one step (no cut-off can separate them); the change is shown on the last of them.

`reference_views` computes that definition literally, one `case_view` per step (quadratic).
`incremental_views` gets the same views in one pass (the projections' `views_at`), snapshotting
the view after each step; `fill_diffs` uses it and still checks its final view against
`case_view`, falling back to the reference if they ever differ (a verified replay trusts the
definition). tests/projections and tests/replay check both agree on random histories.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import orjson

from projections.caseview import views_at
from replay.diff import StepDiffer
from replay.history import Event
from replay.timeline import Entry

ViewFn = Callable[[list[Event], str, str | None, str | None, str], dict[str, Any]]


def step_moments(entries: list[Entry]) -> list[int]:
    """Indexes of the entries that end a step (the last entry of each distinct `time`)."""
    return [i for i, entry in enumerate(entries) if not entry.same_moment_as_next]


def reference_views(
    events: list[Event], subject: str, moments: list[str], known_at: str | None, view: ViewFn
) -> list[dict[str, Any]]:
    """The view at each moment, by the definition: one `case_view` call per moment."""
    return [view(events, subject, moment, known_at, moment) for moment in moments]


def incremental(
    events: list[Event], subject: str, moments: list[str], known_at: str | None
) -> Iterator[dict[str, Any]]:
    """The view at each moment (ascending), folding each event once: the projections' `views_at`."""
    return views_at(events, subject, moments, known_at)


def incremental_views(
    events: list[Event], subject: str, moments: list[str], known_at: str | None
) -> list[dict[str, Any]]:
    """The same views as `reference_views`, from one pass (each one a snapshot)."""
    return [orjson.loads(orjson.dumps(v)) for v in incremental(events, subject, moments, known_at)]


def fill_diffs(
    entries: list[Entry],
    events: list[Event],
    subject: str,
    known_at: str | None,
    view: ViewFn,
    baseline: dict[str, Any] | None,
) -> tuple[dict[str, Any] | None, str]:
    """Set each step's `diff`; return the view after the last step and the method used.

    Uses the one-pass fold and checks its last view against `view` (`case_view`); should
    they ever differ, every step is recomputed by the definition (`reference_views`).
    """
    ends = step_moments(entries)
    if not ends:
        return None, "none"
    moments = [entries[i].time for i in ends]
    expected = view(events, subject, moments[-1], known_at, moments[-1])
    differ = StepDiffer(baseline)
    last: dict[str, Any] = {}
    try:
        for index, current in zip(ends, incremental(events, subject, moments, known_at), strict=True):
            entries[index].diff = differ.step(current)
            last = current
        if orjson.loads(orjson.dumps(last)) == expected:
            return expected, "incremental"
    except Exception:  # noqa: BLE001 - should the one-pass fold ever fail, the definition decides
        pass
    differ = StepDiffer(baseline)
    views = reference_views(events, subject, moments, known_at, view)
    for index, current in zip(ends, views, strict=True):
        entries[index].diff = differ.step(current)
    return views[-1], "reference"
