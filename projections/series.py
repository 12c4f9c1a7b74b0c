"""Figures over time (projections §5, version 1.1): which points a series has, and which figures.

`plan(start, end, step, ids)` checks a series request and names its points: the end of each
calendar step (month, quarter, year; UTC) that falls within `start` … `end` (both cut-offs as
the queries take them: a date means the end of that day). Each point `p` is answered twice,
as known then (`at=p`, `known_at=p`) and as known now (`at=p`), by `ReadModel.series`.
A bad request raises `BadSeries` naming the parameter (`from`, `to`, `step`, `ids`); each
door prefixes it its own way (`--from` on the command line).
"""

from __future__ import annotations

import calendar
from typing import NamedTuple

STEPS = {"month": 1, "quarter": 3, "year": 12}
MAX_POINTS = 500
FIGURE_IDS = tuple(f"G{n}" for n in range(1, 16))


class BadSeries(ValueError):
    """A series request the contract does not allow; `parameter` is the one to fix."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class Plan(NamedTuple):
    """A checked series request: its cut-offs, step, figure ids and points (ascending)."""

    start: str
    end: str
    step: str
    ids: tuple[str, ...]
    points: tuple[str, ...]


def figure_ids(text: str | None) -> tuple[str, ...]:
    """The G figure ids of a comma-separated list (None: all), in the contract's order."""
    if text is None:
        return FIGURE_IDS
    asked = [part.strip() for part in text.split(",")]
    if not any(asked):
        raise BadSeries("ids", "ids is empty: name G figures (G1 … G15), separated by commas, or leave it out")
    for figure in asked:
        if figure not in FIGURE_IDS:
            raise BadSeries("ids", f"unknown figure id {figure!r}: a series has the G figures G1 … G15")
    return tuple(f for f in FIGURE_IDS if f in asked)


def step_ends(start: str, end: str, step: str) -> tuple[str, ...]:
    """The ends of the calendar steps that fall within `start` … `end` (UTC texts), ascending."""
    months = STEPS.get(step)
    if months is None:
        raise BadSeries("step", f"unknown step {step!r}: month, quarter or year")
    if start > end:
        raise BadSeries("from", f"from ({start}) is after to ({end})")
    index = (int(start[:4]) * 12 + int(start[5:7]) - 1) // months * months  # the step holding `start`
    points: list[str] = []
    while True:
        year, month = divmod(index + months - 1, 12)  # the step's last month
        month += 1
        point = f"{year:04d}-{month:02d}-{calendar.monthrange(year, month)[1]:02d}T23:59:59.999999Z"
        if point > end:
            return tuple(points)
        if point >= start:
            points.append(point)
            if len(points) > MAX_POINTS:
                raise BadSeries(
                    "to", f"from … to by {step} has more than {MAX_POINTS} points: a longer step or a shorter range"
                )
        if year == 9999 and month == 12:
            return tuple(points)
        index += months


def plan(start: str, end: str, step: str, ids: str | None = None) -> Plan:
    """A checked series request (`start`/`end` as `domain.timeutil.query_time` gives them)."""
    points = step_ends(start, end, step)
    return Plan(start, end, step, figure_ids(ids), points)
