"""Figures over time (projections §5): the points of a series, and each equal to `metrics` there."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.figures import metrics
from projections.query import ReadModel, aggregate_from_log
from projections.series import MAX_POINTS, BadSeries, plan, step_ends
from tests.projections.test_properties import fresh, import_all, ledgers

END_OF_DAY = "T23:59:59.999999Z"


def test_monthly_2018_to_2024_is_84_month_ends() -> None:
    points = step_ends("2018-01-01" + END_OF_DAY, "2024-12-31" + END_OF_DAY, "month")
    assert len(points) == 84
    assert points[:3] == ("2018-01-31" + END_OF_DAY, "2018-02-28" + END_OF_DAY, "2018-03-31" + END_OF_DAY)
    assert "2020-02-29" + END_OF_DAY in points and points[-1] == "2024-12-31" + END_OF_DAY


def test_quarters_and_years_end_on_calendar_ends_within_the_range() -> None:
    start, end = "2021-02-15T00:00:00.000000Z", "2022-11-30" + END_OF_DAY
    assert step_ends(start, end, "quarter") == tuple(
        d + END_OF_DAY
        for d in ("2021-03-31", "2021-06-30", "2021-09-30", "2021-12-31", "2022-03-31", "2022-06-30", "2022-09-30")
    )
    assert step_ends(start, end, "year") == ("2021-12-31" + END_OF_DAY,)
    assert step_ends(start, "2021-02-20" + END_OF_DAY, "month") == ()  # no month ends in between
    assert step_ends("9999-11-01" + END_OF_DAY, "9999-12-31" + END_OF_DAY, "month")[-1] == "9999-12-31" + END_OF_DAY


@pytest.mark.parametrize(
    ("start", "end", "step", "ids", "parameter"),
    [
        ("2020-01-02" + END_OF_DAY, "2020-01-01" + END_OF_DAY, "month", None, "from"),
        ("2018-01-01" + END_OF_DAY, "2024-12-31" + END_OF_DAY, "week", None, "step"),
        ("2018-01-01" + END_OF_DAY, "2024-12-31" + END_OF_DAY, "month", "G1,G16", "ids"),
        ("2018-01-01" + END_OF_DAY, "2024-12-31" + END_OF_DAY, "month", "E1", "ids"),
        ("2018-01-01" + END_OF_DAY, "2024-12-31" + END_OF_DAY, "month", ",", "ids"),
        ("1900-01-01" + END_OF_DAY, "2024-12-31" + END_OF_DAY, "month", None, "to"),
    ],
)
def test_bad_requests_name_the_parameter(start: str, end: str, step: str, ids: str | None, parameter: str) -> None:
    with pytest.raises(BadSeries) as caught:
        plan(start, end, step, ids)
    assert caught.value.parameter == parameter


def test_at_most_500_points() -> None:
    start = "1980-01-01" + END_OF_DAY
    assert len(step_ends(start, "2021-08-31" + END_OF_DAY, "month")) == MAX_POINTS
    with pytest.raises(BadSeries):
        step_ends(start, "2021-09-30" + END_OF_DAY, "month")


def test_ids_keep_the_contracts_order() -> None:
    assert plan("2020-01-01" + END_OF_DAY, "2020-12-31" + END_OF_DAY, "year", "G4, G1,G4").ids == ("G1", "G4")


def _folded(model: ReadModel, head: int, at: str, known_at: str | None) -> dict[str, Any]:
    agg, _ = aggregate_from_log(model.ports.read_raw, head, at, known_at)
    return metrics(agg, at)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.data(), ledgers())
def test_every_point_equals_the_figures_at_its_cutoffs(data: st.DataObject, events: list[dict[str, Any]]) -> None:
    """Each point as known then equals `metrics(at=p, known_at=p)` and as known now `metrics(at=p)`,
    both as the read model answers them and as a fold of the whole log computes them."""
    with fresh() as (ledger, p):
        import_all(ledger, events)
        model = ReadModel(p)
        try:
            model.refresh()
            head = ledger.log.max_position()
            times = sorted({e["time"] for e in events} | {e["recordedtime"] for e in events})
            start, end = sorted((data.draw(st.sampled_from(times)), data.draw(st.sampled_from(times))))
            step = data.draw(st.sampled_from(["month", "quarter", "year"]))
            ids = data.draw(st.none() | st.sampled_from(["G1,G3,G7", "G4", "G6,G8,G15"]))
            checked = plan(start, end, step, ids)
            doc = model.series(checked)
            assert [point["at"] for point in doc["points"]] == list(checked.points)
            assert doc["provenance"]["position"] == head and doc["provenance"]["points"] == len(checked.points)
            for point in doc["points"]:
                at = point["at"]
                then, now = _folded(model, head, at, at), _folded(model, head, at, None)
                assert point["known_then"] == {k: then[k] for k in checked.ids}
                assert point["known_now"] == {k: now[k] for k in checked.ids}
                served = model.metrics(at, at)
                assert point["known_then"] == {k: served[k] for k in checked.ids}
                assert point["events"]["known_then"] == served["provenance"]["events"]
        finally:
            model.close()
