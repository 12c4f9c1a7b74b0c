"""The bitemporal index (`projections.bitemporal`, `projections.asof`) against folding the log.

For random valid histories (back-dated and late-registered events, corrections, retractions)
of a few addresses, followed in random batches (the incremental path writes corners with each
row) or rebuilt and then indexed (the bulk path leaves them to `fill_index`), every G and E
figure at random cut-off pairs, answered from the index, equals the figures of a fold of the
whole log at those cut-offs; so do the corners the two paths store.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from projections import asof
from projections.bitemporal import corners
from projections.figures import evaluation, metrics
from projections.indexer import fill_index
from projections.query import DEFAULT_PIVOT, ReadModel, aggregate_from_log
from projections.rebuild import rebuild
from projections.timeutil import format_utc, to_dt
from tests.projections.test_properties import NOW, SETTINGS, batches, fresh, import_all, ledgers


def cutoffs(data: st.DataObject, events: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """A random cut-off pair: on an event's time or recorded time, just before one, or none."""
    times = sorted({e["time"] for e in events} | {e["recordedtime"] for e in events})

    def one() -> str | None:
        t = data.draw(st.none() | st.sampled_from(times))
        if t is not None and data.draw(st.booleans()):
            t = format_utc(to_dt(t) - timedelta(microseconds=1))
        return t

    at, known_at = one(), one()
    if at is None and known_at is None:
        known_at = times[-1]
    return at, known_at


def assert_index_equals_fold(model: ReadModel, data: st.DataObject, events: list[dict[str, Any]], head: int) -> None:
    for _ in range(4):
        at, known_at = cutoffs(data, events)
        agg, counted = aggregate_from_log(model.ports.read_raw, head, at, known_at)
        served = model.metrics(at, known_at, now=NOW)
        assert served["provenance"]["source"] == "index"
        assert served["provenance"]["events"] == counted
        assert {k: v for k, v in served.items() if k != "provenance"} == metrics(agg, NOW)
        evaluated = model.evaluation(DEFAULT_PIVOT, at, known_at, now=NOW)
        assert evaluated["provenance"]["source"] == "index"
        assert {k: v for k, v in evaluated.items() if k != "provenance"} == evaluation(agg, NOW, DEFAULT_PIVOT)


@SETTINGS
@given(st.data(), ledgers())
def test_figures_from_the_index_equal_a_fold_at_any_cutoffs(data: st.DataObject, events: list[dict[str, Any]]) -> None:
    """Followed in random batches, each batch read by the index as changed addresses (and, with a
    low threshold, by building the columns again), the index answers as a fold of the log."""
    rebuild_after = data.draw(st.sampled_from([1, asof.REBUILD_AFTER]))
    with fresh() as (ledger, p), pytest.MonkeyPatch.context() as patch:
        patch.setattr(asof, "REBUILD_AFTER", rebuild_after)
        model = ReadModel(p)
        try:
            start = 0
            for end in [*batches(data, len(events)), len(events)]:
                if end > start:
                    import_all(ledger, events[start:end])
                    start = end
                model.refresh()
                model.metrics(at=events[0]["time"], now=NOW)  # the index as of this batch
            assert_index_equals_fold(model, data, events, ledger.log.max_position())
        finally:
            model.close()


@SETTINGS
@given(st.data(), ledgers())
def test_a_rebuild_then_fill_index_stores_the_corners_of_the_incremental_path(
    data: st.DataObject, events: list[dict[str, Any]]
) -> None:
    """A rebuild writes rows without corners and serves figures at cut-offs from the log until
    `fill_index` has given every row its corners: the same bytes the incremental path wrote."""
    with fresh() as (ledger, p):
        import_all(ledger, events)
        model = ReadModel(p)
        try:
            model.refresh()
            incremental = dict(model.store.corners()[2])
            head = ledger.log.max_position()
            rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
            model.refresh()
            at, known_at = cutoffs(data, events)
            assert model.metrics(at, known_at, now=NOW)["provenance"]["source"] == "event log"
            store = p.location.open_active()
            try:
                assert set(store.missing_corners()) == set(incremental)
                assert fill_index(store, p.read_raw, head) == len(incremental)
                assert fill_index(store, p.read_raw, head) == 0  # nothing is missing any more
                assert dict(store.corners()[2]) == incremental
            finally:
                store.close()
            model.refresh()
            assert_index_equals_fold(model, data, events, head)
        finally:
            model.close()


def test_an_address_without_events_has_no_corners() -> None:
    assert corners("0014200000000001", []) == []


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40), st.integers(0, 5), st.integers(-3, 3)), max_size=300),
    st.integers(0, 42),
    st.integers(0, 42),
    st.sampled_from([1, 2, 3, 8, 64]),
)
def test_block_prefix_sums_equal_summing_the_entries(
    entries: list[tuple[int, int, int, int]], at: int, known_at: int, blocks: int
) -> None:
    """The counters' grid of prefix sums (`asof._Blocks`) adds up what a mask over every entry does."""
    day = "2020-01-{:02d}T00:00:00.000000Z".format
    times = [day(1 + x % 28).replace("2020-01", f"2020-{1 + x // 28:02d}") for x, _, _, _ in entries]
    recorded = [day(1 + y % 28).replace("2020-01", f"2020-{1 + y // 28:02d}") for _, y, _, _ in entries]
    what = [w for _, _, w, _ in entries]
    n = [v for _, _, _, v in entries]
    plain = asof._Columns(times, recorded, what, n)
    blocked = asof._Columns(times, recorded, what, n, blocks=blocks)
    a = asof.cutoff(day(1 + at % 28).replace("2020-01", f"2020-{1 + at // 28:02d}"))
    k = asof.cutoff(day(1 + known_at % 28).replace("2020-01", f"2020-{1 + known_at // 28:02d}"))
    for cut in ((a, k), (a, asof.OPEN), (asof.OPEN, k), (asof.OPEN, asof.OPEN)):
        want = [0] * 6
        for (_, _, w, v), t, r in zip(entries, asof.micros(times), asof.micros(recorded), strict=True):
            if t <= cut[0] and r <= cut[1]:
                want[w] += v
        assert list(plain.sums(*cut, 6)) == want
        got = list(blocked.sums(*cut, 6)) if entries else []
        assert got + [0] * (6 - len(got)) == want  # as many counters as the table names
