"""Governance metrics G1–G15 (§2) and evaluation figures E1–E6 (§3) from per-address summaries.

An `Aggregate` adds up the summaries: counters and multisets that an address's summary can
be added to and taken out of again, so the figures are maintained as addresses change rather
than recomputed. What depends on "now" (G7, G11, E4) or the pivot (E3, E6) is finished at
query time from sorted views of the multisets, which are cached until the aggregate changes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import chain, repeat
from typing import Any, overload

from domain.history import COORDINATOR_DAYS
from projections.stats import median_of_two_sorted, median_sorted, p90_sorted, per, share
from projections.timeutil import add_days, to_dt

OPEN_END = "~"  # sorts after every time: an episode still running
NO_VALUE = -1.0
LAST_DECISIONS = 2500
WITHIN_DAYS = 182
PENDING_DAYS = 730
PHASES = ("1", "2", "3", "4", "5", "6")
CLOSE_REASONS = ("built", "meets_norm", "other")


class Aggregate:
    """The sum of the per-address summaries of a ledger (as of some position)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._bags: dict[str, Counter[Hashable]] = {}
        # multisets still encoded (a stored base, `projections.persisted`): name -> a function that
        # decodes it into (item -> count, whether in ascending order); decoded when first used
        self._encoded: dict[str, Callable[[], tuple[dict[Hashable, int], bool]]] = {}
        self.version = 0
        self._sorted: dict[str, list[Any]] = {}  # kept sorted as items come and go
        self._edits: dict[str, int] = {}  # edits of a sorted list since it was built
        self._cache: dict[Hashable, tuple[int, Any]] = {}

    @property
    def bags(self) -> dict[str, Counter[Hashable]]:
        """Every multiset by name (those still encoded are decoded first)."""
        for name in list(self._encoded):
            self._decode(name)
        return self._bags

    @bags.setter
    def bags(self, bags: dict[str, Counter[Hashable]]) -> None:
        """Replace every multiset (an encoded one too)."""
        self._encoded.clear()
        self._sorted.clear()
        self._bags = bags

    def bag_names(self) -> list[str]:
        """The names of every multiset, without decoding any."""
        return [*self._bags, *(name for name in self._encoded if name not in self._bags)]

    def encoded(self, name: str, decode: Callable[[], tuple[dict[Hashable, int], bool]]) -> None:
        """Set the multiset `name` from an encoded form, decoded when first used: `decode()` gives
        (item -> count, whether the items are in ascending order). A stored base (`projections.persisted`)
        is read this way: `ledger metrics` decodes the few multisets it needs, not all of them."""
        self._bags.pop(name, None)
        self._sorted.pop(name, None)
        self._encoded[name] = decode

    def _decode(self, name: str) -> None:
        decode = self._encoded.pop(name, None)
        if decode is not None:
            items, ascending = decode()
            if ascending:
                self.load_sorted(name, items)
            else:
                self._bags[name] = Counter(items)

    def seed(self, key: Hashable, value: Any) -> None:
        """`cached(key, …)` answers `value` until the aggregate changes (figures stored with a base)."""
        self._cache[key] = (self.version, value)

    # -- maintenance ------------------------------------------------------------------------
    def _count(self, key: str, n: int) -> None:
        value = self.counts[key] + n
        if value:
            self.counts[key] = value
        else:
            del self.counts[key]

    def _bag(self, name: str, item: Hashable, n: int) -> None:
        bag = self._bags.get(name)
        if bag is None:
            if name in self._encoded:
                self._decode(name)
                self._bag(name, item, n)
                return
            bag = self._bags[name] = Counter()
        value = bag[item] + n
        if value:
            bag[item] = value
        else:
            del bag[item]
        values = self._sorted.get(name)
        if values is not None:
            edits = self._edits[name] = self._edits[name] + abs(n)
            if edits > len(values) // 32 + 64:
                del self._sorted[name]  # many changes: sorting again is cheaper than inserting
            elif n > 0:
                for _ in range(n):
                    insort(values, item)
            else:
                for _ in range(-n):
                    del values[bisect_left(values, item)]

    def add(self, subject: str, s: dict[str, Any], sign: int = 1) -> None:
        """Add (sign 1) or take out (sign -1) one address's summary."""
        self.version += 1
        contribute(subject, s, sign, self._count, self._bag)

    def apply_changes(self, counts: dict[str, int], bags: dict[str, dict[Hashable, int]]) -> None:
        """Add signed counts and multiset changes (a stored delta, `projections.persisted`)."""
        self.version += 1
        for key, n in counts.items():
            self._count(key, n)
        for name, items in bags.items():
            for item, n in items.items():
                self._bag(name, item, n)

    def copy(self) -> Aggregate:
        """An independent aggregate with the same sums (its sorted views are built again when asked)."""
        other = Aggregate()
        other.counts = self.counts.copy()
        other._bags = {name: bag.copy() for name, bag in self._bags.items()}
        other._encoded = dict(self._encoded)  # decoding makes new objects: both may share the encoded form
        other.version = self.version
        return other

    def add_all(self, summaries: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Add many summaries: collected into lists first and counted at C speed (~3x `add` each)."""
        counts: dict[str, int] = {}
        items: dict[str, list[Any]] = {}

        def count(key: str, n: int) -> None:
            counts[key] = counts.get(key, 0) + n

        def bag(name: str, item: Any, n: int) -> None:
            values = items.get(name)
            if values is None:
                values = items[name] = []
            values.append(item)

        for subject, summary in summaries:
            contribute(subject, summary, 1, count, bag)
        self.version += 1
        self.counts.update(counts)
        self.counts = +self.counts  # drop what summed to zero, as `_count` does
        for name, values in items.items():
            self._decode(name)
            target = self._bags.get(name)
            if target is None:
                target = self._bags[name] = Counter()
            target.update(values)
            self._sorted.pop(name, None)

    def load_sorted(self, name: str, items: dict[Hashable, int]) -> None:
        """Set the multiset `name` from `items` (item -> count) given in ascending order, with its
        sorted view built without sorting (a stored base, `projections.persisted`)."""
        self._encoded.pop(name, None)
        self._bags[name] = Counter(items)
        self._sorted[name] = list(chain.from_iterable(repeat(item, n) for item, n in items.items()))
        self._edits[name] = 0

    # -- sorted views -----------------------------------------------------------------------
    def sorted(self, name: str) -> list[Any]:
        """The multiset `name` as an ascending list (maintained as the aggregate changes)."""
        values = self._sorted.get(name)
        if values is None and name in self._encoded:
            self._decode(name)
            values = self._sorted.get(name)
        if values is None:
            bag = self._bags.get(name)
            values = self._sorted[name] = sorted(bag.elements()) if bag else []
            self._edits[name] = 0
        return values

    def cached(self, key: Hashable, compute: Any) -> Any:
        hit = self._cache.get(key)
        if hit is not None and hit[0] == self.version:
            return hit[1]
        value = compute()
        self._cache[key] = (self.version, value)
        return value

    def years(self, prefix: str) -> list[str]:
        return sorted(k[len(prefix) :] for k in self.counts if k.startswith(prefix))


Count = Callable[[str, int], None]
Bag = Callable[[str, Any, int], None]
Part = Callable[[str, dict[str, Any], int, Count, Bag], None]


def contribute(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    """What one address's summary adds to (sign 1) or takes from (sign -1) the counters and multisets."""
    for _, part in PARTS:
        part(subject, s, sign, count, bag)


def _add_addresses(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    count("addresses", sign)


def _add_programme(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    phase = s.get("programme")
    if phase is not None:
        count("programme", sign)
        count(f"phase:{phase}", sign)
        if "filed" not in s:
            count("no_claim", sign)


def _add_closed(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    if "closed" in s:
        count(f"closed:{s['closed']}", sign)


def _add_filed(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    for year, n in s.get("filed", {}).items():
        count(f"filed:{year}", n * sign)


def _add_samenloop(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    if "samenloop" in s:
        count("samenloop", sign)


def _add_coordination(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    if "sl_first" in s:
        count("ever", sign)
        bag("sl_first", s["sl_first"], sign)
        bag("sl_end", s["sl_end"] or OPEN_END, sign)
        for key in ("offered", "agreed", "coordinator", "joint"):
            if s[key]:
                count(key, sign)
        if "s2c" in s:
            bag("s2c", s["s2c"], sign)
        bag("visits:agreed" if s["agreed"] else "visits:not_agreed", s["visits"], sign)


def _add_decisions(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    for t, decision_id, lead, outcome, objected, claims in s.get("decisions", ()):
        year = t[:4]
        count(f"decided_claims:{year}", claims * sign)
        count(f"decisions:{year}", sign)
        if outcome == "rejected":
            count(f"rejected:{year}", sign)
        if objected:
            count(f"objected:{year}", sign)
        if lead is not None:
            bag("g8", (t, subject, decision_id, lead), sign)


def _add_claims(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    for t in s.get("pending", ()):
        bag("pending", t, sign)
    for t in s.get("awaiting", ()):
        bag("awaiting", t, sign)


def _add_aos(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    if "aos" in s:
        count("aos_resolved", s["aos"][0] * sign)
        count("aos_within", s["aos"][1] * sign)


def _add_orgs(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    for org, (total, late) in s.get("orgs", {}).items():
        count(f"org:{org}:total", total * sign)
        count(f"org:{org}:late", late * sign)


def _add_e1(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    for year, in_programme, days in s.get("e1", ()):
        bag(f"e1:{'samenloop' if in_programme else 'other'}:{year}", days, sign)


def _add_e3(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    if "e3" in s:
        t, days = s["e3"]
        bag("e3", (t, NO_VALUE if days is None else days), sign)


def _add_e4(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    for start, end in s.get("e4", ()):
        bag("e4", (start, end or OPEN_END), sign)
    if "e4_claims" in s:
        count("e4_claims", s["e4_claims"] * sign)


def _add_e5(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    if "e5" in s:
        count("e5_reached", sign)
        count("e5_converted", s["e5"] * sign)


def _add_e6(subject: str, s: dict[str, Any], sign: int, count: Count, bag: Bag) -> None:
    for t in s.get("referrals", ()):
        bag("referrals", t, sign)
    for t in s.get("complaints", ()):
        bag("complaints", t, sign)
    if "span" in s:
        bag("first", s["span"][0], sign)
        bag("last", s["span"][1], sign)


# The parts of `contribute`, each with the summary keys it reads: a part adds the same whatever
# else changed in the summary (the bitemporal index adds again only the parts that changed).
PARTS: tuple[tuple[tuple[str, ...], Part], ...] = (
    ((), _add_addresses),
    (("programme", "filed"), _add_programme),
    (("closed",), _add_closed),
    (("filed",), _add_filed),
    (("samenloop",), _add_samenloop),
    (("sl_first", "sl_end", "offered", "agreed", "coordinator", "joint", "s2c", "visits"), _add_coordination),
    (("decisions",), _add_decisions),
    (("pending", "awaiting"), _add_claims),
    (("aos",), _add_aos),
    (("orgs",), _add_orgs),
    (("e1",), _add_e1),
    (("e3",), _add_e3),
    (("e4", "e4_claims"), _add_e4),
    (("e5",), _add_e5),
    (("referrals", "complaints", "span"), _add_e6),
)


# -- governance metrics ---------------------------------------------------------------------
def metrics(agg: Aggregate, now: str) -> dict[str, Any]:
    """G1–G15 as of `now` (the `at` cut-off, or the current time)."""
    out: dict[str, Any] = dict(static_metrics(agg))
    pending = agg.sorted("pending")
    threshold = add_days(now, -PENDING_DAYS)
    out["G7"] = {
        "pending_claims": len(pending),
        "pending_claims_over_730d": bisect_left(pending, threshold),
    }
    awaiting = agg.sorted("awaiting")  # ascending start = descending days deferred
    now_dt = to_dt(now)
    middle = [(now_dt - to_dt(t)).total_seconds() / 86400 for t in _middle(awaiting)]
    out["G11"] = {
        "deferred_awaiting_strengthening": {
            "count": len(awaiting),
            "median_days": (middle[0] if len(middle) == 1 else (middle[1] + middle[0]) / 2) if middle else None,
        }
    }
    return {key: out[key] for key in sorted(out, key=lambda k: int(k[1:]))}


def static_metrics(agg: Aggregate) -> dict[str, Any]:
    """The G figures that do not depend on "now" (all but G7 and G11), cached until `agg` changes."""
    result: dict[str, Any] = agg.cached("metrics", lambda: _static_metrics(agg))
    return result


def _middle(values: list[Any]) -> list[Any]:
    """The one or two middle elements `statistics.median` averages."""
    n = len(values)
    if n == 0:
        return []
    i = n // 2
    return [values[i]] if n % 2 else [values[i - 1], values[i]]


def _static_metrics(agg: Aggregate) -> dict[str, Any]:
    """The figures that do not depend on "now"."""
    c = agg.counts
    programme = c["programme"]
    closed = {r: c[f"closed:{r}"] for r in CLOSE_REASONS}
    closed_total = sum(closed.values())
    g8 = agg.sorted("g8")[-LAST_DECISIONS:]
    leads = sorted(item[3] for item in g8)
    ever = c["ever"]
    s2c = agg.sorted("s2c")
    orgs = sorted({k.split(":")[1] for k in c if k.startswith("org:")})
    return {
        "G1": {"programme_addresses": programme},
        "G2": {"programme_without_claim": {"count": c["no_claim"], "share": share(c["no_claim"], programme)}},
        "G3": {"samenloop_addresses": c["samenloop"]},
        "G4": {"phase_distribution": {p: c[f"phase:{p}"] for p in PHASES}},
        "G5": {
            "op_norm": {
                "count": closed_total,
                "share": share(closed_total, programme),
                "by_reason": {r: {"count": n, "share": share(n, programme)} for r, n in closed.items()},
            }
        },
        "G6": {
            "claims_filed_by_year": {y: c[f"filed:{y}"] for y in agg.years("filed:")},
            "claims_decided_by_year": {y: c[f"decided_claims:{y}"] for y in agg.years("decided_claims:")},
        },
        "G8": {
            "realised_lead_time": {
                "decisions": len(leads),
                "median_days": median_sorted(leads),
                "share_within_182d": share(bisect_right(leads, WITHIN_DAYS), len(leads)),
            }
        },
        "G9": {
            "rejection_rate_by_year": {
                y: share(c[f"rejected:{y}"], c[f"decisions:{y}"]) for y in agg.years("decisions:")
            }
        },
        "G10": {
            "objection_rate_by_year": {
                y: share(c[f"objected:{y}"], c[f"decisions:{y}"]) for y in agg.years("decisions:")
            }
        },
        "G12": {
            "integrated_approach_funnel": {
                "samenloop_ever": ever,
                "offered": c["offered"],
                "agreed": c["agreed"],
                "coordinator_assigned": c["coordinator"],
                "median_days_samenloop_to_coordinator": median_sorted(s2c),
                "addresses_measured": len(s2c),
            }
        },
        "G13": {"joint_visit_share": {"count": c["joint"], "total": ever, "share": share(c["joint"], ever)}},
        "G14": {
            "aos_within_48h": {
                "count": c["aos_within"],
                "total": c["aos_resolved"],
                "share": share(c["aos_within"], c["aos_resolved"]),
            }
        },
        "G15": {
            "late_registration_share": {
                org: {
                    "count": c[f"org:{org}:late"],
                    "total": c[f"org:{org}:total"],
                    "share": share(c[f"org:{org}:late"], c[f"org:{org}:total"]),
                }
                for org in orgs
            }
        },
    }


# -- evaluation figures ---------------------------------------------------------------------
def evaluation(agg: Aggregate, now: str, pivot: str) -> dict[str, Any]:
    """E1–E6 as of `now`, comparing before and after `pivot` where the figure says so."""
    out: dict[str, Any] = dict(agg.cached(("evaluation", pivot), lambda: _static_evaluation(agg, pivot)))
    closed, running_starts = agg.cached("e4", lambda: _e4_parts(agg))
    running = _RunningLengths(running_starts, _micros(to_dt(now)))
    out["E4"] = {
        "deferred_awaiting_strengthening": {
            "claims": agg.counts["e4_claims"],
            "deferrals": len(closed) + len(running),
            "median_days": median_of_two_sorted(closed, running),
        }
    }
    return {key: out[key] for key in sorted(out)}


def _e4_parts(agg: Aggregate) -> tuple[list[float], list[int]]:
    """E4's finished deferral lengths in days (ascending) and the starts of those still running
    (in microseconds since the epoch, latest first, so that their lengths at any "now" ascend)."""
    closed: list[float] = []
    running: list[int] = []
    for start, end in agg.sorted("e4"):
        if end == OPEN_END:
            running.append(_micros(to_dt(start)))
        else:
            closed.append((to_dt(end) - to_dt(start)).total_seconds() / 86400)
    closed.sort()
    running.sort(reverse=True)
    return closed, running


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


class _RunningLengths(Sequence[float]):
    """The lengths in days, at `now`, of deferrals still running: computed on lookup, ascending.

    Equal to `(now - start).total_seconds() / 86400` bit for bit (whole microseconds divided as
    `timedelta.total_seconds` does), so that E4 is answered without a list per request.
    """

    def __init__(self, starts_latest_first: list[int], now_micros: int) -> None:
        self._starts = starts_latest_first
        self._now = now_micros

    def __len__(self) -> int:
        return len(self._starts)

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[float]: ...
    def __getitem__(self, index: int | slice) -> float | Sequence[float]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return (self._now - self._starts[index]) / 1_000_000 / 86400


def _lead_figures(values: list[float]) -> dict[str, Any]:
    return {"claims": len(values), "median_days": median_sorted(values), "p90_days": p90_sorted(values)}


def _static_evaluation(agg: Aggregate, pivot: str) -> dict[str, Any]:
    c = agg.counts
    e1: dict[str, dict[str, Any]] = {"samenloop": {}, "other": {}}
    for name in sorted(n for n in agg.bag_names() if n.startswith("e1:")):
        _, group, year = name.split(":")
        values = agg.sorted(name)
        if values:
            e1[group][year] = _lead_figures(values)
    e2 = {}
    for group in ("agreed", "not_agreed"):
        visits = agg.sorted(f"visits:{group}")
        e2[group] = {
            "addresses": len(visits),
            "visits": sum(visits),
            "mean": sum(visits) / len(visits) if visits else None,
            "median": median_sorted(visits),
        }
    requests = agg.sorted("e3")
    split = bisect_left(requests, (pivot,))
    e3 = {"before": _e3(requests[:split]), "after": _e3(requests[split:])}
    converted, reached = c["e5_converted"], c["e5_reached"]
    return {
        "E1": {"claim_lead_time": e1},
        "E2": {"visits_per_address": e2},
        "E3": {"request_to_coordinator": e3},
        "E5": {"outreach_conversion": {"count": converted, "total": reached, "share": share(converted, reached)}},
        "E6": {"referrals_and_complaints": _e6(agg, pivot)},
    }


def _e3(requests: list[tuple[str, float]]) -> dict[str, Any]:
    days = sorted(d for _, d in requests if d != NO_VALUE)
    return {
        "requests": len(requests),
        "assigned": len(days),
        "median_days": median_sorted(days),
        "p90_days": p90_sorted(days),
        "share_within_30d": share(bisect_right(days, COORDINATOR_DAYS), len(days)),
    }


def _e6(agg: Aggregate, pivot: str) -> dict[str, Any]:
    referrals = agg.sorted("referrals")
    complaints = agg.sorted("complaints")
    first, last = agg.sorted("first"), agg.sorted("last")
    sl_first, sl_end = agg.sorted("sl_first"), agg.sorted("sl_end")
    r_before = bisect_left(referrals, pivot)
    c_before = bisect_left(complaints, pivot)
    periods = {
        "before": (r_before, bisect_left(sl_first, pivot), c_before, bisect_left(first, pivot)),
        "after": (
            len(referrals) - r_before,
            len(sl_end) - bisect_right(sl_end, pivot),
            len(complaints) - c_before,
            len(last) - bisect_left(last, pivot),
        ),
    }
    return {
        name: {
            "referrals": r,
            "samenloop_addresses": sl,
            "referrals_per_100": per(r, sl, 100),
            "complaints": k,
            "addresses_with_events": a,
            "complaints_per_1000": per(k, a, 1000),
        }
        for name, (r, sl, k, a) in periods.items()
    }
