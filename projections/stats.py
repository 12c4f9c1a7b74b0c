"""Percentiles and shares exactly as contract §3 defines them; an empty set gives None."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def median(values: Sequence[float]) -> float | None:
    """`statistics.median`, or None for no values."""
    return statistics.median(values) if values else None


def median_sorted(values: Sequence[float]) -> float | None:
    """`statistics.median` of values already in ascending order, without sorting again."""
    n = len(values)
    if n == 0:
        return None
    i = n // 2
    if n % 2 == 1:
        return values[i]
    return (values[i - 1] + values[i]) / 2


def p90(values: Sequence[float]) -> float | None:
    """`statistics.quantiles(values, n=10, method="inclusive")[8]`; one value is its own p90."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]  # Python 3.13's quantiles gives this; 3.11 raises
    return statistics.quantiles(values, n=10, method="inclusive")[8]


def p90_sorted(values: Sequence[float]) -> float | None:
    """`p90` of values already in ascending order: `quantiles`' own interpolation for the 9th cut."""
    n = len(values)
    if n == 0:
        return None
    if n == 1:
        return values[0]
    j, delta = divmod(9 * (n - 1), 10)
    return (values[j] * (10 - delta) + values[j + 1] * delta) / 10


def share(part: int, whole: int) -> float | None:
    """A fraction in [0, 1], None over an empty set."""
    return part / whole if whole else None


def per(part: int, whole: int, scale: int) -> float | None:
    """A rate per `scale` (100, 1000), None over an empty set."""
    return part * scale / whole if whole else None


def kth_of_two_sorted(a: Sequence[float], b: Sequence[float], k: int) -> float:
    """The `k`-th smallest (0-based) value of two ascending sequences together, in O(log n) lookups."""
    need = k + 1
    lo, hi = max(0, need - len(b)), min(need, len(a))
    while lo < hi:  # the fewest taken from `a` such that a[i] is not below the largest taken from `b`
        i = (lo + hi) // 2
        if a[i] < b[need - i - 1]:
            lo = i + 1
        else:
            hi = i
    j = need - lo
    if lo == 0:
        return b[j - 1]
    if j == 0:
        return a[lo - 1]
    return max(a[lo - 1], b[j - 1])


def median_of_two_sorted(a: Sequence[float], b: Sequence[float]) -> float | None:
    """`median_sorted` of the merged values of two ascending sequences, without merging them."""
    n = len(a) + len(b)
    if n == 0:
        return None
    if n % 2 == 1:
        return kth_of_two_sorted(a, b, n // 2)
    return (kth_of_two_sorted(a, b, n // 2 - 1) + kth_of_two_sorted(a, b, n // 2)) / 2
