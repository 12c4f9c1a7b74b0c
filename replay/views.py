"""The joint case view the replay shows: the projections' own pure fold, never a copy of it."""

from __future__ import annotations

from typing import Any

from projections.caseview import case_view
from replay.history import Event


def projection_view(
    events: list[Event], subject: str, at: str | None, known_at: str | None, now: str
) -> dict[str, Any]:
    """`projections.caseview.case_view` with every argument explicit (see `replay.steps.ViewFn`)."""
    return case_view(events, subject, at, known_at, now)
