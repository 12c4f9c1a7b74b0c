"""`views_at` (the views at many moments in one pass, used by the ombudsman replay) equals
`case_view` at each moment, for random valid histories and `known_at` cut-offs."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from projections.caseview import case_view, views_at
from tests.replay.strategies import histories

SUBJECT = "0014200000000001"


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_views_at_equal_case_view_at_each_moment(data: st.DataObject) -> None:
    drawn = data.draw(histories(SUBJECT, max_events=20))
    events: list[dict[str, Any]] = [{**e, "streamposition": i, "hash": f"{i:064x}"} for i, e in enumerate(drawn, 1)]
    known_at = data.draw(st.sampled_from([None, *sorted({e["recordedtime"] for e in events})]))
    times = sorted({e["time"] for e in events})
    moments = sorted(data.draw(st.sets(st.sampled_from(times), min_size=1))) if times else []
    got = [orjson.loads(orjson.dumps(v)) for v in views_at(events, SUBJECT, moments, known_at)]
    assert got == [case_view(events, SUBJECT, m, known_at, m) for m in moments]
