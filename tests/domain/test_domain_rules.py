"""Rules R1-R9 of contract §4, each with a case that passes and one that fails (through `LedgerService`).

Every failure asserts the exact code, the rule named at the start of the message and the JSON path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.bootstrap import Ledger
from tests.domain.support import CLOCK, accept, append, reject
from tests.factories import example, subject

A = subject(1)


def t(day: int, hour: int = 9) -> str:
    """A time `day` days after 2021-01-01."""
    return (datetime(2021, 1, 1, hour, tzinfo=UTC) + timedelta(days=day)).strftime("%Y-%m-%dT%H:%M:%SZ")


def norm_decided(*, meets_norm: bool) -> list[dict[str, Any]]:
    """An address added to the programme (day 0) and its norm decision (day 1)."""
    return [ev("AddressAddedToProgramme"), ev("NormDecisionIssued", 1, meets_norm=meets_norm)]


def ev(name: str, day: int = 0, address: str = A, **data: Any) -> dict[str, Any]:
    """An example event of `name` at day `day`, with data fields overridden by keyword."""
    org = data.pop("org", None)
    event_id = data.pop("event_id", None)
    base = example(name, address, time=t(day), **({"org": org} if org else {}), event_id=event_id)
    base["data"].update(data)
    return base


def assert_violation(ledger: Ledger, event: dict[str, Any], rule: str, path: str, principal: str | None = None) -> str:
    result = reject(ledger, event, principal)
    assert result.code == "rule_violated", result
    assert result.message is not None and result.message.startswith(f"{rule}: "), result.message
    assert result.path == path
    return result.message


# R1 authorisation --------------------------------------------------------------------------
def test_r1_an_emitter_of_the_type_may_emit_it(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"), ev("ContactMade", org="PORTAL"), ev("ContactMade", org="NCG"))


@pytest.mark.parametrize(
    ("name", "org"),
    [("DamageClaimFiled", "NCG"), ("AddressAddedToProgramme", "IMG"), ("IntegratedApproachOffered", "PORTAL")],
)
def test_r1_an_organisation_outside_the_emitters_is_not_authorized(ledger: Ledger, name: str, org: str) -> None:
    result = reject(ledger, ev(name, org=org))
    assert (result.code, result.path) == ("not_authorized", "$.org")
    assert result.message is not None and result.message.startswith(f"R1: {org} may not emit {name}")


def test_r1_org_must_equal_the_principal(ledger: Ledger) -> None:
    result = reject(ledger, ev("ContactMade", org="IMG"), principal="NCG")
    assert (result.code, result.path) == ("not_authorized", "$.org")
    assert result.message == "R1: org IMG differs from the authenticated organisation NCG"


# R2 claim references -----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name",
    [
        "ClaimReceiptConfirmed",
        "CaseGuideAssigned",
        "DamageInspectionCompleted",
        "AdvisoryReportIssued",
        "ClaimDeferred",
        "ClaimWithdrawn",
    ],
)
def test_r2_an_event_naming_a_claim_needs_its_filing(ledger: Ledger, name: str) -> None:
    assert_violation(ledger, ev(name, 1), "R2", "$.data.claim_id")
    accept(ledger, ev("DamageClaimFiled"), ev(name, 1))


def test_r2_a_decision_needs_every_claim_it_names(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"))
    message = assert_violation(ledger, ev("ClaimDecided", 2, claim_ids=["C-1", "C-9"]), "R2", "$.data.claim_ids[1]")
    assert "'C-9'" in message
    accept(ledger, ev("DamageClaimFiled", 1, claim_id="C-9"), ev("ClaimDecided", 2, claim_ids=["C-1", "C-9"]))


def test_r2_a_claim_id_is_not_reused_at_an_address(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"), ev("DamageClaimFiled", address=subject(2)))
    assert_violation(ledger, ev("DamageClaimFiled", 1), "R2", "$.data.claim_id")
    accept(ledger, ev("DamageClaimFiled", 1, claim_id="C-2"))


# R3 claim state ----------------------------------------------------------------------------
def test_r3_a_decided_claim_cannot_be_decided_again(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"), ev("ClaimDecided", 1))
    assert_violation(ledger, ev("ClaimDecided", 2, decision_id="D-2"), "R3", "$.data.claim_ids[0]")


def test_r3_a_claim_named_twice_in_one_decision_is_refused(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"))
    assert_violation(ledger, ev("ClaimDecided", 1, claim_ids=["C-1", "C-1"]), "R3", "$.data.claim_ids[1]")


def test_r3_a_deferred_claim_is_open_and_can_be_decided(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"), ev("ClaimDeferred", 1), ev("ClaimDecided", 2))


def test_r3_deferral_needs_an_open_undeferred_claim(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"), ev("ClaimDeferred", 1))
    assert_violation(ledger, ev("ClaimDeferred", 2), "R3", "$.data.claim_id")
    accept(ledger, ev("ClaimResumed", 3), ev("ClaimDeferred", 4))


def test_r3_resumption_needs_a_deferred_claim(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"))
    assert_violation(ledger, ev("ClaimResumed", 1), "R3", "$.data.claim_id")
    accept(ledger, ev("ClaimDeferred", 2), ev("ClaimResumed", 3))
    assert_violation(ledger, ev("ClaimResumed", 4), "R3", "$.data.claim_id")


def test_r3_withdrawal_needs_an_open_claim(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"), ev("DamageClaimFiled", claim_id="C-2"), ev("ClaimDecided", 1))
    assert_violation(ledger, ev("ClaimWithdrawn", 2), "R3", "$.data.claim_id")
    accept(ledger, ev("ClaimWithdrawn", 2, claim_id="C-2"))
    assert_violation(ledger, ev("ClaimWithdrawn", 3, claim_id="C-2"), "R3", "$.data.claim_id")
    assert_violation(ledger, ev("ClaimDecided", 3, decision_id="D-2", claim_ids=["C-2"]), "R3", "$.data.claim_ids[0]")


# R4 decision references --------------------------------------------------------------------
def test_r4_payment_needs_a_decision(ledger: Ledger) -> None:
    assert_violation(ledger, ev("CompensationPaid", 1), "R4", "$.data.decision_id")
    accept(ledger, ev("DamageClaimFiled"), ev("ClaimDecided", 1), ev("CompensationPaid", 2))


def test_r4_payments_may_not_exceed_the_decided_amount(ledger: Ledger) -> None:
    accept(
        ledger,
        ev("DamageClaimFiled"),
        ev("ClaimDecided", 1, amount_cents=1000),
        ev("CompensationPaid", 2, amount_cents=600),
        ev("CompensationPaid", 3, amount_cents=400),
    )
    message = assert_violation(ledger, ev("CompensationPaid", 4, amount_cents=1), "R4", "$.data.amount_cents")
    assert "1001" in message and "1000" in message


def test_r4_an_objection_needs_a_decision(ledger: Ledger) -> None:
    assert_violation(ledger, ev("ObjectionFiled", 1), "R4", "$.data.decision_id")
    accept(ledger, ev("DamageClaimFiled"), ev("ClaimDecided", 1), ev("ObjectionFiled", 2))
    assert_violation(ledger, ev("ObjectionFiled", 3), "R4", "$.data.objection_id")  # id reused


def test_r4_an_objection_decision_needs_an_undecided_objection(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled"), ev("ClaimDecided", 1))
    assert_violation(ledger, ev("ObjectionDecided", 2), "R4", "$.data.objection_id")
    accept(ledger, ev("ObjectionFiled", 2), ev("ObjectionDecided", 3))
    assert_violation(ledger, ev("ObjectionDecided", 4), "R4", "$.data.objection_id")


# R5 programme order ------------------------------------------------------------------------
def test_r5_ncg_events_need_the_address_in_the_programme(ledger: Ledger) -> None:
    assert_violation(ledger, ev("ResidentGuideAssigned", 1), "R5", "$.type")
    accept(ledger, ev("AddressAddedToProgramme"), ev("ResidentGuideAssigned", 1))


def test_r5_an_address_is_added_once_until_it_is_removed(ledger: Ledger) -> None:
    accept(ledger, ev("AddressAddedToProgramme"))
    assert_violation(ledger, ev("AddressAddedToProgramme", 1), "R5", "$.type")
    accept(ledger, ev("AddressRemovedFromProgramme", 2))
    assert_violation(ledger, ev("AssessmentCompleted", 3), "R5", "$.type")
    assert_violation(ledger, ev("AddressRemovedFromProgramme", 3), "R5", "$.type")
    accept(ledger, ev("AddressAddedToProgramme", 4), ev("AssessmentCompleted", 5))
    accept(ledger, ev("AddressRemovedFromProgramme", 6), ev("AddressAddedToProgramme", 6))  # one moment


# R6 strengthening order --------------------------------------------------------------------
def test_r6_the_strengthening_path_in_order(ledger: Ledger) -> None:
    accept(
        ledger,
        *norm_decided(meets_norm=False),
        ev("StrengtheningDecisionIssued", 2),
        ev("ConstructionStarted", 3),
        ev("ConstructionCompleted", 4),
        ev("TrajectoryClosed", 5, reason="built"),
    )


@pytest.mark.parametrize(
    ("history", "event"),
    [
        ([], ev("StrengtheningDecisionIssued", 2)),
        ([ev("NormDecisionIssued", 1, meets_norm=True)], ev("StrengtheningDecisionIssued", 2)),
        ([ev("NormDecisionIssued", 1, meets_norm=False)], ev("ConstructionStarted", 2)),
        ([], ev("ConstructionCompleted", 2)),
        ([], ev("TrajectoryClosed", 2, reason="built")),
        ([ev("NormDecisionIssued", 1, meets_norm=False)], ev("TrajectoryClosed", 2, reason="meets_norm")),
    ],
    ids=["decision-no-norm", "decision-norm-met", "start-no-decision", "complete-no-start", "built", "meets-norm"],
)
def test_r6_a_step_needs_its_predecessor(ledger: Ledger, history: list[dict[str, Any]], event: dict) -> None:
    accept(ledger, ev("AddressAddedToProgramme"), *history)
    assert_violation(ledger, event, "R6", "$.type")


def test_r6_closing_because_the_norm_is_met(ledger: Ledger) -> None:
    accept(ledger, *norm_decided(meets_norm=True), ev("TrajectoryClosed", 2, reason="meets_norm"))


def test_r6_after_closing_only_stall_resume_and_ledger_events(ledger: Ledger) -> None:
    closed = ev("TrajectoryClosed", 1, reason="other")
    accept(ledger, ev("AddressAddedToProgramme"), closed)
    assert_violation(ledger, ev("AssessmentCompleted", 2), "R6", "$.type")
    assert_violation(ledger, ev("AddressRemovedFromProgramme", 2), "R6", "$.type")
    assert_violation(ledger, ev("AddressAddedToProgramme", 2), "R5", "$.type")
    # R6 orders the strengthening trajectory (ncg events). Reading chosen: IMG's damage handling and
    # the resident/coordination groups carry on after the trajectory is closed.
    accept(
        ledger,
        ev("TrajectoryStalled", 2),
        ev("TrajectoryResumed", 3),
        ev("AddressRegistered", 4, org="NCG"),
        ev("DamageClaimFiled", 5),
        ev("ContactMade", 6, org="PORTAL"),
    )


# R7 time order -----------------------------------------------------------------------------
def test_r7_a_decision_before_its_claim_was_filed(ledger: Ledger) -> None:
    accept(ledger, ev("DamageClaimFiled", 10))
    message = assert_violation(ledger, ev("ClaimDecided", 9), "R7", "$.time")
    assert "filing of claim 'C-1'" in message
    accept(ledger, ev("ClaimDecided", 10))  # the same moment is not earlier


@pytest.mark.parametrize(
    ("history", "event"),
    [
        ([ev("DamageClaimFiled", 5)], ev("ClaimReceiptConfirmed", 4)),
        ([ev("DamageClaimFiled", 5), ev("ClaimDeferred", 6)], ev("ClaimResumed", 5)),
        ([ev("DamageClaimFiled", 5), ev("ClaimDecided", 6)], ev("CompensationPaid", 5)),
        ([ev("DamageClaimFiled", 5), ev("ClaimDecided", 6)], ev("ObjectionFiled", 5)),
        ([ev("DamageClaimFiled", 5), ev("ClaimDecided", 6), ev("ObjectionFiled", 7)], ev("ObjectionDecided", 6)),
        ([ev("AddressAddedToProgramme", 5)], ev("ResidentGuideAssigned", 4)),
        # re-adding depends on the removal before it (so stream and valid-time order agree)
        ([ev("AddressAddedToProgramme", 5), ev("AddressRemovedFromProgramme", 7)], ev("AddressAddedToProgramme", 6)),
        ([ev("IntegratedApproachOffered", 5)], ev("IntegratedApproachAgreed", 4)),
    ],
)
def test_r7_an_event_may_not_precede_what_it_depends_on(ledger: Ledger, history: list, event: dict) -> None:
    accept(ledger, *history)
    assert_violation(ledger, event, "R7", "$.time")


def test_r7_construction_completed_before_it_started(ledger: Ledger) -> None:
    accept(ledger, *norm_decided(meets_norm=False), ev("StrengtheningDecisionIssued", 2), ev("ConstructionStarted", 30))
    assert_violation(ledger, ev("ConstructionCompleted", 29), "R7", "$.time")
    accept(ledger, ev("ConstructionCompleted", 31))


def test_r7_not_later_than_the_clock_plus_five_minutes(ledger: Ledger) -> None:
    soon = example("DamageClaimFiled", A, time="2025-01-01T12:05:00Z")  # the clock is 12:00
    late = example("DamageClaimFiled", A, {**soon["data"], "claim_id": "C-2"}, time="2025-01-01T12:05:00.000001Z")
    assert_violation(ledger, late, "R7", "$.time")
    accept(ledger, soon)
    assert CLOCK == "2025-01-01T12:00:00.000000Z"


def test_r7_not_before_2012(ledger: Ledger) -> None:
    assert_violation(ledger, example("DamageClaimFiled", A, time="2011-12-31T23:59:59Z"), "R7", "$.time")
    accept(ledger, example("DamageClaimFiled", A, time="2012-01-01T00:00:00Z"))


def test_r7_an_early_year_is_compared_as_a_year(ledger: Ledger) -> None:
    # Times are compared as fixed-width text: a three-digit year must not sort after 2012.
    for early in ("0999-06-01T00:00:00Z", "0999-06-01T00:00:00+00:00", "0999-06-01T01:00:00.5+01:00"):
        message = assert_violation(ledger, example("DamageClaimFiled", A, time=early), "R7", "$.time")
        assert "before 2012" in message


# R8 corrections ----------------------------------------------------------------------------
def test_r8_a_correction_of_an_own_event_passes_and_changes_what_rules_see(ledger: Ledger) -> None:
    filed = ev("DamageClaimFiled")
    fix = ev(
        "EventCorrected",
        2,
        corrects=filed["id"],
        data={**filed["data"], "claim_id": "C-2"},
        reason="claimnummer verkeerd overgenomen",
    )
    accept(ledger, filed, fix)
    assert_violation(ledger, ev("ClaimReceiptConfirmed", 3), "R2", "$.data.claim_id")  # C-1 no longer exists
    accept(ledger, ev("ClaimReceiptConfirmed", 3, claim_id="C-2"))


def test_r8_a_retraction_passes_and_the_retracted_event_is_ignored(ledger: Ledger) -> None:
    decided = ev("ClaimDecided", 1)
    accept(ledger, ev("DamageClaimFiled"), decided)
    accept(ledger, ev("EventRetracted", 2, retracts=decided["id"]))
    accept(ledger, ev("ClaimDecided", 3, decision_id="D-2"))  # the claim is open again


def test_r8_the_target_must_exist_at_this_address(ledger: Ledger) -> None:
    elsewhere = ev("DamageClaimFiled", address=subject(2))
    accept(ledger, elsewhere)
    message = assert_violation(ledger, ev("EventRetracted", 1, retracts=elsewhere["id"]), "R8", "$.data.retracts")
    assert "no earlier event" in message
    unknown = ev("EventCorrected", 1, corrects="00000000-0000-4000-8000-000000000001")
    assert_violation(ledger, unknown, "R8", "$.data.corrects")


def test_r8_only_the_same_org_may_amend(ledger: Ledger) -> None:
    contact = ev("ContactMade", org="NCG")
    accept(ledger, contact)
    message = assert_violation(ledger, ev("EventRetracted", 1, retracts=contact["id"]), "R8", "$.data.retracts")
    assert "emitted by NCG, not IMG" in message
    accept(ledger, ev("EventRetracted", 1, retracts=contact["id"], org="NCG"))


def test_r8_an_amendment_cannot_be_amended(ledger: Ledger) -> None:
    contact = ev("ContactMade")
    retraction = ev("EventRetracted", 1, retracts=contact["id"])
    accept(ledger, contact, retraction)
    assert_violation(ledger, ev("EventRetracted", 2, retracts=retraction["id"]), "R8", "$.data.retracts")
    correction = ev("EventCorrected", 2, corrects=retraction["id"], data={"retracts": contact["id"], "reason": "x"})
    assert_violation(ledger, correction, "R8", "$.data.corrects")


def test_r8_a_retracted_event_cannot_be_amended_again(ledger: Ledger) -> None:
    contact = ev("ContactMade")
    accept(ledger, contact, ev("EventRetracted", 1, retracts=contact["id"]))
    message = assert_violation(ledger, ev("EventRetracted", 2, retracts=contact["id"]), "R8", "$.data.retracts")
    assert "was retracted" in message
    fix = ev("EventCorrected", 2, corrects=contact["id"], data=contact["data"])
    assert_violation(ledger, fix, "R8", "$.data.corrects")


def test_r8_a_corrected_event_can_be_corrected_again_and_retracted(ledger: Ledger) -> None:
    receipt = ev("ClaimReceiptConfirmed", 1)
    accept(
        ledger,
        ev("DamageClaimFiled"),
        receipt,
        ev("EventCorrected", 2, corrects=receipt["id"], data={"claim_id": "C-1", "decision_term_days": 56}),
        ev("EventCorrected", 3, corrects=receipt["id"], data={"claim_id": "C-1", "decision_term_days": 70}),
        ev("EventRetracted", 4, retracts=receipt["id"]),
    )


@pytest.mark.parametrize(
    ("replacement", "path", "code_message"),
    [
        ({"claim_id": "C-1", "decision_term_days": "56"}, "$.data.data.decision_term_days", "valid integer"),
        ({"claim_id": "C-1"}, "$.data.data.decision_term_days", "missing required field"),
        ({"claim_id": "C-1", "decision_term_days": 56, "extra": 1}, "$.data.data.extra", "unknown field"),
        ({"claim_id": "C 1", "decision_term_days": 56}, "$.data.data.claim_id", "must be a reference"),
    ],
)
def test_r8_the_replacement_data_must_be_valid_for_the_target_type(
    ledger: Ledger, replacement: dict, path: str, code_message: str
) -> None:
    receipt = ev("ClaimReceiptConfirmed", 1)
    accept(ledger, ev("DamageClaimFiled"), receipt)
    result = reject(ledger, ev("EventCorrected", 2, corrects=receipt["id"], data=replacement))
    assert (result.code, result.path) == ("schema_invalid", path)
    assert result.message is not None and code_message in result.message


def test_r8_retracting_a_claim_a_decision_depends_on(ledger: Ledger) -> None:
    filed = ev("DamageClaimFiled")
    accept(ledger, filed, ev("ClaimDecided", 1))
    message = assert_violation(ledger, ev("EventRetracted", 2, retracts=filed["id"]), "R8", "$.data.retracts")
    assert "R2" in message and "'C-1'" in message


def test_r8_a_correction_that_breaks_a_later_event(ledger: Ledger) -> None:
    decided = ev("ClaimDecided", 1, amount_cents=1000)
    accept(ledger, ev("DamageClaimFiled"), decided, ev("CompensationPaid", 2, amount_cents=1000))
    lower = ev("EventCorrected", 3, corrects=decided["id"], data={**decided["data"], "amount_cents": 999})
    message = assert_violation(ledger, lower, "R8", "$.data.data")
    assert "R4" in message
    higher = ev("EventCorrected", 3, corrects=decided["id"], data={**decided["data"], "amount_cents": 2000})
    accept(ledger, higher)


def test_r8_retracting_the_programme_entry_breaks_the_ncg_events_after_it(ledger: Ledger) -> None:
    added = ev("AddressAddedToProgramme")
    accept(ledger, added, ev("ResidentGuideAssigned", 1))
    message = assert_violation(
        ledger, ev("EventRetracted", 2, retracts=added["id"], org="NCG"), "R8", "$.data.retracts"
    )
    assert "R5" in message


def test_r8_an_amendment_may_not_be_dated_before_the_event_it_amends(ledger: Ledger) -> None:
    # R7 ("not earlier than the event its rule depends on") applied to R8's dependency, the target.
    contact = ev("ContactMade", 5)
    accept(ledger, contact)
    assert_violation(ledger, ev("EventRetracted", 4, retracts=contact["id"]), "R7", "$.time")
    accept(ledger, ev("EventRetracted", 5, retracts=contact["id"]))


def test_r8_amendments_in_the_same_batch_as_their_target(ledger: Ledger) -> None:
    decided = ev("ClaimDecided", 1)
    results = append(ledger, ev("DamageClaimFiled"), decided, ev("EventRetracted", 2, retracts=decided["id"]))
    assert [r.result for r in results] == ["accepted"] * 3
    accept(ledger, ev("ClaimWithdrawn", 3))  # the claim is open again, within the cached state too


# R9 coordination ---------------------------------------------------------------------------
def test_r9_agreement_needs_the_offer(ledger: Ledger) -> None:
    assert_violation(ledger, ev("IntegratedApproachAgreed", 1), "R9", "$.data.offer_id")
    accept(ledger, ev("IntegratedApproachOffered", org="NCG"), ev("IntegratedApproachAgreed", 1))


def test_r9_a_referral_comes_from_the_emitting_org(ledger: Ledger) -> None:
    assert_violation(ledger, ev("CaseReferred", from_org="NCG", to_org="IMG"), "R9", "$.data.from_org")
    accept(ledger, ev("CaseReferred", from_org="NCG", to_org="IMG", org="NCG"), ev("CaseReferred"))


def test_a_referral_between_the_same_org_is_malformed(ledger: Ledger) -> None:
    result = reject(ledger, ev("CaseReferred", to_org="IMG"))
    assert (result.code, result.path) == ("schema_invalid", "$.data")
    assert result.message is not None and "from_org and to_org must differ" in result.message
