"""The stored aggregate's encoding (`projections.persisted`): a base read back is the aggregate it
was written from, with sorted views equal to sorting its multisets (built without sorting where
the base stored them in order), and the views stay right as deltas are applied afterwards."""

from __future__ import annotations

from collections import Counter

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.figures import Aggregate
from projections.persisted import aggregate_of, apply, encode, encode_aggregate

BAG = st.dictionaries(st.floats(min_value=0, max_value=5000, allow_nan=False), st.integers(1, 4), max_size=40)
TUPLES = st.dictionaries(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b"])), st.integers(1, 3), max_size=20)


def aggregate(bags: dict[str, dict]) -> Aggregate:
    agg = Aggregate()
    agg.counts.update({"G1": 3, "G3": 1})
    for name, items in bags.items():
        agg.bags[name] = Counter(items)
    return agg


@settings(max_examples=60, deadline=None)
@given(days=BAG, pairs=TUPLES, changes=st.lists(st.tuples(st.floats(0, 5000, allow_nan=False), st.integers(-2, 2))))
def test_a_base_reads_back_with_sorted_views_that_follow_the_deltas(
    days: dict[float, int], pairs: dict[tuple[int, str], int], changes: list[tuple[float, int]]
) -> None:
    agg = aggregate({"lead": days, "decisions": pairs})
    body = encode_aggregate(agg)
    assert set(orjson.loads(body).get("ordered", ())) == {name for name, bag in agg.bags.items() if bag}
    read = aggregate_of(body)
    assert read.counts == agg.counts and read.bags == {n: b for n, b in agg.bags.items() if b}
    for name, bag in agg.bags.items():
        assert read.sorted(name) == sorted(bag.elements())
    # a delta of the incremental path, then the views again
    wanted = Counter(days)
    delta: Counter[float] = Counter()
    for item, n in changes:
        n = max(n, -wanted[item])  # never below zero, as a real delta
        wanted[item] += n
        delta[item] += n
    apply(read, encode({"G1": 1}, {"lead": delta}))
    assert read.sorted("lead") == sorted((+wanted).elements())
    assert read.counts["G1"] == 4


def test_a_base_written_before_bases_were_ordered_is_still_read() -> None:
    agg = aggregate({"lead": {5.0: 1, 1.0: 2, 3.0: 1}})
    unordered = encode(agg.counts, agg.bags)  # no "ordered": as bases were first stored
    assert "ordered" not in orjson.loads(unordered)
    read = aggregate_of(unordered)
    assert read.sorted("lead") == [1.0, 1.0, 3.0, 5.0]


def test_items_without_a_common_order_are_stored_unordered() -> None:
    agg = aggregate({"mixed": {1: 1, "x": 2}, "lead": {2.0: 1, 1.0: 1}})
    doc = orjson.loads(encode_aggregate(agg))
    assert doc["ordered"] == ["lead"]
    assert aggregate_of(encode_aggregate(agg)).bags["mixed"] == Counter({1: 1, "x": 2})
