"""Small hand-built ledgers whose figures the tests work out by hand (see the test modules)."""

from __future__ import annotations

from typing import Any

from projections.figures import Aggregate
from projections.fold import fold
from projections.history import prepare
from projections.summary import summarize
from tests.projections.builder import Address


def governance_ledger() -> list[Address]:
    """Six addresses for G1–G15 (`tests/projections/test_metrics.py`)."""
    a1 = Address(1)  # programme, phase 4, never claimed
    a1.emit("AddressAddedToProgramme", "2019-01-01")
    a1.emit("AddressIncludedInLocalPlan", "2019-02-01")
    a1.emit("StructuralInspectionCompleted", "2019-03-01")
    a1.emit("AssessmentCompleted", "2019-04-01")

    a2 = Address(2)  # programme, phase 1, one claim rejected after a year of samenloop
    a2.emit("AddressAddedToProgramme", "2020-01-01")
    filed = a2.emit("DamageClaimFiled", "2020-06-01", claim_id="C-1")
    a2.emit("ClaimDecided", "2021-06-01", decision_id="D-1", claim_ids=["C-1"], outcome="rejected", amount_cents=0)
    a2.correct(filed, "2020-08-15", channel="paper")

    a3 = Address(3)  # programme, closed (meets norm); a claim since 2022: in samenloop now
    a3.emit("AddressAddedToProgramme", "2019-06-01")
    a3.emit("NormDecisionIssued", "2019-09-01", meets_norm=True)
    a3.emit("TrajectoryClosed", "2020-01-01", reason="meets_norm")
    a3.emit("DamageClaimFiled", "2022-01-01", claim_id="C-1")
    a3.emit("IntegratedApproachOffered", "2022-02-01", offer_id="O-1")
    a3.emit("IntegratedApproachAgreed", "2022-03-01", offer_id="O-1")
    a3.emit("CoordinatorAssigned", "2022-03-11")
    a3.emit("JointVisitHeld", "2022-04-01", visit_id="V-1")

    a4 = Address(4)  # outside the programme: two claims settled by one decision, an objection
    a4.emit("DamageClaimFiled", "2019-01-01", claim_id="C-1")
    a4.emit("DamageClaimFiled", "2019-03-01", claim_id="C-2")
    a4.emit("ClaimDecided", "2019-07-01", decision_id="D-1", claim_ids=["C-1", "C-2"])
    a4.emit("ObjectionFiled", "2019-08-01", objection_id="B-1", decision_id="D-1")
    a4.emit("DamageClaimFiled", "2021-01-01", claim_id="C-3")
    a4.emit("ClaimDeferred", "2021-02-01", claim_id="C-3", reason="applicant_request")

    a5 = Address(5)  # outside the programme: a claim deferred awaiting strengthening, AOS reports
    a5.emit("DamageClaimFiled", "2021-01-01", claim_id="C-1")
    a5.emit("DamageClaimFiled", "2021-02-01", claim_id="C-2")
    a5.emit("ClaimDeferred", "2021-03-01", claim_id="C-1", reason="awaiting_strengthening")
    a5.emit("ClaimDecided", "2021-12-01", decision_id="D-1", claim_ids=["C-2"], outcome="partly_granted")
    a5.emit("AcuteUnsafeSituationReported", "2021-05-01", aos_id="AOS-1")
    a5.emit("AcuteUnsafeSituationResolved", "2021-05-02T12:00", aos_id="AOS-1")
    a5.emit("AcuteUnsafeSituationReported", "2021-06-01", aos_id="AOS-2")
    a5.emit("AcuteUnsafeSituationResolved", "2021-06-04", aos_id="AOS-2")
    a5.emit("AcuteUnsafeSituationReported", "2021-07-01", aos_id="AOS-3")

    a6 = Address(6)  # programme, built and closed; NCG registered the completion late
    a6.emit("AddressAddedToProgramme", "2018-03-01")
    a6.emit("NormDecisionIssued", "2018-06-01", meets_norm=False)
    a6.emit("StrengtheningDecisionIssued", "2018-09-01")
    a6.emit("ConstructionStarted", "2019-01-01")
    a6.emit("ConstructionCompleted", "2019-12-01", recorded="2020-03-01")
    a6.emit("TrajectoryClosed", "2020-02-01", recorded="2020-03-01", reason="built")
    return [a1, a2, a3, a4, a5, a6]


def evaluation_ledger() -> list[Address]:
    """Eight addresses for E1–E6 (`tests/projections/test_evaluation.py`)."""
    b1 = Address(101)  # programme; agreed integrated approach; two claims decided in samenloop
    b1.emit("AddressAddedToProgramme", "2020-01-01")
    b1.emit("IntegratedApproachRequested", "2020-02-01")
    b1.emit("IntegratedApproachOffered", "2020-02-10", offer_id="O-1")
    b1.emit("IntegratedApproachAgreed", "2020-02-15", offer_id="O-1")
    b1.emit("CoordinatorAssigned", "2020-02-21")
    b1.emit("DamageClaimFiled", "2020-03-01", claim_id="C-1")
    b1.emit("CaseReferred", "2020-03-15")
    b1.emit("DamageClaimFiled", "2020-04-01", claim_id="C-2")
    b1.emit("StructuralInspectionCompleted", "2020-04-10", visit_id="V-1")
    b1.emit("DamageInspectionCompleted", "2020-04-10", claim_id="C-1", visit_id="V-1")
    b1.emit("JointVisitHeld", "2020-04-20", visit_id="V-2")
    b1.emit("ClaimDecided", "2020-05-01", decision_id="D-1", claim_ids=["C-1"])
    b1.emit("ClaimDecided", "2020-07-01", decision_id="D-2", claim_ids=["C-2"])

    b2 = Address(102)  # outside the programme
    b2.emit("DamageClaimFiled", "2020-01-01", claim_id="C-1")
    b2.emit("ClaimDecided", "2020-02-10", decision_id="D-1", claim_ids=["C-1"])
    b2.emit("IntegratedApproachRequested", "2020-05-01")
    b2.emit("CoordinatorAssigned", "2020-07-10")
    b2.emit("ComplaintLodged", "2020-09-01", complaint_id="K-1")
    b2.emit("DamageClaimFiled", "2021-01-01", claim_id="C-2")
    b2.emit("ClaimDeferred", "2021-01-10", claim_id="C-2", reason="awaiting_strengthening")
    b2.emit("ClaimDecided", "2021-03-02", decision_id="D-2", claim_ids=["C-2"])

    b3 = Address(103)  # enters the programme with a claim open: samenloop in June 2021
    b3.emit("DamageClaimFiled", "2021-01-01", claim_id="C-1")
    b3.emit("AddressAddedToProgramme", "2021-06-01")
    b3.emit("DamageInspectionCompleted", "2021-06-10", claim_id="C-1", visit_id="V-9")
    b3.emit("IntegratedApproachRequested", "2021-06-15")
    b3.emit("CaseReferred", "2021-06-20")
    b3.emit("ClaimDecided", "2021-07-01", decision_id="D-1", claim_ids=["C-1"])

    b4 = Address(104)  # leaves the programme before its claim is decided
    b4.emit("AddressAddedToProgramme", "2019-01-01")
    b4.emit("DamageClaimFiled", "2020-01-01", claim_id="C-1")
    b4.emit("AddressRemovedFromProgramme", "2020-06-01", reason="out_of_scope")
    b4.emit("ClaimDecided", "2020-08-01", decision_id="D-1", claim_ids=["C-1"])

    b5 = Address(105)  # outside the programme; deferred twice awaiting strengthening
    b5.emit("DamageClaimFiled", "2021-01-01", claim_id="C-1")
    b5.emit("IntegratedApproachRequested", "2021-02-01")
    b5.emit("CaseReferred", "2021-02-01")
    b5.emit("CoordinatorAssigned", "2021-02-11")
    b5.emit("ClaimDeferred", "2021-03-01", claim_id="C-1", reason="awaiting_strengthening")
    b5.emit("ClaimResumed", "2021-04-01", claim_id="C-1")
    b5.emit("ClaimDeferred", "2021-05-01", claim_id="C-1", reason="awaiting_strengthening")

    b6 = Address(106)  # outreach that converted
    b6.emit("OutreachToNonClaimant", "2021-01-01")
    b6.emit("DamageClaimFiled", "2021-03-01", claim_id="C-1")
    b6.emit("ComplaintLodged", "2021-05-01", complaint_id="K-1")

    b7 = Address(107)  # outreach, claim too late
    b7.emit("OutreachToNonClaimant", "2021-01-01")
    b7.emit("DamageClaimFiled", "2021-05-01", claim_id="C-1")

    b8 = Address(108)  # outreach, no claim
    b8.emit("OutreachToNonClaimant", "2021-01-01")
    return [b1, b2, b3, b4, b5, b6, b7, b8]


def aggregate(addresses: list[Address], at: str | None = None, known_at: str | None = None) -> Aggregate:
    """Fold, summarise and add up every address (what the read model does)."""
    agg = Aggregate()
    for a in addresses:
        agg.add(a.subject, summary(a.events, a.subject, at, known_at))
    return agg


def summary(events: list[dict[str, Any]], subject: str, at: str | None, known_at: str | None) -> dict[str, Any]:
    return summarize(fold(prepare(events, subject, at, known_at)))
