"""Time arithmetic for the generator: integer microseconds since 2018-01-01 UTC.

Every internal time is an `int` of microseconds since `EPOCH`; a day index is
`t // DAY`. 2018-01-01 was a Monday, so `day % 7` is the weekday (0 = Monday).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta

EPOCH = date(2018, 1, 1)
SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def day_of(d: date) -> int:
    """Day index of a calendar date."""
    return (d - EPOCH).days


def d(year: int, month: int = 1, day: int = 1) -> int:
    """Day index of year-month-day (short form for parameter tables)."""
    return (date(year, month, day) - EPOCH).days


_YEARS = [(EPOCH + timedelta(days=i)).year for i in range(40 * 366)]


def year_of_day(day: int) -> int:
    """Calendar year of a day index."""
    return _YEARS[day] if 0 <= day < len(_YEARS) else (EPOCH + timedelta(days=day)).year


class Formatter:
    """Formats times as `YYYY-MM-DDTHH:MM:SS.ffffffZ` from precomputed string tables."""

    __slots__ = ("days", "day_t", "hms", "milli", "micro")

    def __init__(self, n_days: int) -> None:
        self.days = [(EPOCH + timedelta(days=i)).isoformat() for i in range(n_days)]
        self.day_t = [f"{x}T" for x in self.days]
        self.hms = [f"{h:02d}:{m:02d}:{s:02d}." for h in range(24) for m in range(60) for s in range(60)]
        self.milli = [f"{i:03d}" for i in range(1000)]
        self.micro = [f"{i:03d}Z" for i in range(1000)]

    def __call__(self, t: int) -> str:
        rest = t % DAY
        return (
            self.day_t[t // DAY] + self.hms[rest // SECOND] + self.milli[rest // 1000 % 1000] + self.micro[rest % 1000]
        )


class Curve:
    """A non-decreasing piecewise-linear function of the day index, with its inverse.

    Used both for cumulative shares (milestone curves) and cumulative volumes (rate profiles).
    """

    __slots__ = ("xs", "ys")

    def __init__(self, knots: list[tuple[float, float]]) -> None:
        self.xs = [float(x) for x, _ in knots]
        self.ys = [float(y) for _, y in knots]
        if any(b < a for a, b in zip(self.ys, self.ys[1:], strict=False)):
            raise ValueError("curve values must not decrease")

    def at(self, x: float) -> float:
        """Value at day `x` (flat outside the knots)."""
        xs, ys = self.xs, self.ys
        if x <= xs[0]:
            return ys[0]
        if x >= xs[-1]:
            return ys[-1]
        i = bisect_left(xs, x)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    def inv(self, y: float) -> float | None:
        """The first day where the curve reaches `y`, or None when it never does."""
        ys = self.ys
        if y > ys[-1]:
            return None
        if y <= ys[0]:
            return self.xs[0]
        i = bisect_left(ys, y)
        x0, x1, y0, y1 = self.xs[i - 1], self.xs[i], ys[i - 1], ys[i]
        return x0 + (x1 - x0) * (y - y0) / (y1 - y0)


def yearly_profile(totals: dict[int, float], starts: dict[int, int] | None = None) -> Curve:
    """A cumulative-volume curve from per-year totals, spread evenly over each year.

    `starts` may move a year's first day (e.g. a scheme that opened mid-year).
    """
    knots: list[tuple[float, float]] = []
    acc = 0.0
    for year in sorted(totals):
        first = (starts or {}).get(year, d(year))
        if not knots or knots[-1][0] < first:
            knots.append((first, acc))
        acc += totals[year]
        knots.append((d(year + 1), acc))
    return Curve(knots)
