"""The one parser of query times and the arithmetic on cut-offs, at the ends of the range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.timeutil import TIME_MAX, TIME_MIN, BadTime, add_days, query_time
from projections.figures import Aggregate, evaluation, metrics
from tests.projections.builder import Address, ts
from tests.projections.scenarios import aggregate


@given(
    moment=st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999)),
    minutes=st.integers(-(24 * 60 - 1), 24 * 60 - 1),
    parameter=st.sampled_from(["at", "known_at", "--pivot"]),
)
def test_query_time_is_utc_text_in_range_or_names_the_parameter(moment: datetime, minutes: int, parameter: str) -> None:
    text = moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).isoformat()
    try:
        expected: str | None = moment.replace(tzinfo=timezone(timedelta(minutes=minutes))).astimezone(UTC).isoformat()
    except OverflowError:
        expected = None
    if expected is None:
        with pytest.raises(BadTime) as caught:
            query_time(text, parameter, pivot=parameter == "--pivot")
        assert caught.value.parameter == parameter
        assert caught.value.message.startswith(f"{parameter} {text!r} is out of range")
    else:
        parsed = query_time(text, parameter, pivot=parameter == "--pivot")
        assert parsed is not None and TIME_MIN <= parsed <= TIME_MAX and len(parsed) == len(TIME_MIN)
        assert datetime.fromisoformat(parsed) == datetime.fromisoformat(expected)


def test_query_time_dates_and_malformed_values() -> None:
    assert query_time("0001-01-01", "at") == "0001-01-01T23:59:59.999999Z"
    assert query_time("0001-01-01", "pivot", pivot=True) == TIME_MIN
    assert query_time("9999-12-31", "at") == TIME_MAX
    assert query_time(None, "at") is None
    with pytest.raises(BadTime, match=r"^--at '2021-02-30' is not a date \(YYYY-MM-DD\) or an RFC 3339 timestamp$"):
        query_time("2021-02-30", "--at")
    with pytest.raises(BadTime, match="is not a date"):
        query_time("0000-12-31T23:00:00-02:00", "at")  # year 0 does not exist, whatever the offset


def test_add_days_saturates_at_the_ends_of_the_range() -> None:
    assert add_days("2021-01-01T00:00:00.000000Z", 30) == "2021-01-31T00:00:00.000000Z"
    assert add_days("0002-12-31T00:00:00.000000Z", -730) == TIME_MIN
    assert add_days("0001-01-01T00:00:00.000000Z", -1e-6) == TIME_MIN
    assert add_days(TIME_MAX, 2) == TIME_MAX
    assert add_days("9999-12-30T00:00:00.000000Z", 1e12) == TIME_MAX


def test_figures_at_the_ends_of_the_range() -> None:
    a = Address(1)
    a.emit("DamageClaimFiled", ts("2019-01-01"), claim_id="C-1")
    a.emit("IntegratedApproachRequested", ts("2020-01-01"))
    agg = aggregate([a], None, None)
    for now in (TIME_MIN, "0001-06-01T00:00:00.000000Z", "0002-12-31T23:59:59.999999Z"):
        assert metrics(Aggregate(), now)["G7"] == {"pending_claims": 0, "pending_claims_over_730d": 0}
        assert metrics(agg, now)["G7"] == {"pending_claims": 1, "pending_claims_over_730d": 0}
        evaluation(agg, now, now)
    latest = metrics(agg, TIME_MAX)
    assert latest["G7"] == {"pending_claims": 1, "pending_claims_over_730d": 1}
    assert evaluation(agg, TIME_MAX, TIME_MAX)["E3"]["request_to_coordinator"]["before"]["requests"] == 1
