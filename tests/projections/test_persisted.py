"""The stored aggregate's encoding (`projections.persisted`): a base read back is the aggregate it
was written from, with sorted views equal to sorting its multisets (built without sorting where
the base stored them in order), and the views stay right as deltas are applied afterwards. Its
multisets are decoded when first used, and the figures it stores equal those computed again."""

from __future__ import annotations

from collections import Counter
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections import persisted
from projections.figures import Aggregate, evaluation, metrics
from projections.persisted import BASE_PREFIX, aggregate_of, apply, delta, encode, encode_aggregate
from projections.query import DEFAULT_PIVOT
from tests.projections.scenarios import summary
from tests.replay.strategies import histories

BAG = st.dictionaries(st.floats(min_value=0, max_value=5000, allow_nan=False), st.integers(1, 4), max_size=40)
TUPLES = st.dictionaries(st.tuples(st.integers(0, 5), st.sampled_from(["a", "b"])), st.integers(1, 3), max_size=20)


def head(body: bytes) -> dict[str, Any]:
    """The head of a base: counters, where each multiset is, the stored figures."""
    assert body.startswith(BASE_PREFIX)
    size = int(body[len(BASE_PREFIX) : len(BASE_PREFIX) + 10])
    start = body.index(b'"head":') + len(b'"head":')
    line: dict[str, Any] = orjson.loads(body[start : start + size])
    return line


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
    stored = {name for name, bag in agg.bags.items() if bag}
    assert {name for name, _, _, ascending in head(body)["bags"] if ascending} == stored
    read = aggregate_of(body)
    assert set(read._encoded) == set(read.bag_names()) == stored  # nothing decoded yet
    assert read.counts == agg.counts and read.bags == {n: b for n, b in agg.bags.items() if b}
    assert not read._encoded
    whole = persisted._base_whole(body)  # as a reader from before reads it: one JSON document
    assert set(orjson.loads(body)) == {"base", "head_size", "head", "bags", "counts", "ordered"}
    assert whole.counts == agg.counts and whole.bags == read.bags
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


def test_bases_of_the_earlier_json_forms_are_still_read() -> None:
    agg = aggregate({"lead": {5.0: 1, 1.0: 2, 3.0: 1}, "decisions": {(2, "a"): 1, (1, "b"): 2}})
    unordered = encode(agg.counts, agg.bags)  # no "ordered": as bases were first stored
    assert "ordered" not in orjson.loads(unordered)
    ordered = encode(agg.counts, agg.bags, ordered=True)  # then with their multisets in order
    assert set(orjson.loads(ordered)["ordered"]) == {"lead", "decisions"}
    for body in (unordered, ordered):
        read = aggregate_of(body)
        assert read.counts == agg.counts
        assert read.sorted("lead") == [1.0, 1.0, 3.0, 5.0]
        assert read.sorted("decisions") == [(1, "b"), (1, "b"), (2, "a")]


def test_items_without_a_common_order_are_stored_unordered() -> None:
    agg = aggregate({"mixed": {1: 1, "x": 2}, "lead": {2.0: 1, 1.0: 1}})
    assert [[name, ascending] for name, _, _, ascending in head(encode_aggregate(agg))["bags"]] == [
        ["mixed", False],
        ["lead", True],
    ]
    read = aggregate_of(encode_aggregate(agg))
    assert read.bags["mixed"] == Counter({1: 1, "x": 2})
    assert read.sorted("lead") == [1.0, 2.0]


NOW = "2025-06-01T00:00:00.000000Z"


@st.composite
def summaries(draw: st.DrawFn) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for n in range(1, draw(st.integers(1, 6)) + 1):
        subject = f"0014200{n:09d}"
        events = draw(histories(subject, max_events=14))
        stored = [{**e, "streamposition": i} for i, e in enumerate(events, 1)]  # as the ledger stores them
        out.append((subject, summary(stored, subject, None, None)))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(summaries())
def test_a_base_answers_the_figures_of_its_aggregate_before_and_after_a_delta(
    items: list[tuple[str, dict[str, Any]]],
) -> None:
    """The figures a base stores are its aggregate's; once a delta changes the aggregate they are
    computed again (from the multisets, decoded then), equal to folding the same summaries."""
    *rest, (subject, last) = items
    agg = Aggregate()
    agg.add_all(items)
    read = aggregate_of(encode_aggregate(agg))
    assert head(encode_aggregate(agg))["metrics"] == {
        k: v for k, v in metrics(agg, NOW).items() if k not in ("G7", "G11")
    }
    assert metrics(read, NOW) == metrics(agg, NOW)
    assert set(read._encoded) - {"pending", "awaiting"} == {n for n, bag in agg.bags.items() if bag} - {
        "pending",
        "awaiting",
    }  # metrics decoded only G7's and G11's multisets
    assert evaluation(read, NOW, DEFAULT_PIVOT) == evaluation(agg, NOW, DEFAULT_PIVOT)
    # a delta: the last address taken out (as its row replaced by nothing would)
    again = aggregate_of(encode_aggregate(agg))
    apply(again, delta([(subject, orjson.dumps(last))], []))
    without = Aggregate()
    without.add_all(rest)
    assert metrics(again, NOW) == metrics(without, NOW)
    assert evaluation(again, NOW, DEFAULT_PIVOT) == evaluation(without, NOW, DEFAULT_PIVOT)


def test_stored_figures_are_used_only_by_the_code_that_computed_them(monkeypatch: pytest.MonkeyPatch) -> None:
    agg = aggregate({"g8": {("2024-01-01", "0014200000000001", "D-1", 12.0): 1}})
    body = encode_aggregate(agg)
    stored = head(body)["metrics"]
    assert stored["G8"]["realised_lead_time"]["decisions"] == 1
    tampered = body.replace(b'"decisions":1', b'"decisions":7', 1)
    assert metrics(aggregate_of(tampered), NOW)["G8"]["realised_lead_time"]["decisions"] == 7  # read, not computed
    monkeypatch.setattr(persisted, "figures_code", lambda: "other code")
    assert metrics(aggregate_of(tampered), NOW)["G8"]["realised_lead_time"]["decisions"] == 1


def test_assigning_the_multisets_replaces_the_encoded_ones_too() -> None:
    """As an aggregate whose multisets come from elsewhere sets them (e.g. a subclass)."""
    read = aggregate_of(encode_aggregate(aggregate({"lead": {1.0: 2}, "other": {2.0: 1}})))
    read.bags = {"lead": Counter({5.0: 1})}
    assert read.bag_names() == ["lead"] and read.sorted("lead") == [5.0] and read.sorted("other") == []
