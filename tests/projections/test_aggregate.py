"""Adding summaries in bulk (the read model's first load, figures at cut-offs) equals adding them one by one."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.figures import Aggregate, evaluation, metrics
from projections.query import DEFAULT_PIVOT
from tests.projections.scenarios import summary
from tests.replay.strategies import histories

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


def _bags(agg: Aggregate) -> dict[str, Any]:
    return {name: +bag for name, bag in agg.bags.items() if +bag}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(summaries())
def test_add_all_equals_adding_one_by_one(items: list[tuple[str, dict[str, Any]]]) -> None:
    one = Aggregate()
    for subject, s in items:
        one.add(subject, s)
    bulk = Aggregate()
    bulk.add_all(items)
    assert one.counts == bulk.counts
    assert _bags(one) == _bags(bulk)
    assert metrics(one, NOW) == metrics(bulk, NOW)
    assert evaluation(one, NOW, DEFAULT_PIVOT) == evaluation(bulk, NOW, DEFAULT_PIVOT)
    # a bulk-loaded aggregate keeps being maintained one address at a time
    subject, first = items[0]
    bulk.add(subject, first, -1)
    one.add(subject, first, -1)
    assert one.counts == bulk.counts and _bags(one) == _bags(bulk)
    assert metrics(one, NOW) == metrics(bulk, NOW)
