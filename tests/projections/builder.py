"""Hand-built address histories for the projection tests: stored-event dicts (ledger form).

`Address.emit` appends one event with the next stream position; `publisher()` gives the same
events in the form `ledger import` takes (for tests that go through the real store).
Synthetic identifiers and pseudonyms only.
"""

from __future__ import annotations

import uuid
from typing import Any

from domain.catalogue import BY_NAME

DEFAULT_ORG = {"ledger": "IMG", "img": "IMG", "ncg": "NCG", "resident": "PORTAL", "coordination": "IMG"}
DEFAULT_DATA: dict[str, dict[str, Any]] = {
    "AddressRegistered": {"postcode": "9711AA", "huisnummer": 1, "gemeentecode": "0014"},
    "DamageClaimFiled": {"claim_type": "physical", "route": "maatwerk", "channel": "online"},
    "ClaimDecided": {"outcome": "granted", "amount_cents": 100_000, "scheme": "maatwerk"},
    "AddressAddedToProgramme": {"programme_ref": "P-1", "basis": "risk_estimate"},
    "AddressIncludedInLocalPlan": {"lpa_year": 2020},
    "StructuralInspectionCompleted": {"inspection_id": "SI-1", "visit_id": "V-S1", "joint_with_img": False},
    "AssessmentCompleted": {"assessment_id": "AS-1", "method": "typology", "reassessment": False},
    "NormDecisionIssued": {"advice_ref": "ADV-1", "meets_norm": False},
    "StrengtheningDecisionIssued": {"decision_ref": "SD-1", "scope": "strengthen"},
    "TrajectoryStalled": {"reason": "owner_paused"},
    "IntegratedApproachRequested": {"party_ref": "owner-1", "via": "portal"},
    "IntegratedApproachDeclined": {"party_ref": "owner-1"},
    "ConsentToDataExchangeGiven": {"party_ref": "owner-1", "scope": "both"},
    "ConsentToDataExchangeRevoked": {"party_ref": "owner-1"},
    "IntegratedApproachOffered": {"offer_id": "O-1"},
    "IntegratedApproachAgreed": {"offer_id": "O-1", "components": ["coordinator"]},
    "CoordinatorAssigned": {"coordinator_ref": "coord-1", "lead_org": "NCG"},
    "ComplaintLodged": {"against": "IMG", "forum": "organisation"},
    "ContactMade": {"with_org": "IMG", "channel": "phone", "initiated_by": "resident"},
    "CaseReferred": {"from_org": "IMG", "to_org": "NCG", "reason": "damage_in_strengthening"},
    "OutreachToNonClaimant": {"campaign_ref": "CAMP-1"},
    "InformationShared": {"direction": "img_to_ncg", "categories": ["decision"], "legal_basis": "consent"},
    "AcuteUnsafeSituationReported": {"reported_by": "resident"},
    "AcuteUnsafeSituationResolved": {"well_founded": True, "forwarded_to_ncg": False},
    "DamageInspectionCompleted": {"inspection_id": "DI-1", "joint_with_ncg": False},
    "AdvisoryReportIssued": {
        "report_id": "R-1",
        "assessed_amount_cents": 50_000,
        "causal_finding": "mining",
        "revision": False,
    },
}


def ts(text: str) -> str:
    """`2021-03-01` or `2021-03-01T09:30` → the ledger's UTC text."""
    if len(text) == 10:
        text += "T00:00"
    if len(text) == 16:
        text += ":00"
    return text + ".000000Z"


class Address:
    """One address's stream, built event by event."""

    def __init__(self, n: int = 1, gemeente: str = "0014") -> None:
        self.subject = f"{gemeente}20{n:010d}"
        self.events: list[dict[str, Any]] = []

    def emit(
        self,
        name: str,
        time: str,
        recorded: str | None = None,
        org: str | None = None,
        event_id: str | None = None,
        **data: Any,
    ) -> dict[str, Any]:
        entry = BY_NAME[name]
        body = dict(DEFAULT_DATA.get(name, {}))
        body.update(data)
        position = len(self.events) + 1
        event = {
            "specversion": "1.0",
            "id": event_id or str(uuid.uuid4()),
            "source": "urn:test:projections",
            "type": entry.type,
            "subject": self.subject,
            "time": ts(time),
            "org": org or DEFAULT_ORG[entry.group],
            "data": body,
            "recordedtime": ts(recorded or time),
            "streamposition": position,
            "prevhash": self.events[-1]["hash"] if self.events else "0" * 64,
            "hash": f"{position:064x}",
        }
        self.events.append(event)
        return event

    def correct(self, target: dict[str, Any], time: str, recorded: str | None = None, **data: Any) -> dict[str, Any]:
        """An EventCorrected replacing the target's data with its data updated by `data`."""
        replacement = dict(target["data"])
        replacement.update(data)
        return self.emit(
            "EventCorrected", time, recorded, org=target["org"], corrects=target["id"], data=replacement, reason="fix"
        )

    def retract(self, target: dict[str, Any], time: str, recorded: str | None = None) -> dict[str, Any]:
        return self.emit("EventRetracted", time, recorded, org=target["org"], retracts=target["id"], reason="error")

    def publisher(self) -> list[dict[str, Any]]:
        """The events as `ledger import` takes them (without the chain attributes)."""
        return [{k: v for k, v in e.items() if k not in ("streamposition", "prevhash", "hash")} for e in self.events]
