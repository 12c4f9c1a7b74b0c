"""Properties of the read side over random valid histories, through the real ledger (SQLite).

For a random valid history of a few addresses (back-dated and late-registered events,
corrections and retractions; `tests.replay.strategies`), imported in random batches:
- following the log event by event in random batch sizes gives the same rows as a full rebuild,
  and as a rebuild killed at a random point and resumed;
- duplicates (the same events imported again) and redelivered batches change nothing;
- with `known_at` just before a correction the view is the uncorrected one, from its
  `recordedtime` on it is the corrected one.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.bootstrap import Ledger, read_ports
from projections import case_view
from projections.figures import evaluation, metrics
from projections.projector import Projector
from projections.query import DEFAULT_PIVOT, Ports, ReadModel, aggregate_from_log
from projections.rebuild import rebuild
from projections.store import StaleWrite
from projections.timeutil import format_utc, to_dt
from tests.domain.support import open_test_ledger
from tests.projections.store_suite import rows_of
from tests.replay.strategies import histories

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
NOW = "2025-06-01T00:00:00.000000Z"


class Stop(Exception):
    pass


@st.composite
def ledgers(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Histories of 1-4 addresses, interleaved (each address's own order kept)."""
    streams = [draw(histories(f"0014200{n:09d}", max_events=14)) for n in range(1, draw(st.integers(1, 4)) + 1)]
    out: list[dict[str, Any]] = []
    while any(streams):
        stream = draw(st.sampled_from([s for s in streams if s]))
        out.append(stream.pop(0))
    return out


@contextmanager
def fresh() -> Iterator[tuple[Ledger, Ports]]:
    with tempfile.TemporaryDirectory() as home:
        ledger = open_test_ledger(Path(home))
        p = read_ports(ledger)
        try:
            yield ledger, p
        finally:
            p.read_raw.close()  # type: ignore[attr-defined]
            ledger.close()


def import_all(ledger: Ledger, events: list[dict[str, Any]]) -> None:
    results = ledger.service.append(events, None, importing=True)
    assert {r.result for r in results} <= {"accepted", "duplicate"}, [r for r in results if r.result == "rejected"]


def batches(data: st.DataObject, n: int) -> list[int]:
    """Random cut points splitting n items into batches."""
    cuts = sorted(data.draw(st.sets(st.integers(1, max(1, n - 1)), max_size=6))) if n > 1 else []
    return [c for c in cuts if 0 < c < n] + [n]


def follow_in_batches(data: st.DataObject, ledger: Ledger, p: Ports, events: list[dict[str, Any]]) -> Projector:
    """Import `events` in random batches, the projector catching up after each in random steps."""
    projector = Projector(p.location.open_active(), p.read_raw, p.load_streams)
    start = 0
    for end in batches(data, len(events)):
        import_all(ledger, events[start:end])
        projector.batch = data.draw(st.integers(1, 8))
        projector.catch_up(ledger.log.max_position())
        start = end
    return projector


@SETTINGS
@given(st.data(), ledgers())
def test_incremental_equals_rebuild_equals_resumed_rebuild(data: st.DataObject, events: list[dict[str, Any]]) -> None:
    with fresh() as (ledger, p):
        projector = follow_in_batches(data, ledger, p, events)
        store = projector.store
        # redeliveries: a batch from an old position is refused; the same events again append nothing
        old = data.draw(st.integers(0, max(0, store.position() - 1)))
        if store.position() > 0:
            with pytest.raises(StaleWrite):
                projector.step(old)
        import_all(ledger, data.draw(st.permutations(events)))
        assert projector.catch_up(ledger.log.max_position()) == 0
        store.close()
        incremental = rows_of(p.location)

        rebuild(p.location, p.read_raw, p.load_streams, p.max_position)
        assert rows_of(p.location) == incremental

        stop_at = data.draw(st.integers(1, 4))

        def stop(chunk: int) -> None:
            if chunk == stop_at:
                raise Stop

        try:
            rebuild(p.location, p.read_raw, p.load_streams, p.max_position, chunk=1, after_chunk=stop)
        except Stop:
            assert rows_of(p.location) == incremental  # the old store still serves
            result = rebuild(p.location, p.read_raw, p.load_streams, p.max_position, chunk=1)
            assert result.resumed and result.skipped == stop_at
        assert rows_of(p.location) == incremental


def _by_hand(events: list[dict[str, Any]], correction: dict[str, Any], known_at: str) -> list[dict[str, Any]]:
    """The history as known at `known_at` with `correction` applied by hand instead of as an event."""
    target = correction["data"]["corrects"]
    out = []
    for e in events:
        if e["recordedtime"] > known_at:
            continue
        if e["type"].endswith(".EventCorrected.v1") and e["data"]["corrects"] == target:
            if e["streamposition"] <= correction["streamposition"]:
                continue  # replaced by this correction (and it by the by-hand data)
        if e["id"] == target:
            e = {**e, "data": correction["data"]["data"]}
        out.append(e)
    return out


def _without_ledger(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if k != "ledger"}


@SETTINGS
@given(ledgers())
def test_known_at_shows_a_correction_from_its_recordedtime(events: list[dict[str, Any]]) -> None:
    with fresh() as (ledger, _):
        import_all(ledger, events)
        for subject in sorted({e["subject"] for e in events}):
            stored = ledger.log.read_stream(subject)
            for correction in [e for e in stored if e["type"].endswith(".EventCorrected.v1")]:
                known = correction["recordedtime"]
                just_before = format_utc(to_dt(known) - to_dt(known).resolution)
                before = case_view(stored, subject, known_at=just_before, now=NOW)
                assert before == case_view([e for e in stored if e["recordedtime"] <= just_before], subject, now=NOW)
                after = case_view(stored, subject, known_at=known, now=NOW)
                expected = case_view(_by_hand(stored, correction, known), subject, now=NOW)
                assert _without_ledger(after) == _without_ledger(expected)


@SETTINGS
@given(st.data(), ledgers())
def test_figures_at_cutoffs_equal_a_fold_of_the_log(data: st.DataObject, events: list[dict[str, Any]]) -> None:
    """The read model reuses the summaries of addresses whose events are all within the cut-offs
    and folds the others again; that equals folding every address of the log with the cut-offs."""
    with fresh() as (ledger, p):
        import_all(ledger, events)
        model = ReadModel(p)
        model.refold_share = 1.0  # always the reuse path (a scan of the log is what it is compared with)
        try:
            model.refresh()
            head = ledger.log.max_position()
            times = sorted({e["time"] for e in events} | {e["recordedtime"] for e in events})
            for _ in range(3):
                at = data.draw(st.none() | st.sampled_from(times))
                known_at = data.draw(st.none() | st.sampled_from(times))
                if at is None and known_at is None:
                    continue
                agg, counted = aggregate_from_log(p.read_raw, head, at, known_at)
                served = model.metrics(at, known_at, now=NOW)
                assert served["provenance"]["events"] == counted
                assert {k: v for k, v in served.items() if k != "provenance"} == metrics(agg, NOW)
                evaluated = model.evaluation(DEFAULT_PIVOT, at, known_at, now=NOW)
                assert {k: v for k, v in evaluated.items() if k != "provenance"} == evaluation(agg, NOW, DEFAULT_PIVOT)
        finally:
            model.close()
