"""Valid publisher-form events for tests (no personal data: pseudonyms and synthetic ids only)."""

from __future__ import annotations

import uuid
from typing import Any

SOURCES = {"IMG": "urn:nl:img:schadesysteem", "NCG": "urn:nl:ncg:versterking", "PORTAL": "urn:nl:portal:bewoners"}


def subject(n: int, gemeente: str = "0014") -> str:
    """A synthetic BAG nummeraanduiding id."""
    return f"{gemeente}20{n:010d}"


def event(
    name: str,
    group: str,
    data: dict[str, Any],
    *,
    address: str,
    org: str = "IMG",
    time: str = "2021-03-01T09:00:00Z",
    recordedtime: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A structured-mode CloudEvent of a catalogue type."""
    out: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": SOURCES[org],
        "type": f"nl.groningen.{group}.{name}.v1",
        "subject": address,
        "time": time,
        "org": org,
        "data": data,
    }
    if recordedtime is not None:
        out["recordedtime"] = recordedtime
    return out


def claim_filed(address: str, claim_id: str, **kw: Any) -> dict[str, Any]:
    data = {"claim_id": claim_id, "claim_type": "physical", "route": "maatwerk", "channel": "online"}
    return event("DamageClaimFiled", "img", data, address=address, **kw)


def receipt(address: str, claim_id: str, days: int = 182, **kw: Any) -> dict[str, Any]:
    return event(
        "ClaimReceiptConfirmed", "img", {"claim_id": claim_id, "decision_term_days": days}, address=address, **kw
    )


def decided(address: str, decision_id: str, claim_ids: list[str], amount: int = 100_00, **kw: Any) -> dict[str, Any]:
    data = {
        "decision_id": decision_id,
        "claim_ids": claim_ids,
        "outcome": "granted",
        "amount_cents": amount,
        "scheme": "maatwerk",
    }
    return event("ClaimDecided", "img", data, address=address, **kw)


def added_to_programme(address: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("org", "NCG")
    return event(
        "AddressAddedToProgramme", "ncg", {"programme_ref": "P-1", "basis": "risk_estimate"}, address=address, **kw
    )


# One valid `data` per catalogue type (the ids line up, so a history can be built from them).
EXAMPLE_DATA: dict[str, dict[str, Any]] = {
    "AddressRegistered": {
        "postcode": "9712AB",
        "huisnummer": 12,
        "huisletter": "a",
        "toevoeging": "2",
        "gemeentecode": "0014",
        "pand_id": "0014100000000001",
        "verblijfsobject_id": "0014010000000001",
        "owner_ref": "eigenaar-1",
        "owner_type": "natural_person",
    },
    "EventCorrected": {
        "corrects": "3f2a0b12-0456-4789-8123-0a1b2c3d4e5f",
        "data": {"claim_id": "C-1", "decision_term_days": 56},
        "reason": "termijn verkeerd overgenomen",
    },
    "EventRetracted": {"retracts": "3f2a0b12-0456-4789-8123-0a1b2c3d4e5f", "reason": "dubbel geregistreerd"},
    "DamageClaimFiled": {"claim_id": "C-1", "claim_type": "physical", "route": "maatwerk", "channel": "online"},
    "ClaimReceiptConfirmed": {"claim_id": "C-1", "decision_term_days": 182},
    "CaseGuideAssigned": {"claim_id": "C-1", "guide_ref": "zb-17"},
    "DamageInspectionCompleted": {
        "claim_id": "C-1",
        "inspection_id": "I-1",
        "visit_id": "V-1",
        "joint_with_ncg": False,
    },
    "AdvisoryReportIssued": {
        "claim_id": "C-1",
        "report_id": "R-1",
        "assessed_amount_cents": 250_000,
        "causal_finding": "mining",
        "revision": False,
    },
    "ClaimDeferred": {"claim_id": "C-1", "reason": "awaiting_strengthening"},
    "ClaimResumed": {"claim_id": "C-1"},
    "ClaimDecided": {
        "decision_id": "D-1",
        "claim_ids": ["C-1"],
        "outcome": "granted",
        "amount_cents": 250_000,
        "scheme": "maatwerk",
    },
    "CompensationPaid": {"decision_id": "D-1", "amount_cents": 250_000},
    "ObjectionFiled": {"objection_id": "B-1", "decision_id": "D-1"},
    "ObjectionDecided": {"objection_id": "B-1", "outcome": "dismissed"},
    "ClaimWithdrawn": {"claim_id": "C-1"},
    "AcuteUnsafeSituationReported": {"aos_id": "AOS-1", "reported_by": "resident"},
    "AcuteUnsafeSituationResolved": {"aos_id": "AOS-1", "well_founded": True, "forwarded_to_ncg": True},
    "AddressAddedToProgramme": {"programme_ref": "P-1", "basis": "risk_estimate"},
    "AddressIncludedInLocalPlan": {"lpa_year": 2021},
    "ResidentGuideAssigned": {"guide_ref": "bb-3"},
    "StructuralInspectionCompleted": {"inspection_id": "O-1", "visit_id": "V-2", "joint_with_img": True},
    "AssessmentCompleted": {"assessment_id": "A-1", "method": "typology", "reassessment": False},
    "NormDecisionIssued": {"advice_ref": "ADV-1", "meets_norm": False},
    "StrengtheningDecisionIssued": {"decision_ref": "VB-1", "scope": "strengthen"},
    "ConstructionStarted": {},
    "ConstructionCompleted": {},
    "TrajectoryClosed": {"reason": "built"},
    "TrajectoryStalled": {"reason": "owner_paused"},
    "TrajectoryResumed": {},
    "AddressRemovedFromProgramme": {"reason": "out_of_scope"},
    "ConsentToDataExchangeGiven": {"party_ref": "bewoner-1", "scope": "both"},
    "ConsentToDataExchangeRevoked": {"party_ref": "bewoner-1"},
    "IntegratedApproachRequested": {"party_ref": "bewoner-1", "via": "portal"},
    "IntegratedApproachDeclined": {"party_ref": "bewoner-1"},
    "ComplaintLodged": {"complaint_id": "K-1", "against": "both", "forum": "organisation"},
    "ContactMade": {"with_org": "IMG", "channel": "phone", "initiated_by": "resident"},
    "IntegratedApproachOffered": {"offer_id": "SA-1"},
    "IntegratedApproachAgreed": {"offer_id": "SA-1", "components": ["coordinator", "total_inspection"]},
    "CoordinatorAssigned": {"coordinator_ref": "coord-1", "lead_org": "NCG"},
    "JointVisitHeld": {"visit_id": "V-3"},
    "InformationShared": {"direction": "img_to_ncg", "categories": ["damage_report"], "legal_basis": "consent"},
    "CaseReferred": {"from_org": "IMG", "to_org": "NCG", "reason": "damage_in_strengthening"},
    "OutreachToNonClaimant": {"campaign_ref": "CAMP-2021"},
}


def example(name: str, address: str, data: dict[str, Any] | None = None, **kw: Any) -> dict[str, Any]:
    """An event of any catalogue type: the example data (or `data`), the type's first emitter as `org`."""
    from domain.catalogue import BY_NAME

    entry = BY_NAME[name]
    kw.setdefault("org", sorted(entry.emitters)[0])
    payload = dict(EXAMPLE_DATA[name]) if data is None else data
    return event(name, entry.group, payload, address=address, **kw)


def retracted_contact(address: str, reason: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A `ContactMade` at `address` and an `EventRetracted` of it giving `reason` (the free text the
    personal-data guard reads)."""
    contact = example("ContactMade", address, time="2021-03-01T09:00:00Z")
    return contact, example("EventRetracted", address, {"retracts": contact["id"], "reason": reason})
