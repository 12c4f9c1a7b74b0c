"""The percentiles are exactly the contract's (`statistics.median`, `quantiles(n=10, inclusive)[8]`)."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from projections.stats import (
    kth_of_two_sorted,
    median,
    median_of_two_sorted,
    median_sorted,
    p90,
    p90_sorted,
    per,
    share,
)

values = st.lists(st.floats(min_value=0, max_value=5000, allow_nan=False), min_size=2, max_size=300)


@given(values)
def test_sorted_shortcuts_equal_the_statistics_module(data: list[float]) -> None:
    ordered = sorted(data)
    assert median_sorted(ordered) == statistics.median(data) == median(data)
    assert p90_sorted(ordered) == statistics.quantiles(data, n=10, method="inclusive")[8] == p90(data)


def test_empty_and_single() -> None:
    assert median([]) is None and median_sorted([]) is None and p90([]) is None and p90_sorted([]) is None
    assert p90([7.5]) == p90_sorted([7.5]) == 7.5
    assert share(0, 0) is None and share(1, 4) == 0.25 and per(3, 0, 100) is None and per(1, 3, 1000) == 1000 / 3


small = st.lists(st.floats(min_value=-100, max_value=100, allow_nan=False), max_size=40)


@given(small, small)
def test_median_of_two_sorted_lists_equals_the_median_of_their_merge(a: list[float], b: list[float]) -> None:
    a.sort()
    b.sort()
    merged = sorted(a + b)
    assert median_of_two_sorted(a, b) == median_sorted(merged)
    for k in range(len(merged)):
        assert kth_of_two_sorted(a, b, k) == merged[k]
