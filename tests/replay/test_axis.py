"""The history's time axis is to scale: a dot's distance from the start is proportional to the
time since the first moment, and silences over 180 days are marked with their length."""

from __future__ import annotations

import re
from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.timeutil import format_utc, parse_utc
from replay.axis import LEFT, RIGHT, axis_svg

START = parse_utc("2019-01-01T00:00:00.000000Z")


def _report(days: list[int], arose: list[int]) -> dict[str, object]:
    lanes = ("IMG", "shared", "NCG")
    timeline = [
        {
            "seq": n,
            "time": format_utc(START + _days(d)),
            "lane": lanes[n % 3],
            "dutch": "stap",
            "english": "step",
        }
        for n, d in enumerate(sorted(days), start=1)
    ]
    findings = [{"arose_at": format_utc(START + _days(d)), "title": "finding"} for d in arose]
    return {"timeline": timeline, "findings": findings}


def _days(n: int) -> timedelta:
    return timedelta(days=n)


@given(
    st.lists(st.integers(0, 3000), min_size=2, max_size=12, unique=True),
    st.lists(st.integers(0, 3000), max_size=3),
)
def test_dots_are_placed_to_scale(days: list[int], arose: list[int]) -> None:
    svg = axis_svg(_report(days, arose))
    xs = [float(x) for x in re.findall(r'<circle cx="([0-9.]+)"', svg)]
    assert len(xs) == len(days)
    first, last = min(days + arose), max(days + arose)
    for x, d in zip(xs, sorted(days), strict=True):
        expected = LEFT + (RIGHT - LEFT) * (d - first) / (last - first)
        assert abs(x - expected) <= 0.1
    gaps = [b - a for a, b in zip(sorted(days), sorted(days)[1:], strict=False) if b - a > 180]
    assert sorted(int(n) for n in re.findall(r"<title>(\d+) days without an event</title>", svg)) == sorted(gaps)
    assert svg.count("<path") == len(arose)


def test_no_events_no_axis() -> None:
    assert axis_svg({"timeline": [], "findings": []}) == ""
