"""Properties over random valid histories: the replay's views are the case view's.

For every history (appended through the real store) and a random `known_at`:
- the view after every step equals `case_view` with `at` = that step's time (what
  `ledger case --at … --known-at …` shows), computed both by the one-pass fold and literally;
- every step's diff is the difference between the case views before and after it;
- the report's view at every prefix cut-off (`at` = each step's time) equals `case_view` for it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.bootstrap import Ledger, Settings, open_ledger
from ledger.ports import replay_store
from projections.caseview import case_view
from replay.diff import diff
from replay.history import build_history
from replay.report import Inputs, build_report
from replay.source import read_address
from replay.steps import incremental_views, reference_views, step_moments
from replay.timeline import build_timeline
from replay.views import projection_view
from tests.replay.strategies import histories

NOW = "2025-06-01T00:00:00.000000Z"
CODE = {"package": "groningen-ledger", "version": "test", "git_commit": None, "git_dirty": None}
SETTINGS = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
_numbers = count(1)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    home: Path = tmp_path_factory.mktemp("asof")
    ledger = open_ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}"))
    yield ledger
    ledger.close()


def _stored(store: Ledger, data: st.DataObject) -> tuple[str, list[dict[str, Any]]]:
    subject = f"001420{next(_numbers):010d}"
    events = data.draw(histories(subject))
    results = store.service.append(events, None, importing=True)
    assert [(r.result, r.message) for r in results] == [("accepted", None)] * len(events)
    return subject, read_address(replay_store(store), subject).events


def _known_at(data: st.DataObject, events: list[dict[str, Any]]) -> str | None:
    return data.draw(st.sampled_from([None, *sorted({e["recordedtime"] for e in events})]))


@SETTINGS
@given(data=st.data())
def test_step_views_are_the_case_views_at_every_step(store: Ledger, data: st.DataObject) -> None:
    subject, events = _stored(store, data)
    known_at = _known_at(data, events)
    report = build_report(events, Inputs(subject, None, known_at, NOW, CODE), projection_view)
    assert report["provenance"]["view_steps"] == "incremental"
    assert report["view"] == case_view(events, subject, None, known_at, NOW)
    entries = build_timeline(build_history(subject, events, None, known_at))
    moments = [entries[i].time for i in step_moments(entries)]
    expected = [case_view(events, subject, t, known_at, t) for t in moments]
    assert reference_views(events, subject, moments, known_at, projection_view) == expected
    assert incremental_views(events, subject, moments, known_at) == expected
    previous = case_view([], subject, None, known_at, NOW)
    steps = [e for e in report["timeline"] if not e["same_moment_as_next"]]
    assert [e["time"] for e in steps] == moments
    for entry, view in zip(steps, expected, strict=True):
        assert entry["diff"] == diff(previous, view)
        previous = view
    assert all(e["diff"] == [] for e in report["timeline"] if e["same_moment_as_next"])


@SETTINGS
@given(data=st.data())
def test_as_of_view_at_every_prefix_is_the_case_view(store: Ledger, data: st.DataObject) -> None:
    subject, events = _stored(store, data)
    known_at = _known_at(data, events)
    known = [e for e in events if known_at is None or e["recordedtime"] <= known_at]
    for at in sorted({e["time"] for e in known}):
        report = build_report(events, Inputs(subject, at, known_at, NOW, CODE), projection_view)
        assert report["view"] == case_view(events, subject, at, known_at, at)
        assert report["timeline"][-1]["time"] <= at
        assert len(report["timeline"]) == sum(1 for e in known if e["time"] <= at)


# attention code of the case view -> the finding that must be open with it (same moment)
ATTENTION_FINDING = {
    "claim_over_term": ("claim_over_term", "arose_at", "claim_id"),
    "aos_open_48h": ("aos_over_48h", "arose_at", "aos_id"),
    "deferred_awaiting_strengthening": ("claim_deferred_awaiting_strengthening", "start", "claim_id"),
    "no_coordinator": ("no_coordinator_30d", "arose_at", None),
}


def _open_points(report: dict[str, Any]) -> set[tuple[str, str, str | None]]:
    points = set()
    for f in report["findings"]:
        for code, (finding, moment, ref) in ATTENTION_FINDING.items():
            if f["code"] == finding and f["ongoing"]:
                points.add((code, f[moment], f["facts"].get(ref) if ref else None))
    return points


@settings(SETTINGS, max_examples=80)
@given(data=st.data())
def test_open_findings_agree_with_the_views_attention_points(store: Ledger, data: st.DataObject) -> None:
    """The findings are derived independently of the case view; where a finding and an
    attention point describe the same norm, they must agree at every prefix."""
    subject, events = _stored(store, data)
    known_at = _known_at(data, events)
    known = [e for e in events if known_at is None or e["recordedtime"] <= known_at]
    declined = any(e["type"].endswith(".IntegratedApproachDeclined.v1") for e in known)
    for at in sorted({e["time"] for e in known}) + [NOW]:
        report = build_report(events, Inputs(subject, at, known_at, NOW, CODE), projection_view)
        attention = {(a["code"], a["since"], a["ref"]) for a in report["view"]["attention"] if a["code"] != "stalled"}
        found = _open_points(report)
        if declined:  # a decline ends the coordinator finding (docs/replay.md), not the attention point
            attention = {a for a in attention if a[0] != "no_coordinator"}
            found = {f for f in found if f[0] != "no_coordinator"}
        assert found == attention, at
