"""The per-address fold: one pass over an address's effective events in time order.

The state it builds is the single source for the joint case view (§1), the per-address
summary behind the governance metrics (§2) and the evaluation figures (§3). It is plain data
(dicts, lists, strings), so it can be rendered, summarised and serialised without I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from projections.history import Effective, History
from projections.timeutil import days_between

# NCG phase reached by each milestone (contract §0).
PHASE_OF = {
    "AddressIncludedInLocalPlan": 2,
    "StructuralInspectionCompleted": 3,
    "AssessmentCompleted": 4,
    "NormDecisionIssued": 4,
    "StrengtheningDecisionIssued": 5,
    "ConstructionStarted": 5,
    "ConstructionCompleted": 5,
    "TrajectoryClosed": 6,
}
MILESTONE_KEYS = {
    "AddressIncludedInLocalPlan": "included_in_local_plan",
    "StructuralInspectionCompleted": "structural_inspection",
    "AssessmentCompleted": "assessment",
    "NormDecisionIssued": "norm_decision",
    "StrengtheningDecisionIssued": "strengthening_decision",
    "ConstructionStarted": "construction_started",
    "ConstructionCompleted": "construction_completed",
    "TrajectoryClosed": "closed",
}
OPEN = ("pending", "deferred")


class AddressState:
    """Everything the read side knows about one address after folding its history."""

    __slots__ = (
        "subject", "registered", "claims", "decisions", "objections", "aos", "deferrals",
        "paid_cents", "pending", "in_programme", "programme", "milestones", "phase",
        "meets_norm", "closed_reason", "scope", "stalled", "samenloop", "samenloop_since",
        "episodes", "integrated", "first_request", "first_approach", "coordinator",
        "first_coordinator", "coordinator_times", "joint_visits", "visit_ids", "referrals", "shared", "consent",
        "contacts", "complaints", "outreach", "filed_times", "first_time", "last_time",
        "history",
    )  # fmt: skip

    def __init__(self, history: History) -> None:
        self.subject = history.subject
        self.history = history
        self.registered: dict[str, Any] | None = None
        self.claims: dict[str, dict[str, Any]] = {}
        self.decisions: dict[str, dict[str, Any]] = {}
        self.objections: dict[str, dict[str, Any]] = {}
        self.aos: dict[str, dict[str, Any]] = {}
        self.deferrals: list[dict[str, Any]] = []
        self.paid_cents = 0
        self.pending = 0  # open claims (deferred count as pending)
        self.in_programme = False
        self.programme: dict[str, Any] = {}
        self.milestones: dict[str, str] = {}
        self.phase = 0
        self.meets_norm: bool | None = None
        self.closed_reason: str | None = None
        self.scope: str | None = None
        self.stalled: dict[str, Any] | None = None
        self.samenloop = False
        self.samenloop_since: str | None = None
        self.episodes: list[list[str | None]] = []  # [start, end or None]
        self.integrated: dict[str, Any] = {}
        self.first_request: str | None = None
        self.first_approach: str | None = None  # first Requested or Agreed
        self.coordinator: dict[str, Any] | None = None
        self.first_coordinator: str | None = None
        self.coordinator_times: list[str] = []
        self.joint_visits: list[dict[str, Any]] = []
        self.visit_ids: set[str] = set()
        self.referrals: list[dict[str, Any]] = []
        self.shared: dict[str, dict[str, Any]] = {}
        self.consent: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.complaints: list[dict[str, Any]] = []
        self.outreach: list[str] = []
        self.filed_times: list[str] = []
        self.first_time: str | None = None
        self.last_time: str | None = None

    # -- derived notions --------------------------------------------------------------------
    def _update_samenloop(self, when: str) -> None:
        now = self.in_programme and self.pending > 0
        if now and not self.samenloop:
            self.samenloop = True
            self.samenloop_since = when
            self.episodes.append([when, None])
        elif self.samenloop and not now:
            self.samenloop = False
            self.samenloop_since = None
            self.episodes[-1][1] = when

    def _end_deferral(self, claim: dict[str, Any], when: str, by: str) -> None:
        index = claim.pop("_deferral", None)
        if index is not None:
            episode = self.deferrals[index]
            episode["end"] = when
            episode["ended_by"] = by
        claim["deferred_reason"] = None
        claim["deferred_since"] = None

    # -- img --------------------------------------------------------------------------------
    def DamageClaimFiled(self, e: Effective) -> None:
        d = e.data
        self.claims[d["claim_id"]] = {
            "claim_id": d["claim_id"],
            "claim_type": d.get("claim_type"),
            "route": d.get("route"),
            "channel": d.get("channel"),
            "status": "pending",
            "filed_at": e.time,
            "decision_term_days": None,
            "decided_at": None,
            "decision_id": None,
            "outcome": None,
            "amount_cents": None,
            "withdrawn_at": None,
            "deferred_reason": None,
            "deferred_since": None,
        }
        self.filed_times.append(e.time)
        self.pending += 1
        self._update_samenloop(e.time)

    def ClaimReceiptConfirmed(self, e: Effective) -> None:
        claim = self.claims.get(e.data["claim_id"])
        if claim is not None:
            claim["decision_term_days"] = e.data["decision_term_days"]
            claim["receipt_confirmed_at"] = e.time

    def CaseGuideAssigned(self, e: Effective) -> None:
        claim = self.claims.get(e.data["claim_id"])
        if claim is not None:
            claim["guide_ref"] = e.data["guide_ref"]

    def DamageInspectionCompleted(self, e: Effective) -> None:
        self.visit_ids.add(e.data["visit_id"])
        claim = self.claims.get(e.data["claim_id"])
        if claim is not None:
            claim["inspected_at"] = e.time

    def AdvisoryReportIssued(self, e: Effective) -> None:
        claim = self.claims.get(e.data["claim_id"])
        if claim is not None:
            claim["advisory_report_at"] = e.time
            claim["assessed_amount_cents"] = e.data.get("assessed_amount_cents")
            claim["causal_finding"] = e.data.get("causal_finding")

    def ClaimDeferred(self, e: Effective) -> None:
        claim = self.claims.get(e.data["claim_id"])
        if claim is None or claim["status"] not in OPEN:
            return
        if claim["status"] == "deferred":
            self._end_deferral(claim, e.time, "deferred")
        claim["status"] = "deferred"
        claim["deferred_reason"] = e.data["reason"]
        claim["deferred_since"] = e.time
        claim["_deferral"] = len(self.deferrals)
        self.deferrals.append(
            {"claim_id": claim["claim_id"], "reason": e.data["reason"], "start": e.time, "end": None, "ended_by": None}
        )

    def ClaimResumed(self, e: Effective) -> None:
        claim = self.claims.get(e.data["claim_id"])
        if claim is not None and claim["status"] == "deferred":
            self._end_deferral(claim, e.time, "resumed")
            claim["status"] = "pending"

    def ClaimDecided(self, e: Effective) -> None:
        d = e.data
        claims = [self.claims[c] for c in d["claim_ids"] if c in self.claims]
        filed = [c["filed_at"] for c in claims]
        self.decisions[d["decision_id"]] = {
            "decision_id": d["decision_id"],
            "decided_at": e.time,
            "claim_ids": list(d["claim_ids"]),
            "outcome": d["outcome"],
            "amount_cents": d["amount_cents"],
            "scheme": d.get("scheme"),
            "paid_cents": 0,
            "objections": [],
            "earliest_filed_at": min(filed) if filed else None,
            "in_programme": self.in_programme,
        }
        for claim in claims:
            if claim["status"] not in OPEN:
                continue
            if claim["status"] == "deferred":
                self._end_deferral(claim, e.time, "decided")
            claim["status"] = "decided"
            claim["decided_at"] = e.time
            claim["decision_id"] = d["decision_id"]
            claim["outcome"] = d["outcome"]
            claim["amount_cents"] = d["amount_cents"]
            claim["decided_in_programme"] = self.in_programme
            self.pending -= 1
        self._update_samenloop(e.time)

    def CompensationPaid(self, e: Effective) -> None:
        self.paid_cents += e.data["amount_cents"]
        decision = self.decisions.get(e.data["decision_id"])
        if decision is not None:
            decision["paid_cents"] += e.data["amount_cents"]

    def ObjectionFiled(self, e: Effective) -> None:
        d = e.data
        self.objections[d["objection_id"]] = {
            "objection_id": d["objection_id"],
            "decision_id": d["decision_id"],
            "filed_at": e.time,
            "decided_at": None,
            "outcome": None,
        }
        decision = self.decisions.get(d["decision_id"])
        if decision is not None:
            decision["objections"].append(d["objection_id"])

    def ObjectionDecided(self, e: Effective) -> None:
        objection = self.objections.get(e.data["objection_id"])
        if objection is not None:
            objection["decided_at"] = e.time
            objection["outcome"] = e.data["outcome"]

    def ClaimWithdrawn(self, e: Effective) -> None:
        claim = self.claims.get(e.data["claim_id"])
        if claim is None or claim["status"] not in OPEN:
            return
        if claim["status"] == "deferred":
            self._end_deferral(claim, e.time, "withdrawn")
        claim["status"] = "withdrawn"
        claim["withdrawn_at"] = e.time
        self.pending -= 1
        self._update_samenloop(e.time)

    def AcuteUnsafeSituationReported(self, e: Effective) -> None:
        self.aos[e.data["aos_id"]] = {
            "aos_id": e.data["aos_id"],
            "reported_at": e.time,
            "reported_by": e.data.get("reported_by"),
            "status": "open",
            "resolved_at": None,
            "well_founded": None,
            "forwarded_to_ncg": None,
        }

    def AcuteUnsafeSituationResolved(self, e: Effective) -> None:
        report = self.aos.get(e.data["aos_id"])
        if report is not None and report["status"] == "open":
            report["status"] = "resolved"
            report["resolved_at"] = e.time
            report["well_founded"] = e.data.get("well_founded")
            report["forwarded_to_ncg"] = e.data.get("forwarded_to_ncg")

    # -- ncg --------------------------------------------------------------------------------
    def AddressAddedToProgramme(self, e: Effective) -> None:
        self.in_programme = True
        self.programme = {
            "programme_ref": e.data.get("programme_ref"),
            "basis": e.data.get("basis"),
            "added_at": e.time,
            "removed_at": None,
            "removed_reason": None,
        }
        if self.phase < 1:
            self.phase = 1
        self._update_samenloop(e.time)

    def AddressRemovedFromProgramme(self, e: Effective) -> None:
        self.in_programme = False
        self.programme["removed_at"] = e.time
        self.programme["removed_reason"] = e.data.get("reason")
        self._update_samenloop(e.time)

    def _milestone(self, e: Effective) -> None:
        key = MILESTONE_KEYS[e.name]
        if key not in self.milestones:
            self.milestones[key] = e.time
        phase = PHASE_OF[e.name]
        if phase > self.phase:
            self.phase = phase

    def AddressIncludedInLocalPlan(self, e: Effective) -> None:
        self._milestone(e)
        self.programme["lpa_year"] = e.data.get("lpa_year")

    def StructuralInspectionCompleted(self, e: Effective) -> None:
        self._milestone(e)
        self.visit_ids.add(e.data["visit_id"])

    AssessmentCompleted = _milestone
    ConstructionStarted = _milestone
    ConstructionCompleted = _milestone

    def NormDecisionIssued(self, e: Effective) -> None:
        self._milestone(e)
        self.meets_norm = e.data["meets_norm"]

    def StrengtheningDecisionIssued(self, e: Effective) -> None:
        self._milestone(e)
        self.scope = e.data.get("scope")

    def TrajectoryClosed(self, e: Effective) -> None:
        self._milestone(e)
        self.closed_reason = e.data["reason"]

    def TrajectoryStalled(self, e: Effective) -> None:
        self.stalled = {"since": e.time, "reason": e.data.get("reason")}

    def TrajectoryResumed(self, e: Effective) -> None:
        self.stalled = None

    def ResidentGuideAssigned(self, e: Effective) -> None:
        self.programme["resident_guide_ref"] = e.data.get("guide_ref")

    # -- ledger / resident ------------------------------------------------------------------
    def AddressRegistered(self, e: Effective) -> None:
        self.registered = dict(e.data)

    def ConsentToDataExchangeGiven(self, e: Effective) -> None:
        self.consent[e.data["party_ref"]] = {"scope": e.data.get("scope"), "given_at": e.time, "active": True}

    def ConsentToDataExchangeRevoked(self, e: Effective) -> None:
        entry = self.consent.get(e.data["party_ref"])
        if entry is not None:
            entry["active"] = False
            entry["revoked_at"] = e.time

    def IntegratedApproachRequested(self, e: Effective) -> None:
        self.integrated["requested_at"] = e.time
        self.integrated["requested_via"] = e.data.get("via")
        if self.first_request is None:
            self.first_request = e.time
        if self.first_approach is None:
            self.first_approach = e.time

    def IntegratedApproachDeclined(self, e: Effective) -> None:
        self.integrated["declined_at"] = e.time

    def ComplaintLodged(self, e: Effective) -> None:
        self.complaints.append(
            {
                "complaint_id": e.data["complaint_id"],
                "against": e.data.get("against"),
                "forum": e.data.get("forum"),
                "lodged_at": e.time,
            }
        )

    def ContactMade(self, e: Effective) -> None:
        org = e.data["with_org"]
        entry = self.contacts.get(org)
        if entry is None:
            entry = self.contacts[org] = {"count": 0, "last_at": None, "by_channel": {}}
        entry["count"] += 1
        entry["last_at"] = e.time
        channel = e.data.get("channel")
        entry["by_channel"][channel] = entry["by_channel"].get(channel, 0) + 1

    # -- coordination -----------------------------------------------------------------------
    def IntegratedApproachOffered(self, e: Effective) -> None:
        self.integrated["offered_at"] = e.time
        self.integrated["offer_id"] = e.data.get("offer_id")

    def IntegratedApproachAgreed(self, e: Effective) -> None:
        self.integrated["agreed_at"] = e.time
        self.integrated["components"] = sorted(e.data.get("components") or ())
        if self.first_approach is None:
            self.first_approach = e.time

    def CoordinatorAssigned(self, e: Effective) -> None:
        self.coordinator = {
            "coordinator_ref": e.data.get("coordinator_ref"),
            "lead_org": e.data.get("lead_org"),
            "assigned_at": e.time,
        }
        if self.first_coordinator is None:
            self.first_coordinator = e.time
        self.coordinator_times.append(e.time)

    def JointVisitHeld(self, e: Effective) -> None:
        self.joint_visits.append({"visit_id": e.data["visit_id"], "held_at": e.time})
        self.visit_ids.add(e.data["visit_id"])

    def InformationShared(self, e: Effective) -> None:
        direction = e.data["direction"]
        entry = self.shared.get(direction)
        if entry is None:
            entry = self.shared[direction] = {"count": 0, "last_at": None, "categories": []}
        entry["count"] += 1
        entry["last_at"] = e.time
        entry["categories"] = sorted(set(entry["categories"]) | set(e.data.get("categories") or ()))

    def CaseReferred(self, e: Effective) -> None:
        self.referrals.append(
            {
                "referred_at": e.time,
                "from_org": e.data.get("from_org"),
                "to_org": e.data.get("to_org"),
                "reason": e.data.get("reason"),
            }
        )

    def OutreachToNonClaimant(self, e: Effective) -> None:
        self.outreach.append(e.time)


Handler = Callable[[AddressState, Effective], None]
HANDLERS: dict[str, Handler] = {
    name: getattr(AddressState, name)
    for name in dir(AddressState)
    if name[:1].isupper() and callable(getattr(AddressState, name))
}


def fold(history: History) -> AddressState:
    """Fold one address's effective events (already in time order) into its state."""
    state = AddressState(history)
    handlers = HANDLERS
    for event in history.effective:
        handler = handlers.get(event.name)
        if handler is not None:
            handler(state, event)
    if history.effective:
        state.first_time = history.effective[0].time
        state.last_time = history.effective[-1].time
    return state


def lead_days(filed_at: str, decided_at: str) -> float:
    """Days from filing to decision."""
    return days_between(filed_at, decided_at)
