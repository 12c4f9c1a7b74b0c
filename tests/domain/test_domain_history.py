"""`domain.history`: the effective history under cut-offs and amendments, and the notions at moments.

The rules, the read side and the replay all call it (tests/replay/test_one_history.py checks
they agree on random histories); these are its own cases, written out.
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.history import GOVERNS, NOT_HAPPENED, NOT_RECORDED, WITHIN, Derived, cut, effective_history, standing

T1, T2, T3 = "2022-01-01T09:00:00.000000Z", "2022-02-01T09:00:00.000000Z", "2022-03-01T09:00:00.000000Z"


def stored(position: int, name: str, time: str, recorded: str | None = None, **data: Any) -> dict[str, Any]:
    group = "ledger" if name.startswith("Event") else "img"
    return {
        "id": f"e-{position}",
        "type": f"nl.groningen.{group}.{name}.v1",
        "time": time,
        "recordedtime": recorded or time,
        "streamposition": position,
        "org": "IMG",
        "data": data,
    }


def test_standing_under_the_cut_offs() -> None:
    event = stored(1, "ContactMade", T2, T3)
    correction = stored(2, "EventCorrected", T3, T3, corrects="e-1", data={}, reason="r")
    assert standing(event, None, None) == WITHIN
    assert standing(event, T2, T2) == NOT_RECORDED  # known_at first: not known at all
    assert standing(event, T1, None) == NOT_HAPPENED
    assert standing(correction, T2, None) == GOVERNS  # `at` never hides an amendment
    assert standing(correction, None, T2) == NOT_RECORDED


def test_amendments_apply_in_stream_order_and_keep_time_and_position() -> None:
    events = [
        stored(1, "ContactMade", T1, channel="phone"),
        stored(2, "ContactMade", T1, channel="visit"),
        stored(3, "EventCorrected", T3, corrects="e-1", data={"channel": "email"}, reason="r"),
        stored(4, "EventCorrected", T3, corrects="e-1", data={"channel": "letter"}, reason="r"),
        stored(5, "EventRetracted", T2, retracts="e-2", reason="r"),
    ]
    effective = effective_history(events, at=T1)
    assert [(e["id"], e["time"], e["streamposition"], e["data"]) for e in effective] == [
        ("e-1", T1, 1, {"channel": "letter"})
    ]
    before = cut(events, known_at=T2, steps=True)  # the corrections were recorded later
    assert [e["data"] for e in before.effective] == [{"channel": "phone"}]
    assert (before.not_recorded, before.not_happened) == (2, 0)
    steps = cut(events, steps=True).amendments.steps
    assert [(s.kind, s.target, s.before, s.after) for s in steps] == [
        ("correction", "e-1", {"channel": "phone"}, {"channel": "email"}),
        ("correction", "e-1", {"channel": "email"}, {"channel": "letter"}),
        ("retraction", "e-2", {"channel": "visit"}, None),
    ]


def fed(*steps: tuple[str, str, dict[str, Any]]) -> Derived:
    derived = Derived()
    for name, time, data in steps:
        derived.apply(name, data, time)
    return derived


FILED = ("DamageClaimFiled", {"claim_id": "C-1"})
DECIDED = ("ClaimDecided", {"claim_ids": ["C-1"]})
ADDED = ("AddressAddedToProgramme", {})
REMOVED = ("AddressRemovedFromProgramme", {})


@pytest.mark.parametrize(
    "moment",
    [[ADDED, DECIDED], [DECIDED, ADDED], [ADDED, REMOVED]],
    ids=["added-decided", "decided-added", "added-removed"],
)
def test_a_samenloop_that_starts_and_stops_at_one_moment_never_held(moment: list[Any]) -> None:
    derived = fed((FILED[0], T1, FILED[1]), *((name, T2, data) for name, data in moment))
    assert derived.episodes == [] and not derived.samenloop and derived.samenloop_since is None


def test_a_samenloop_that_stops_and_starts_again_at_one_moment_never_stopped() -> None:
    derived = fed(
        ("AddressAddedToProgramme", T1, {}),
        ("DamageClaimFiled", T1, {"claim_id": "C-1"}),
        ("ClaimDecided", T2, {"claim_ids": ["C-1"]}),
        ("DamageClaimFiled", T2, {"claim_id": "C-2"}),
        ("AddressRemovedFromProgramme", T3, {}),
        ("AddressAddedToProgramme", T3, {}),
    )
    assert derived.episodes == [[T1, None]] and derived.samenloop_since == T1


def test_in_programme_before_a_moment_and_the_phase() -> None:
    derived = fed((FILED[0], T1, FILED[1]), ("AddressAddedToProgramme", T2, {}))
    assert derived.in_programme_before(T2) is False and derived.in_programme_before(T3) is True
    derived.apply("AddressRemovedFromProgramme", {}, T3)
    assert derived.in_programme_before(T3) is True and derived.in_programme is False
    assert derived.phase is None and derived.reached == 1
    derived.apply("AddressAddedToProgramme", {}, T3)
    derived.apply("NormDecisionIssued", {"meets_norm": False}, T3)
    assert derived.phase == 4 and derived.in_programme_before(T3) is True
