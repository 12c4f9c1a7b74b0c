"""The per-address fold: one pass over an address's effective events in time order.

The state it builds is the single source for the joint case view (§1), the per-address
summary behind the governance metrics (§2) and the evaluation figures (§3). It is plain data
(dicts, lists, strings), so it can be rendered, summarised and serialised without I/O.

Pending claims, programme membership, samenloop and the NCG phase are `domain.history.Derived`
(projections §0, "Moments"), which the state extends and the handlers below feed: the one
implementation the rules' effective history and the replay's findings use too.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from domain.history import Derived
from projections.history import History
from projections.timeutil import days_between

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


class AddressState(Derived):
    """Everything the read side knows about one address after folding its history.

    As a `Derived`: `pending` (the ids of the pending claims), `in_programme`, `phase`,
    `samenloop`, `samenloop_since` and `episodes` ([start, end or None], of positive length).
    """

    __slots__ = (
        "subject", "registered", "claims", "decisions", "objections", "aos", "deferrals",
        "paid_cents", "programme", "milestones", "meets_norm", "closed_reason", "scope",
        "stalled", "integrated", "first_request", "first_approach", "coordinator",
        "first_coordinator", "coordinator_times", "joint_visits", "visit_ids", "referrals", "shared", "consent",
        "contacts", "complaints", "outreach", "filed_times", "first_time", "last_time",
        "history",
    )  # fmt: skip

    def __init__(self, history: History) -> None:
        Derived.__init__(self)  # pending claims, programme, samenloop episodes, NCG phase (§0)
        self.subject = history.subject
        self.history = history
        self.registered: dict[str, Any] | None = None
        self.claims: dict[str, dict[str, Any]] = {}
        self.decisions: dict[str, dict[str, Any]] = {}
        self.objections: dict[str, dict[str, Any]] = {}
        self.aos: dict[str, dict[str, Any]] = {}
        self.deferrals: list[dict[str, Any]] = []
        self.paid_cents = 0
        self.programme: dict[str, Any] = {}
        self.milestones: dict[str, str] = {}
        self.meets_norm: bool | None = None
        self.closed_reason: str | None = None
        self.scope: str | None = None
        self.stalled: dict[str, Any] | None = None
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

    def _end_deferral(self, claim: dict[str, Any], when: str, by: str) -> None:
        index = claim.pop("_deferral", None)
        if index is not None:
            episode = self.deferrals[index]
            episode["end"] = when
            episode["ended_by"] = by
        claim["deferred_reason"] = None
        claim["deferred_since"] = None

    # -- img --------------------------------------------------------------------------------
    def DamageClaimFiled(self, t: str, d: dict[str, Any]) -> None:
        self.claims[d["claim_id"]] = {
            "claim_id": d["claim_id"],
            "claim_type": d.get("claim_type"),
            "route": d.get("route"),
            "channel": d.get("channel"),
            "status": "pending",
            "filed_at": t,
            "decision_term_days": None,
            "decided_at": None,
            "decision_id": None,
            "outcome": None,
            "amount_cents": None,
            "withdrawn_at": None,
            "deferred_reason": None,
            "deferred_since": None,
        }
        self.filed_times.append(t)
        self.claim_filed(d["claim_id"], t)

    def ClaimReceiptConfirmed(self, t: str, d: dict[str, Any]) -> None:
        claim = self.claims.get(d["claim_id"])
        if claim is not None:
            claim["decision_term_days"] = d["decision_term_days"]
            claim["receipt_confirmed_at"] = t

    def CaseGuideAssigned(self, t: str, d: dict[str, Any]) -> None:
        claim = self.claims.get(d["claim_id"])
        if claim is not None:
            claim["guide_ref"] = d["guide_ref"]

    def DamageInspectionCompleted(self, t: str, d: dict[str, Any]) -> None:
        self.visit_ids.add(d["visit_id"])
        claim = self.claims.get(d["claim_id"])
        if claim is not None:
            claim["inspected_at"] = t

    def AdvisoryReportIssued(self, t: str, d: dict[str, Any]) -> None:
        claim = self.claims.get(d["claim_id"])
        if claim is not None:
            claim["advisory_report_at"] = t
            claim["assessed_amount_cents"] = d.get("assessed_amount_cents")
            claim["causal_finding"] = d.get("causal_finding")

    def _move_open(self, claim_id: str, t: str, status: str) -> dict[str, Any] | None:
        """The open claim `claim_id`, now in `status` from `t` (a running deferral ended by it); None
        when there is no such open claim."""
        claim = self.claims.get(claim_id)
        if claim is None or claim["status"] not in OPEN:
            return None
        if claim["status"] == "deferred":
            self._end_deferral(claim, t, status)
        claim["status"] = status
        return claim

    def ClaimDeferred(self, t: str, d: dict[str, Any]) -> None:
        claim = self._move_open(d["claim_id"], t, "deferred")
        if claim is None:
            return
        claim["deferred_reason"] = d["reason"]
        claim["deferred_since"] = t
        claim["_deferral"] = len(self.deferrals)
        self.deferrals.append(
            {"claim_id": claim["claim_id"], "reason": d["reason"], "start": t, "end": None, "ended_by": None}
        )

    def ClaimResumed(self, t: str, d: dict[str, Any]) -> None:
        claim = self.claims.get(d["claim_id"])
        if claim is not None and claim["status"] == "deferred":
            self._end_deferral(claim, t, "resumed")
            claim["status"] = "pending"

    def ClaimDecided(self, t: str, d: dict[str, Any]) -> None:
        claims = [self.claims[c] for c in d["claim_ids"] if c in self.claims]
        filed = [c["filed_at"] for c in claims]
        # E1: in the programme up to this moment (so in samenloop until the decision)
        in_programme = self.in_programme_before(t)
        self.decisions[d["decision_id"]] = {
            "decision_id": d["decision_id"],
            "decided_at": t,
            "claim_ids": list(d["claim_ids"]),
            "outcome": d["outcome"],
            "amount_cents": d["amount_cents"],
            "scheme": d.get("scheme"),
            "paid_cents": 0,
            "objections": [],
            "earliest_filed_at": min(filed) if filed else None,
            "in_programme": in_programme,
        }
        for claim_id in d["claim_ids"]:
            claim = self._move_open(claim_id, t, "decided")
            if claim is None:
                continue
            claim["decided_at"] = t
            claim["decision_id"] = d["decision_id"]
            claim["outcome"] = d["outcome"]
            claim["amount_cents"] = d["amount_cents"]
            claim["decided_in_programme"] = in_programme
        self.claims_settled(d["claim_ids"], t)

    def CompensationPaid(self, t: str, d: dict[str, Any]) -> None:
        self.paid_cents += d["amount_cents"]
        decision = self.decisions.get(d["decision_id"])
        if decision is not None:
            decision["paid_cents"] += d["amount_cents"]

    def ObjectionFiled(self, t: str, d: dict[str, Any]) -> None:
        self.objections[d["objection_id"]] = {
            "objection_id": d["objection_id"],
            "decision_id": d["decision_id"],
            "filed_at": t,
            "decided_at": None,
            "outcome": None,
        }
        decision = self.decisions.get(d["decision_id"])
        if decision is not None:
            decision["objections"].append(d["objection_id"])

    def ObjectionDecided(self, t: str, d: dict[str, Any]) -> None:
        objection = self.objections.get(d["objection_id"])
        if objection is not None:
            objection["decided_at"] = t
            objection["outcome"] = d["outcome"]

    def ClaimWithdrawn(self, t: str, d: dict[str, Any]) -> None:
        claim = self._move_open(d["claim_id"], t, "withdrawn")
        if claim is None:
            return
        claim["withdrawn_at"] = t
        self.claims_settled((d["claim_id"],), t)

    def AcuteUnsafeSituationReported(self, t: str, d: dict[str, Any]) -> None:
        self.aos[d["aos_id"]] = {
            "aos_id": d["aos_id"],
            "reported_at": t,
            "reported_by": d.get("reported_by"),
            "status": "open",
            "resolved_at": None,
            "well_founded": None,
            "forwarded_to_ncg": None,
        }

    def AcuteUnsafeSituationResolved(self, t: str, d: dict[str, Any]) -> None:
        report = self.aos.get(d["aos_id"])
        if report is not None and report["status"] == "open":
            report["status"] = "resolved"
            report["resolved_at"] = t
            report["well_founded"] = d.get("well_founded")
            report["forwarded_to_ncg"] = d.get("forwarded_to_ncg")

    # -- ncg --------------------------------------------------------------------------------
    def AddressAddedToProgramme(self, t: str, d: dict[str, Any]) -> None:
        self.added(t)
        self.programme = {
            "programme_ref": d.get("programme_ref"),
            "basis": d.get("basis"),
            "added_at": t,
            "removed_at": None,
            "removed_reason": None,
        }

    def AddressRemovedFromProgramme(self, t: str, d: dict[str, Any]) -> None:
        self.removed(t)
        self.programme["removed_at"] = t
        self.programme["removed_reason"] = d.get("reason")

    def _milestone(self, name: str, t: str) -> None:
        key = MILESTONE_KEYS[name]
        if key not in self.milestones:
            self.milestones[key] = t
        self.milestone(name)

    def AddressIncludedInLocalPlan(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("AddressIncludedInLocalPlan", t)
        self.programme["lpa_year"] = d.get("lpa_year")

    def StructuralInspectionCompleted(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("StructuralInspectionCompleted", t)
        self.visit_ids.add(d["visit_id"])

    def AssessmentCompleted(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("AssessmentCompleted", t)

    def ConstructionStarted(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("ConstructionStarted", t)

    def ConstructionCompleted(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("ConstructionCompleted", t)

    def NormDecisionIssued(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("NormDecisionIssued", t)
        self.meets_norm = d["meets_norm"]

    def StrengtheningDecisionIssued(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("StrengtheningDecisionIssued", t)
        self.scope = d.get("scope")

    def TrajectoryClosed(self, t: str, d: dict[str, Any]) -> None:
        self._milestone("TrajectoryClosed", t)
        self.closed_reason = d["reason"]

    def TrajectoryStalled(self, t: str, d: dict[str, Any]) -> None:
        self.stalled = {"since": t, "reason": d.get("reason")}

    def TrajectoryResumed(self, t: str, d: dict[str, Any]) -> None:
        self.stalled = None

    def ResidentGuideAssigned(self, t: str, d: dict[str, Any]) -> None:
        self.programme["resident_guide_ref"] = d.get("guide_ref")

    # -- ledger / resident ------------------------------------------------------------------
    def AddressRegistered(self, t: str, d: dict[str, Any]) -> None:
        self.registered = dict(d)

    def ConsentToDataExchangeGiven(self, t: str, d: dict[str, Any]) -> None:
        self.consent[d["party_ref"]] = {"scope": d.get("scope"), "given_at": t, "active": True}

    def ConsentToDataExchangeRevoked(self, t: str, d: dict[str, Any]) -> None:
        entry = self.consent.get(d["party_ref"])
        if entry is not None:
            entry["active"] = False
            entry["revoked_at"] = t

    def IntegratedApproachRequested(self, t: str, d: dict[str, Any]) -> None:
        self.integrated["requested_at"] = t
        self.integrated["requested_via"] = d.get("via")
        if self.first_request is None:
            self.first_request = t
        if self.first_approach is None:
            self.first_approach = t

    def IntegratedApproachDeclined(self, t: str, d: dict[str, Any]) -> None:
        self.integrated["declined_at"] = t

    def ComplaintLodged(self, t: str, d: dict[str, Any]) -> None:
        self.complaints.append(
            {
                "complaint_id": d["complaint_id"],
                "against": d.get("against"),
                "forum": d.get("forum"),
                "lodged_at": t,
            }
        )

    def ContactMade(self, t: str, d: dict[str, Any]) -> None:
        org = d["with_org"]
        entry = self.contacts.get(org)
        if entry is None:
            entry = self.contacts[org] = {"count": 0, "last_at": None, "by_channel": {}}
        entry["count"] += 1
        entry["last_at"] = t
        channel = d.get("channel")
        entry["by_channel"][channel] = entry["by_channel"].get(channel, 0) + 1

    # -- coordination -----------------------------------------------------------------------
    def IntegratedApproachOffered(self, t: str, d: dict[str, Any]) -> None:
        self.integrated["offered_at"] = t
        self.integrated["offer_id"] = d.get("offer_id")

    def IntegratedApproachAgreed(self, t: str, d: dict[str, Any]) -> None:
        self.integrated["agreed_at"] = t
        self.integrated["components"] = sorted(d.get("components") or ())
        if self.first_approach is None:
            self.first_approach = t

    def CoordinatorAssigned(self, t: str, d: dict[str, Any]) -> None:
        self.coordinator = {
            "coordinator_ref": d.get("coordinator_ref"),
            "lead_org": d.get("lead_org"),
            "assigned_at": t,
        }
        if self.first_coordinator is None:
            self.first_coordinator = t
        self.coordinator_times.append(t)

    def JointVisitHeld(self, t: str, d: dict[str, Any]) -> None:
        self.joint_visits.append({"visit_id": d["visit_id"], "held_at": t})
        self.visit_ids.add(d["visit_id"])

    def InformationShared(self, t: str, d: dict[str, Any]) -> None:
        direction = d["direction"]
        entry = self.shared.get(direction)
        if entry is None:
            entry = self.shared[direction] = {"count": 0, "last_at": None, "categories": []}
        entry["count"] += 1
        entry["last_at"] = t
        entry["categories"] = sorted(set(entry["categories"]) | set(d.get("categories") or ()))

    def CaseReferred(self, t: str, d: dict[str, Any]) -> None:
        self.referrals.append(
            {
                "referred_at": t,
                "from_org": d.get("from_org"),
                "to_org": d.get("to_org"),
                "reason": d.get("reason"),
            }
        )

    def OutreachToNonClaimant(self, t: str, d: dict[str, Any]) -> None:
        self.outreach.append(t)


Handler = Callable[[AddressState, str, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {
    name: getattr(AddressState, name)
    for name in dir(AddressState)
    if name[:1].isupper() and callable(getattr(AddressState, name))
}


def fold(history: History) -> AddressState:
    """Fold one address's effective events (already in time order) into its state."""
    state = AddressState(history)
    handlers = HANDLERS
    for t, _, name, d in history.effective:
        handler = handlers.get(name)
        if handler is not None:
            handler(state, t, d)
    if history.effective:
        state.first_time = history.effective[0][0]
        state.last_time = history.effective[-1][0]
    return state


@lru_cache(maxsize=1 << 16)
def lead_days(filed_at: str, decided_at: str) -> float:
    """Days from filing to decision (cached: the bitemporal index asks the same pairs at every
    moment of an address, `projections.bitemporal`)."""
    return days_between(filed_at, decided_at)
