"""The state of one generation run and the small random helpers every model uses."""

from __future__ import annotations

import random
from bisect import bisect_right
from collections.abc import Sequence
from functools import lru_cache
from math import exp, log
from typing import Generic, TypeVar

from ledger.generator import params as P
from ledger.generator.timeline import DAY, HOUR, MINUTE, Formatter

V = TypeVar("V")
_VARIANT = {c: "89ab"[i % 4] for i, c in enumerate("0123456789abcdef")}

OFFICE_START = 8 * HOUR
OFFICE_SPAN = 9 * HOUR + 30 * MINUTE
PORTAL_START = 7 * HOUR
PORTAL_SPAN = 16 * HOUR


class Table(Generic[V]):
    """A weighted choice table: `pick(r)` maps a uniform number in [0, 1) to a value."""

    __slots__ = ("values", "cum")

    def __init__(self, weighted: Sequence[tuple[V, float]]) -> None:
        self.values = [v for v, _ in weighted]
        total = sum(w for _, w in weighted)
        acc = 0.0
        self.cum: list[float] = []
        for _, w in weighted:
            acc += w / total
            self.cum.append(acc)
        self.cum[-1] = 1.0

    def pick(self, u: float) -> V:
        return self.values[bisect_right(self.cum, u)]


@lru_cache(maxsize=4)
def formatter(n_days: int) -> Formatter:
    """One time formatter per process (its tables take a moment to build)."""
    return Formatter(n_days)


class Ctx:
    """Random source, horizon, counters for publisher references, and output buffers."""

    def __init__(self, seed: int | str, horizon_day: int, cut_day: int, ref_base: int = 0) -> None:
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.horizon_day = horizon_day
        self.end = (horizon_day + 1) * DAY  # simulated history ends before this instant
        self.cut = (cut_day + 1) * DAY  # emitted events are recorded before this instant
        self.ref_base = ref_base  # publisher references of this run part start after it
        self.fmt = formatter(horizon_day + 800)
        self.counters: dict[str, int] = {}
        # per-run constants of the horizon
        self.top_added = P.ADDED_SHARE.at(horizon_day)
        self.top_physical = P.PHYSICAL_FILED.at(horizon_day)
        self.top_value_loss = P.VALUE_LOSS_FILED.at(horizon_day)
        self.top_immaterial = P.IMMATERIAL_FILED.at(horizon_day)
        self.buf = bytearray()  # every encoded line, back to back
        self.starts: list[int] = []  # where each line starts in `buf`
        self.keys: list[float] = []  # its recorded time (microseconds), the sort key

    # -- references ---------------------------------------------------------------------------
    def ref(self, prefix: str) -> str:
        """The next publisher reference with this prefix, e.g. `SM-00001234`."""
        n = self.counters.get(prefix, 0) + 1
        self.counters[prefix] = n
        return f"{prefix}-{self.ref_base + n:08d}"

    def uuid(self) -> str:
        """A version-4 UUID string from the run's random source."""
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"

    # -- times ----------------------------------------------------------------------------------
    def office(self, day: float) -> int:
        """A time during office hours on that day, moved to Monday when it falls in a weekend."""
        dd = int(day)
        wd = dd % 7
        if wd >= 5:
            dd += 7 - wd
        return dd * DAY + OFFICE_START + int(self.r() * OFFICE_SPAN)

    def anytime(self, day: float) -> int:
        """A time between 07:00 and 23:00 on that day (residents, the portal)."""
        return int(day) * DAY + PORTAL_START + int(self.r() * PORTAL_SPAN)

    def after(self, base: int, lo_days: float, hi_days: float, portal: bool = False) -> int:
        """An office time lo..hi days after `base`, and strictly later than `base`."""
        day = base / DAY + lo_days + self.r() * (hi_days - lo_days)
        t = self.anytime(day) if portal else self.office(day)
        if t <= base:
            t = base + MINUTE + int(self.r() * 2 * HOUR)
        return t

    def later(self, base: int, t: int) -> int:
        """`t` itself when it is after `base`, else a few minutes after `base`."""
        return t if t > base else base + MINUTE + int(self.r() * HOUR)

    def uniform(self, lo: float, hi: float) -> float:
        return lo + self.r() * (hi - lo)

    def lognormal_days(self, median: float, sigma: float) -> float:
        return median * exp(sigma * self.rng.gauss(0.0, 1.0))

    def exp_days(self, mean: float) -> float:
        return -mean * log(1.0 - self.r())

    def poisson(self, lam: float) -> int:
        """A Poisson count (Knuth's method; the rates here are small)."""
        if lam <= 0.0:
            return 0
        if lam > 30.0:
            return max(0, int(self.rng.gauss(lam, lam**0.5) + 0.5))
        limit = exp(-lam)
        k = 0
        p = self.r()
        while p > limit:
            k += 1
            p *= self.r()
        return k
