"""One hand-built history per coordination norm, through the real store and `ledger replay`.

Each test writes out the findings it expects: code, the moment the norm was first not met,
the period and its length in days. A companion history meets the norm and expects nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.projections.builder import ts
from tests.replay.conftest import Cli
from tests.replay.story import Story

Found = tuple[str, str, str, str | None, float]


def findings(cli: Cli, subject: str, *args: str) -> list[dict[str, Any]]:
    run = cli("replay", subject, "--format", "json", *args)
    assert run.code == 0, run.err
    return run.json()["findings"]  # type: ignore[no-any-return]


def brief(items: list[dict[str, Any]]) -> list[Found]:
    return [(f["code"], f["arose_at"], f["start"], f["end"], round(f["days"], 4)) for f in items]


Put = Callable[[Story], str]


# -- integrated approach requested, no coordinator within 30 days ------------------------------
def test_no_coordinator_within_30_days(cli: Cli, stored: Put) -> None:
    s = Story(1)
    s.add("IntegratedApproachRequested", "2022-03-01T09:00")
    s.add("CoordinatorAssigned", "2022-04-15T09:00")
    found = findings(cli, stored(s))
    assert brief(found) == [
        ("no_coordinator_30d", ts("2022-03-31T09:00"), ts("2022-03-01T09:00"), ts("2022-04-15T09:00"), 45.0)
    ]
    assert found[0]["norm_days"] == 30 and found[0]["over_days"] == 15.0
    assert found[0]["responsible"] == "IMG and NCG"
    assert found[0]["events"] == [s.events[0]["id"], s.events[1]["id"]]


def test_no_coordinator_still_open_at_the_cutoff(cli: Cli, stored: Put) -> None:
    s = Story(2)
    s.add("IntegratedApproachRequested", "2022-03-01T09:00")
    s.add("ContactMade", "2022-06-01")
    found = findings(cli, stored(s), "--at", "2022-05-01")
    # open up to the end of 1 May 2022: 61 days and 15 hours (less a microsecond)
    assert brief(found) == [("no_coordinator_30d", ts("2022-03-31T09:00"), ts("2022-03-01T09:00"), None, 61.625)]
    assert found[0]["ongoing"] is True


@pytest.mark.parametrize(
    ("name", "time"),
    [("CoordinatorAssigned", "2022-03-30T09:00"), ("IntegratedApproachDeclined", "2022-03-20")],
)
def test_coordinator_in_time_or_declined_is_no_finding(cli: Cli, stored: Put, name: str, time: str) -> None:
    s = Story(3)
    s.add("IntegratedApproachRequested", "2022-03-01T09:00")
    s.add(name, time)
    assert findings(cli, stored(s)) == []


# -- samenloop without an offer within 30 days -------------------------------------------------
def _samenloop(s: Story, offer: str | None, decided: str = "2022-04-01T10:00") -> None:
    s.add("AddressAddedToProgramme", "2022-01-10")
    s.add("DamageClaimFiled", "2022-02-01T10:00")
    s.add("InformationShared", "2022-02-15", direction="img_to_ncg", legal_basis="besluit_twg_10h")
    s.add("InformationShared", "2022-02-15T11:00", org="NCG", direction="ncg_to_img", legal_basis="besluit_twg_10h")
    if offer:
        s.add("IntegratedApproachOffered", offer)
    s.add("ClaimDecided", decided)


def test_samenloop_without_offer_within_30_days(cli: Cli, stored: Put) -> None:
    s = Story(4)
    _samenloop(s, offer="2022-03-20T10:00")
    found = findings(cli, stored(s))
    assert brief(found) == [
        ("samenloop_without_offer_30d", ts("2022-03-03T10:00"), ts("2022-02-01T10:00"), ts("2022-03-20T10:00"), 47.0)
    ]
    assert found[0]["facts"] == {"samenloop_start": ts("2022-02-01T10:00"), "samenloop_end": ts("2022-04-01T10:00")}


def test_samenloop_offer_in_time_or_short_episode_is_no_finding(cli: Cli, stored: Put) -> None:
    in_time, short = Story(5), Story(6)
    _samenloop(in_time, offer="2022-02-20T10:00")
    _samenloop(short, offer=None, decided="2022-02-28T10:00")
    assert findings(cli, stored(in_time)) == []
    assert findings(cli, stored(short)) == []


# -- separate inspections during samenloop -----------------------------------------------------
def _inspections(s: Story, ncg_visit: str, joint: bool) -> None:
    s.add("AddressAddedToProgramme", "2022-01-10")
    s.add("DamageClaimFiled", "2022-02-01T10:00")
    s.add("IntegratedApproachOffered", "2022-02-05")
    s.add("InformationShared", "2022-02-06", direction="img_to_ncg")
    s.add("InformationShared", "2022-02-06T11:00", org="NCG", direction="ncg_to_img")
    s.add("DamageInspectionCompleted", "2022-02-20T09:00", visit_id="V-1", joint_with_ncg=False)
    s.add("StructuralInspectionCompleted", "2022-03-10T09:00", visit_id=ncg_visit, joint_with_img=joint)
    s.add("ClaimDecided", "2022-04-01")


def test_separate_inspections_during_samenloop(cli: Cli, stored: Put) -> None:
    s = Story(7)
    _inspections(s, ncg_visit="V-2", joint=False)
    found = findings(cli, stored(s))
    assert brief(found) == [
        ("separate_inspections", ts("2022-03-10T09:00"), ts("2022-02-20T09:00"), ts("2022-03-10T09:00"), 18.0)
    ]
    assert found[0]["facts"]["visits"] == [
        {"org": "IMG", "time": ts("2022-02-20T09:00"), "visit_id": "V-1"},
        {"org": "NCG", "time": ts("2022-03-10T09:00"), "visit_id": "V-2"},
    ]


@pytest.mark.parametrize(("visit", "joint"), [("V-1", False), ("V-2", True)])
def test_one_visit_or_joint_inspection_is_no_finding(cli: Cli, stored: Put, visit: str, joint: bool) -> None:
    s = Story(8)
    _inspections(s, ncg_visit=visit, joint=joint)
    assert findings(cli, stored(s)) == []


# -- claims deferred awaiting strengthening ----------------------------------------------------
def test_deferral_awaiting_strengthening_and_how_long(cli: Cli, stored: Put) -> None:
    s = Story(9)
    s.add("DamageClaimFiled", "2022-01-05", claim_id="C-1")
    s.add("ClaimDeferred", "2022-02-01", claim_id="C-1", reason="awaiting_strengthening")
    s.add("ClaimResumed", "2022-06-01", claim_id="C-1")
    s.add("ClaimDeferred", "2022-07-01", claim_id="C-1", reason="applicant_request")
    s.add("ClaimResumed", "2022-08-01", claim_id="C-1")
    s.add("DamageClaimFiled", "2022-08-15", claim_id="C-2")
    s.add("ClaimDeferred", "2022-09-01", claim_id="C-2", reason="awaiting_strengthening")
    found = findings(cli, stored(s), "--at", "2022-12-31")
    assert brief(found) == [
        ("claim_deferred_awaiting_strengthening", ts("2022-02-01"), ts("2022-02-01"), ts("2022-06-01"), 120.0),
        ("claim_deferred_awaiting_strengthening", ts("2022-09-01"), ts("2022-09-01"), None, 122.0),
    ]
    assert [f["facts"]["claim_id"] for f in found] == ["C-1", "C-2"]


# -- a claim pending beyond its decision term --------------------------------------------------
def test_claim_pending_beyond_its_term(cli: Cli, stored: Put) -> None:
    s = Story(10)
    s.add("DamageClaimFiled", "2022-01-05T09:00", claim_id="C-1")
    s.add("ClaimReceiptConfirmed", "2022-01-06", claim_id="C-1", decision_term_days=56)
    s.add("DamageClaimFiled", "2022-01-10", claim_id="C-2")
    s.add("ClaimReceiptConfirmed", "2022-01-11", claim_id="C-2", decision_term_days=182)
    s.add("ClaimDecided", "2022-04-01T09:00", decision_id="D-1", claim_ids=["C-1"])
    s.add("ClaimDecided", "2022-05-01", decision_id="D-2", claim_ids=["C-2"])
    found = findings(cli, stored(s))
    assert brief(found) == [
        ("claim_over_term", ts("2022-03-02T09:00"), ts("2022-01-05T09:00"), ts("2022-04-01T09:00"), 86.0)
    ]
    assert found[0]["norm_days"] == 56.0 and found[0]["over_days"] == 30.0


# -- an AOS not resolved within 48 hours -------------------------------------------------------
def test_aos_not_resolved_within_48_hours(cli: Cli, stored: Put) -> None:
    s = Story(11)
    s.add("AcuteUnsafeSituationReported", "2022-05-01T08:00", aos_id="AOS-1")
    s.add("AcuteUnsafeSituationReported", "2022-05-02T08:00", aos_id="AOS-2")
    s.add("AcuteUnsafeSituationResolved", "2022-05-03T08:00", aos_id="AOS-2")
    s.add("AcuteUnsafeSituationResolved", "2022-05-04T08:00", aos_id="AOS-1")
    found = findings(cli, stored(s))
    assert brief(found) == [
        ("aos_over_48h", ts("2022-05-03T08:00"), ts("2022-05-01T08:00"), ts("2022-05-04T08:00"), 3.0)
    ]
    assert found[0]["facts"] == {"aos_id": "AOS-1", "hours": 72.0}


# -- referred back and forth -------------------------------------------------------------------
def test_case_referred_back_and_forth(cli: Cli, stored: Put) -> None:
    s = Story(12)
    s.add("CaseReferred", "2022-03-01", org="IMG", from_org="IMG", to_org="NCG")
    s.add("CaseReferred", "2022-03-20", org="NCG", from_org="NCG", to_org="IMG", reason="wrong_organisation")
    s.add("CaseReferred", "2022-04-10", org="IMG", from_org="IMG", to_org="NCG", reason="safety_concern")
    found = findings(cli, stored(s))
    assert brief(found) == [
        ("referred_back_and_forth", ts("2022-03-20"), ts("2022-03-01"), ts("2022-03-20"), 19.0),
        ("referred_back_and_forth", ts("2022-04-10"), ts("2022-03-20"), ts("2022-04-10"), 21.0),
    ]
    assert [f["facts"] for f in found] == [
        {"first": "IMG→NCG", "back": "NCG→IMG"},
        {"first": "NCG→IMG", "back": "IMG→NCG"},
    ]


def test_one_referral_is_no_finding(cli: Cli, stored: Put) -> None:
    s = Story(13)
    s.add("CaseReferred", "2022-03-01", org="IMG", from_org="IMG", to_org="NCG")
    s.add("CaseReferred", "2022-03-20", org="IMG", from_org="IMG", to_org="NCG")
    assert findings(cli, stored(s)) == []


# -- information not shared while consent or the legal basis existed ---------------------------
def test_consent_without_sharing_for_more_than_30_days(cli: Cli, stored: Put) -> None:
    s = Story(14)
    s.add("ConsentToDataExchangeGiven", "2022-01-01", scope="img_to_ncg")
    s.add("InformationShared", "2022-03-15", direction="img_to_ncg", legal_basis="consent")
    s.add("ConsentToDataExchangeRevoked", "2022-06-01")
    found = findings(cli, stored(s))
    assert brief(found) == [("information_not_shared", ts("2022-01-31"), ts("2022-01-01"), ts("2022-03-15"), 73.0)]
    assert found[0]["facts"] == {"direction": "img_to_ncg", "basis": ["the resident's consent"]}
    assert found[0]["responsible"] == "IMG"


def test_samenloop_basis_without_sharing_in_one_direction(cli: Cli, stored: Put) -> None:
    s = Story(15)
    s.add("AddressAddedToProgramme", "2022-01-10")
    s.add("DamageClaimFiled", "2022-02-01T10:00")
    s.add("IntegratedApproachOffered", "2022-02-05")
    s.add("InformationShared", "2022-02-10", org="NCG", direction="ncg_to_img", legal_basis="besluit_twg_10h")
    s.add("ClaimDecided", "2022-05-01T10:00")
    found = findings(cli, stored(s))
    assert brief(found) == [
        ("information_not_shared", ts("2022-03-03T10:00"), ts("2022-02-01T10:00"), ts("2022-05-01T10:00"), 89.0)
    ]
    assert found[0]["facts"] == {"direction": "img_to_ncg", "basis": ["samenloop (besluit_twg_10h)"]}


def test_sharing_within_30_days_is_no_finding(cli: Cli, stored: Put) -> None:
    s = Story(16)
    s.add("ConsentToDataExchangeGiven", "2022-01-01", scope="both")
    s.add("InformationShared", "2022-01-20", direction="img_to_ncg")
    s.add("InformationShared", "2022-01-25", org="NCG", direction="ncg_to_img")
    s.add("ConsentToDataExchangeRevoked", "2022-06-01")
    assert findings(cli, stored(s)) == []
