"""The joint case view (contract §1) of hand-built histories, expected values worked out by hand."""

from __future__ import annotations

import random

from projections import case_view
from tests.projections.builder import Address, ts


def history() -> Address:
    """One address where damage and strengthening meet (times in UTC)."""
    a = Address(1)
    a.emit("AddressRegistered", "2020-01-10", postcode="9711AA", huisnummer=12)
    a.emit("DamageClaimFiled", "2020-02-01", claim_id="C-1")
    a.emit("ClaimReceiptConfirmed", "2020-02-05", claim_id="C-1", decision_term_days=182)
    # NCG registers the programme addition two months late
    a.emit("AddressAddedToProgramme", "2020-03-01", recorded="2020-05-01")
    a.emit("ClaimDeferred", "2020-04-01", claim_id="C-1", reason="awaiting_strengthening")
    a.emit("IntegratedApproachRequested", "2020-06-01")
    a.emit("AddressIncludedInLocalPlan", "2020-07-01", lpa_year=2020)
    a.emit("StructuralInspectionCompleted", "2020-08-01", visit_id="V-S1")
    a.emit("JointVisitHeld", "2020-08-01T12:00", visit_id="V-J1")
    a.emit("DamageInspectionCompleted", "2020-08-02", claim_id="C-1", inspection_id="DI-1", visit_id="V-S1")
    a.emit("AcuteUnsafeSituationReported", "2020-09-01", aos_id="AOS-1")
    a.emit("ContactMade", "2020-09-02", with_org="NCG", channel="visit")
    a.emit("ContactMade", "2020-09-03", with_org="NCG", channel="phone")
    a.emit("ComplaintLodged", "2020-10-01", complaint_id="K-1", against="both", forum="ombudsman")
    a.emit("InformationShared", "2020-10-02", direction="ncg_to_img", categories=["planning", "assessment"])
    a.emit("ConsentToDataExchangeGiven", "2020-05-15")
    return a


NOW = ts("2021-01-01")


def test_joint_view_now() -> None:
    a = history()
    view = case_view(a.events, a.subject, now=NOW)

    assert view["address"] == {
        "subject": a.subject,
        "registered": {"postcode": "9711AA", "huisnummer": 12, "gemeentecode": "0014"},
    }
    claim = view["damage"]["claims"][0]
    assert claim["claim_id"] == "C-1"
    assert claim["status"] == "deferred"
    assert claim["filed_at"] == ts("2020-02-01")
    assert claim["decision_term_days"] == 182
    assert claim["decided_at"] is None and claim["outcome"] is None
    assert view["damage"]["awarded_cents"] == 0 and view["damage"]["paid_cents"] == 0
    assert view["damage"]["aos_reports"][0]["status"] == "open"

    s = view["strengthening"]
    assert s["in_programme"] is True
    assert s["phase"] == 3  # the structural inspection is the furthest milestone
    assert s["milestones"] == {
        "included_in_local_plan": ts("2020-07-01"),
        "structural_inspection": ts("2020-08-01"),
    }
    assert s["stalled"] is False and s["closed_reason"] is None

    c = view["coordination"]
    # samenloop starts when the address enters the programme with the claim still open
    assert c["samenloop"] is True and c["samenloop_since"] == ts("2020-03-01")
    assert c["integrated_approach"]["requested_at"] == ts("2020-06-01")
    assert c["coordinator"] is None
    assert c["joint_visits"] == [{"visit_id": "V-J1", "held_at": ts("2020-08-01T12:00")}]
    assert c["visits"] == 2  # V-S1 (structural and damage inspection together) and V-J1
    assert c["information_shared"] == {
        "ncg_to_img": {"count": 1, "last_at": ts("2020-10-02"), "categories": ["assessment", "planning"]}
    }
    assert c["consent_active"] is True

    r = view["resident"]
    assert r["contacts"]["NCG"]["count"] == 2 and r["contacts"]["NCG"]["last_at"] == ts("2020-09-03")
    assert r["complaints"][0]["complaint_id"] == "K-1"

    assert view["ledger"] == {
        "events": 16,
        "streamposition": 16,
        "hash": f"{16:064x}",
        "time": ts("2020-05-15"),
        "recordedtime": ts("2020-05-15"),
    }
    # deferred since 1 Apr; no coordinator 30 days after the request (1 Jul); term of 182 days
    # from 1 Feb 2020 (a leap year) ends 1 Aug; the AOS report is open after 48 hours (3 Sep)
    assert view["attention"] == [
        {"code": "deferred_awaiting_strengthening", "since": ts("2020-04-01"), "ref": "C-1"},
        {"code": "no_coordinator", "since": ts("2020-07-01"), "ref": None},
        {"code": "claim_over_term", "since": ts("2020-08-01"), "ref": "C-1"},
        {"code": "aos_open_48h", "since": ts("2020-09-03"), "ref": "AOS-1"},
    ]


def test_at_cutoff_is_what_had_happened() -> None:
    a = history()
    view = case_view(a.events, a.subject, at=ts("2020-03-15"))
    assert view["strengthening"]["in_programme"] is True and view["strengthening"]["phase"] == 1
    assert view["coordination"]["samenloop_since"] == ts("2020-03-01")
    assert view["damage"]["claims"][0]["status"] == "pending"
    assert view["ledger"]["events"] == 4  # registered, filed, receipt, added
    assert view["attention"] == []  # "now" is the cut-off: nothing has arisen yet


def test_known_at_before_a_late_registration() -> None:
    a = history()
    view = case_view(a.events, a.subject, known_at=ts("2020-04-15"), now=NOW)
    # on 15 Apr the ledger did not yet know the address was in the programme
    assert view["strengthening"]["in_programme"] is False and view["strengthening"]["phase"] is None
    assert view["coordination"]["samenloop"] is False
    assert view["damage"]["claims"][0]["status"] == "deferred"
    assert view["ledger"]["events"] == 4  # registered, filed, receipt, deferred (positions 1-3, 5)
    assert view["ledger"]["streamposition"] == 5


def test_correction_applies_from_its_recordedtime() -> None:
    a = history()
    filed = a.events[1]
    a.correct(filed, "2020-06-15", claim_type="value_loss")
    before = case_view(a.events, a.subject, known_at=ts("2020-06-14"), now=NOW)
    after = case_view(a.events, a.subject, known_at=ts("2020-06-15"), now=NOW)
    latest = case_view(a.events, a.subject, now=NOW)
    assert before["damage"]["claims"][0]["claim_type"] == "physical"
    assert after["damage"]["claims"][0]["claim_type"] == "value_loss"
    assert latest["damage"]["claims"][0]["claim_type"] == "value_loss"
    # governed by known_at alone: with `at` before the correction's own time it still applies
    early = case_view(a.events, a.subject, at=ts("2020-03-01"))
    assert early["damage"]["claims"][0]["claim_type"] == "value_loss"
    assert early["damage"]["claims"][0]["filed_at"] == ts("2020-02-01")  # original time kept


def test_second_correction_wins_and_retraction_removes() -> None:
    a = history()
    contact = a.events[12]  # the phone contact of 3 Sep
    assert contact["data"]["channel"] == "phone"
    a.correct(contact, "2020-11-01", channel="letter")
    a.correct(contact, "2020-11-02", channel="email")
    view = case_view(a.events, a.subject, now=NOW)
    assert view["resident"]["contacts"]["NCG"]["by_channel"] == {"visit": 1, "email": 1}
    a.retract(contact, "2020-12-01")
    view = case_view(a.events, a.subject, now=NOW)
    assert view["resident"]["contacts"]["NCG"] == {"count": 1, "last_at": ts("2020-09-02"), "by_channel": {"visit": 1}}
    shown = case_view(a.events, a.subject, known_at=ts("2020-11-30"), now=NOW)
    assert shown["resident"]["contacts"]["NCG"]["count"] == 2
    assert view["ledger"]["events"] == 19  # the chain keeps every stored event


def test_input_order_does_not_matter() -> None:
    a = history()
    expected = case_view(a.events, a.subject, now=NOW)
    shuffled = list(a.events)
    random.Random(7).shuffle(shuffled)
    assert case_view(shuffled, a.subject, now=NOW) == expected


def test_same_time_ties_follow_stream_position() -> None:
    a = Address(2)
    a.emit("AddressAddedToProgramme", "2021-01-01")
    a.emit("DamageClaimFiled", "2021-01-01", claim_id="C-1")
    a.emit("ClaimDecided", "2021-01-01", decision_id="D-1", claim_ids=["C-1"], amount_cents=5000)
    view = case_view(a.events, a.subject, now=NOW)
    assert view["coordination"]["samenloop"] is False
    # events of one moment take effect together: a samenloop that would start and stop at one
    # `time` never held (projections §0 "Moments", contract 1.1)
    assert view["coordination"]["samenloop_episodes"] == []
    assert view["damage"]["awarded_cents"] == 5000


def test_decisions_objections_payments_and_closure() -> None:
    a = Address(3)
    a.emit("AddressAddedToProgramme", "2019-01-01")
    a.emit("NormDecisionIssued", "2019-05-01", meets_norm=False)
    a.emit("StrengtheningDecisionIssued", "2019-06-01")
    a.emit("ConstructionStarted", "2019-07-01")
    a.emit("TrajectoryStalled", "2019-08-01", reason="unreachable")
    a.emit("DamageClaimFiled", "2019-02-01", claim_id="C-1")
    a.emit("DamageClaimFiled", "2019-03-01", claim_id="C-2")
    a.emit("ClaimDecided", "2019-09-01", decision_id="D-1", claim_ids=["C-1", "C-2"], amount_cents=300_000)
    a.emit("CompensationPaid", "2019-09-15", decision_id="D-1", amount_cents=200_000)
    a.emit("ObjectionFiled", "2019-10-01", objection_id="B-1", decision_id="D-1")
    a.emit("ObjectionFiled", "2019-10-02", objection_id="B-2", decision_id="D-1")
    a.emit("ObjectionDecided", "2019-12-01", objection_id="B-1", outcome="dismissed")
    a.emit("CoordinatorAssigned", "2019-04-01", coordinator_ref="coord-7", lead_org="IMG")
    view = case_view(a.events, a.subject, now=NOW)
    d = view["damage"]
    assert [c["status"] for c in d["claims"]] == ["decided", "decided"]
    assert d["claims"][1]["decision_id"] == "D-1" and d["claims"][1]["amount_cents"] == 300_000
    assert d["awarded_cents"] == 300_000  # one decision settling two claims counts once
    assert d["paid_cents"] == 200_000
    assert [o["objection_id"] for o in d["open_objections"]] == ["B-2"]
    s = view["strengthening"]
    assert s["phase"] == 5 and s["meets_norm"] is False and s["stalled"] is True
    assert s["stalled_since"] == ts("2019-08-01")
    c = view["coordination"]
    assert c["coordinator"] == {"coordinator_ref": "coord-7", "lead_org": "IMG", "assigned_at": ts("2019-04-01")}
    # in samenloop from the first claim (1 Feb) until the decision settled both (1 Sep)
    assert c["samenloop_episodes"] == [{"start": ts("2019-02-01"), "end": ts("2019-09-01")}]
    assert view["attention"] == [{"code": "stalled", "since": ts("2019-08-01"), "ref": None}]


def test_attention_thresholds_are_strict() -> None:
    a = Address(4)
    a.emit("DamageClaimFiled", "2021-01-01", claim_id="C-1")
    a.emit("ClaimReceiptConfirmed", "2021-01-02", claim_id="C-1", decision_term_days=10)
    a.emit("AcuteUnsafeSituationReported", "2021-01-01", aos_id="A-1")
    a.emit("IntegratedApproachAgreed", "2021-01-05", offer_id="O-1")
    at_term = case_view(a.events, a.subject, now=ts("2021-01-11"))
    assert [x["code"] for x in at_term["attention"]] == ["aos_open_48h"]  # 10 days exactly: not longer
    later = case_view(a.events, a.subject, now=ts("2021-02-04"))
    assert [x["code"] for x in later["attention"]] == ["aos_open_48h", "claim_over_term", "no_coordinator"]
    a.emit("AcuteUnsafeSituationResolved", "2021-01-04", aos_id="A-1")
    a.emit("CoordinatorAssigned", "2021-02-01")
    resolved = case_view(a.events, a.subject, now=ts("2021-02-04"))
    assert [x["code"] for x in resolved["attention"]] == ["claim_over_term"]
