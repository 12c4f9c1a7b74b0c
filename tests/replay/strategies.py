"""Random valid histories of one address for the replay's properties (hypothesis).

A small model of the address picks, at every step, one of the events the rules allow next:
claims and their handling, the strengthening trajectory, the coordination events the findings
look at, resident events, and corrections and retractions of events nothing depends on. Times
move forward by 0–60 days (0 makes events share a moment); some events nothing depends on are
back-dated, and some are registered late, so valid-time order differs from stream order.
`recordedtime` never decreases along the stream, as the ledger requires.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from domain.catalogue import BY_NAME
from domain.timeutil import format_utc
from tests.factories import EXAMPLE_DATA, SOURCES

NAMESPACE = uuid.UUID("c1d2e3f4-0a1b-4c2d-8e3f-405162738495")
START = datetime(2019, 1, 7, 9, 0, tzinfo=UTC)
# events no rule depends on: they may be back-dated, corrected (with a change) or retracted
FREE: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "ContactMade": lambda d: {**d, "channel": "letter"},
    "ComplaintLodged": lambda d: {**d, "forum": "ombudsman"},
    "ClaimReceiptConfirmed": lambda d: {**d, "decision_term_days": 30},
    "JointVisitHeld": lambda d: {**d, "visit_id": "V-9"},
    "InformationShared": lambda d: {**d, "direction": "ncg_to_img"},
    "AddressRegistered": lambda d: {**d, "huisnummer": d["huisnummer"] + 1},
}
BACKDATABLE = ("ContactMade", "ComplaintLodged", "JointVisitHeld", "InformationShared", "AddressRegistered")
COORDINATION = (
    "ConsentToDataExchangeGiven",
    "ConsentToDataExchangeRevoked",
    "IntegratedApproachRequested",
    "IntegratedApproachDeclined",
    "IntegratedApproachOffered",
    "CoordinatorAssigned",
    "JointVisitHeld",
    "InformationShared",
    "CaseReferred",
    "ContactMade",
    "ComplaintLodged",
    "AddressRegistered",
    "AcuteUnsafeSituationReported",
)


@dataclass
class Model:
    """What the strategy must know of the address to pick a valid next event."""

    claims: dict[str, str] = field(default_factory=dict)  # open | deferred | decided | withdrawn
    programme: str = "out"  # out | in | closed
    norm: str | None = None  # met | not_met
    steps: set[str] = field(default_factory=set)
    offers: list[str] = field(default_factory=list)
    aos_open: list[str] = field(default_factory=list)
    free: list[dict[str, Any]] = field(default_factory=list)  # amendable events
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def options(self) -> list[str]:
        states = set(self.claims.values())
        names = ["coordination", "coordination", "DamageClaimFiled"]
        if self.claims:
            names += ["ClaimReceiptConfirmed", "DamageInspectionCompleted"]
        if "open" in states:
            names += ["ClaimDeferred", "ClaimDecided", "ClaimWithdrawn"]
        if "deferred" in states:
            names += ["ClaimResumed", "ClaimDecided"]
        if self.offers:
            names.append("IntegratedApproachAgreed")
        if self.aos_open:
            names.append("AcuteUnsafeSituationResolved")
        if self.programme == "out":
            names += ["AddressAddedToProgramme"] * 2
        elif self.programme == "in":
            names += ["StructuralInspectionCompleted", "NormDecisionIssued", "AddressRemovedFromProgramme"]
            names += ["TrajectoryStalled", "TrajectoryResumed"]
            if self.norm == "not_met" and "decided" not in self.steps:
                names.append("StrengtheningDecisionIssued")
            if self.norm == "met" or "completed" in self.steps:
                names.append("TrajectoryClosed")
            if "decided" in self.steps and "started" not in self.steps:
                names.append("ConstructionStarted")
            if "started" in self.steps and "completed" not in self.steps:
                names.append("ConstructionCompleted")
        if self.free:
            names += ["EventCorrected", "EventRetracted"]
        return names


def _data(draw: st.DrawFn, name: str, m: Model, org: str) -> dict[str, Any]:
    data = dict(EXAMPLE_DATA[name])
    pick = lambda wanted: draw(st.sampled_from(sorted(c for c, s in m.claims.items() if s in wanted)))  # noqa: E731
    if name == "DamageClaimFiled":
        data["claim_id"] = claim = m.next_id("C")
        m.claims[claim] = "open"
    elif name == "ClaimReceiptConfirmed":
        data.update(claim_id=draw(st.sampled_from(sorted(m.claims))), decision_term_days=draw(st.integers(20, 200)))
    elif name == "DamageInspectionCompleted":
        data.update(
            claim_id=draw(st.sampled_from(sorted(m.claims))),
            visit_id=draw(st.sampled_from(["V-1", "V-2", "V-3"])),
            joint_with_ncg=draw(st.booleans()),
        )
    elif name == "ClaimDeferred":
        data["claim_id"] = claim = pick({"open"})
        data["reason"] = draw(st.sampled_from(["awaiting_strengthening", "applicant_request"]))
        m.claims[claim] = "deferred"
    elif name == "ClaimResumed":
        data["claim_id"] = claim = pick({"deferred"})
        m.claims[claim] = "open"
    elif name == "ClaimWithdrawn":
        data["claim_id"] = claim = pick({"open"})
        m.claims[claim] = "withdrawn"
    elif name == "ClaimDecided":
        open_claims = sorted(c for c, s in m.claims.items() if s in ("open", "deferred"))
        claims = draw(st.lists(st.sampled_from(open_claims), min_size=1, max_size=2, unique=True))
        data.update(decision_id=m.next_id("D"), claim_ids=claims, amount_cents=draw(st.integers(0, 900_000)))
        m.claims.update(dict.fromkeys(claims, "decided"))
    elif name == "AcuteUnsafeSituationReported":
        data["aos_id"] = aos = m.next_id("AOS")
        m.aos_open.append(aos)
    elif name == "AcuteUnsafeSituationResolved":
        data["aos_id"] = aos = draw(st.sampled_from(m.aos_open))
        m.aos_open.remove(aos)
    elif name == "IntegratedApproachOffered":
        data["offer_id"] = offer = m.next_id("SA")
        m.offers.append(offer)
    elif name == "IntegratedApproachAgreed":
        data["offer_id"] = draw(st.sampled_from(m.offers))
    elif name == "ConsentToDataExchangeGiven":
        data["scope"] = draw(st.sampled_from(["img_to_ncg", "ncg_to_img", "both"]))
    elif name == "InformationShared":
        data["direction"] = draw(st.sampled_from(["img_to_ncg", "ncg_to_img"]))
    elif name == "CaseReferred":
        data.update(from_org=org, to_org="NCG" if org == "IMG" else "IMG")
    elif name == "StructuralInspectionCompleted":
        data.update(visit_id=draw(st.sampled_from(["V-1", "V-2", "V-4"])), joint_with_img=draw(st.booleans()))
    elif name == "AddressAddedToProgramme":
        m.programme = "in"
    elif name == "AddressRemovedFromProgramme":
        m.programme = "out"
        m.norm, m.steps = None, set()
    elif name == "NormDecisionIssued":
        data["meets_norm"] = met = draw(st.booleans())
        m.norm = "met" if met else "not_met"
    elif name == "StrengtheningDecisionIssued":
        m.steps.add("decided")
    elif name == "ConstructionStarted":
        m.steps.add("started")
    elif name == "ConstructionCompleted":
        m.steps.add("completed")
    elif name == "TrajectoryClosed":
        data["reason"] = "built" if "completed" in m.steps else "meets_norm"
        m.programme = "closed"
    return data


@st.composite
def histories(draw: st.DrawFn, subject: str, max_events: int = 30) -> list[dict[str, Any]]:
    """A valid history of `subject` in registration order, each event with its `recordedtime`."""
    m = Model()
    clock = START
    recorded = START
    events: list[dict[str, Any]] = []
    for step in range(draw(st.integers(1, max_events))):
        name = draw(st.sampled_from(m.options()))
        if name == "coordination":
            name = draw(st.sampled_from(COORDINATION))
        entry = BY_NAME[name]
        if name in ("EventCorrected", "EventRetracted"):
            target = draw(st.sampled_from(m.free))
            org = target["org"]
            if name == "EventRetracted":
                m.free.remove(target)
                data = {"retracts": target["id"], "reason": "dubbel geregistreerd"}
            else:
                replaced = FREE[target["type"].split(".")[-2]](target["data"])
                data = {"corrects": target["id"], "data": replaced, "reason": "gegevens hersteld"}
        else:
            org = draw(st.sampled_from(sorted(entry.emitters)))
            data = _data(draw, name, m, org)
        clock += timedelta(days=draw(st.sampled_from([0, 0, 1, 3, 10, 29, 31, 45])), hours=draw(st.integers(0, 23)))
        happened = clock
        if name in BACKDATABLE and draw(st.booleans()):
            happened = clock - timedelta(days=draw(st.integers(1, 120)))
        late = timedelta(days=draw(st.sampled_from([0, 0, 0, 2, 40, 90])))
        recorded = max(recorded, happened + late)
        event: dict[str, Any] = {
            "specversion": "1.0",
            "id": str(uuid.uuid5(NAMESPACE, f"{subject}:{step}")),
            "source": SOURCES[org],
            "type": entry.type,
            "subject": subject,
            "time": format_utc(happened),
            "org": org,
            "data": data,
            "recordedtime": format_utc(recorded),
        }
        if draw(st.booleans()):
            event["actor"] = f"{org.lower()}-medewerker-{step % 7}"
        if name in FREE:
            m.free.append(event)
        events.append(event)
    return events
