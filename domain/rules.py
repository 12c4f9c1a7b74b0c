"""The per-address aggregate: the state rules R2–R9 need, and the checks themselves (contract §4).

Rules see the address's accepted history in stream order, with corrections applied and
retracted events ignored: the effective history of `domain.history`, the one the read side and
the replay fold too. R1 (authorisation) is checked with the envelope.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from domain.catalogue import BY_NAME, event_name
from domain.chain import GENESIS
from domain.history import AMENDMENTS
from domain.history import effective_history as _effective
from domain.results import RULE_VIOLATED, Rejection
from domain.timeutil import EPOCH_MIN

OPEN, DECIDED, WITHDRAWN = "open", "decided", "withdrawn"
# ncg events allowed after TrajectoryClosed (R6)
AFTER_CLOSED = frozenset({"TrajectoryStalled", "TrajectoryResumed"})


def _violation(rule: str, message: str, path: str | None = "$.data") -> Rejection:
    return Rejection(RULE_VIOLATED, f"{rule}: {message}", path)


class Claim:
    __slots__ = ("status", "filed", "deferred")

    def __init__(self, filed: str) -> None:
        self.status = OPEN
        self.filed = filed
        self.deferred: str | None = None


# The state folded from the effective history (the rest is the chain position).
DERIVED = (
    "claims",
    "decisions",
    "objections",
    "in_programme",
    "programme_since",
    "programme_until",
    "milestones",
    "closed",
    "offers",
)


class AddressState:
    """What the rules need to know of one address, folded from its effective history."""

    __slots__ = (
        "subject",
        "version",
        "last_hash",
        "last_recorded",
        "has_amendments",
        *DERIVED,
    )

    def __init__(self, subject: str) -> None:
        self.subject = subject
        self.version = 0
        self.last_hash = GENESIS
        self.last_recorded = ""
        self.has_amendments = False
        self.claims: dict[str, Claim] = {}
        self.decisions: dict[str, list[Any]] = {}  # id -> [amount, paid, time]
        self.objections: dict[str, list[Any]] = {}  # id -> [decided, time]
        self.in_programme = False
        self.programme_since = ""
        self.programme_until = ""  # time of the latest AddressRemovedFromProgramme
        self.milestones: dict[str, str] = {}  # milestone -> time first reached
        self.closed = False
        self.offers: dict[str, str] = {}

    # -- checks ---------------------------------------------------------------------------
    def check(self, event: dict[str, Any], name: str, clock: str | None) -> None:
        """Raise `Rejection(rule_violated)` when `event` may not follow this history."""
        time = event["time"]
        if time < EPOCH_MIN:
            raise _violation("R7", "time is before 2012-01-01", "$.time")
        if clock is not None and time > clock:
            raise _violation("R7", "time is later than the ledger's clock plus 5 minutes", "$.time")
        entry = BY_NAME[name]
        handler = _CHECKS.get(name)
        if entry.group == "ncg":
            self._check_programme(name, time)
        if handler is not None:
            handler(self, event["data"], time, event)

    def _after(self, time: str, earlier: str, rule: str, what: str) -> None:
        if time < earlier:
            raise _violation("R7", f"time is before {what} ({earlier}) that it depends on ({rule})", "$.time")

    def _claim(self, claim_id: str, path: str = "$.data.claim_id") -> Claim:
        claim = self.claims.get(claim_id)
        if claim is None:
            raise _violation("R2", f"no DamageClaimFiled with claim_id {claim_id!r} at this address", path)
        return claim

    def _check_programme(self, name: str, time: str) -> None:
        if name == "AddressAddedToProgramme":
            if self.in_programme:
                raise _violation("R5", "the address is already in the programme", "$.type")
            # R7: re-adding depends on the removal before it (else the stream order and the
            # valid-time order of the programme's changes would disagree)
            self._after(time, self.programme_until, "R5", "AddressRemovedFromProgramme")
            return
        if not self.in_programme:
            raise _violation("R5", f"{name} needs the address to be in the programme", "$.type")
        self._after(time, self.programme_since, "R5", "AddressAddedToProgramme")
        if self.closed and name not in AFTER_CLOSED:
            raise _violation("R6", f"no {name} after TrajectoryClosed", "$.type")

    def _claim_filed(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        if data["claim_id"] in self.claims:
            raise _violation("R2", f"claim_id {data['claim_id']!r} is already used at this address", "$.data.claim_id")

    def _claim_ref(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        claim = self._claim(data["claim_id"])
        self._after(time, claim.filed, "R2", "the claim's filing")

    def _claim_deferred(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        claim = self._claim(data["claim_id"])
        if claim.status != OPEN or claim.deferred is not None:
            raise _violation("R3", f"claim {data['claim_id']!r} is not open and undeferred", "$.data.claim_id")
        self._after(time, claim.filed, "R3", "the claim's filing")

    def _claim_resumed(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        claim = self._claim(data["claim_id"])
        if claim.status != OPEN or claim.deferred is None:
            raise _violation("R3", f"claim {data['claim_id']!r} is not deferred", "$.data.claim_id")
        self._after(time, claim.deferred, "R3", "the deferral")

    def _claim_withdrawn(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        claim = self._claim(data["claim_id"])
        if claim.status != OPEN:
            raise _violation("R3", f"claim {data['claim_id']!r} is not open", "$.data.claim_id")
        self._after(time, claim.filed, "R3", "the claim's filing")

    def _claim_decided(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        if data["decision_id"] in self.decisions:
            raise _violation("R4", f"decision_id {data['decision_id']!r} is already used", "$.data.decision_id")
        seen: set[str] = set()
        for index, claim_id in enumerate(data["claim_ids"]):
            path = f"$.data.claim_ids[{index}]"
            claim = self._claim(claim_id, path)
            if claim.status != OPEN or claim_id in seen:
                raise _violation("R3", f"claim {claim_id!r} is not open", path)
            seen.add(claim_id)
            self._after(time, claim.filed, "R3", f"the filing of claim {claim_id!r}")

    def _decision(self, decision_id: str) -> list[Any]:
        decision = self.decisions.get(decision_id)
        if decision is None:
            raise _violation("R4", f"no ClaimDecided with decision_id {decision_id!r}", "$.data.decision_id")
        return decision

    def _paid(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        amount, paid, decided = self._decision(data["decision_id"])
        if paid + data["amount_cents"] > amount:
            raise _violation(
                "R4",
                f"payments would total {paid + data['amount_cents']} cents, more than the decision's {amount}",
                "$.data.amount_cents",
            )
        self._after(time, decided, "R4", "the decision")

    def _objection_filed(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        decided = self._decision(data["decision_id"])[2]
        if data["objection_id"] in self.objections:
            raise _violation("R4", f"objection_id {data['objection_id']!r} is already used", "$.data.objection_id")
        self._after(time, decided, "R4", "the decision")

    def _objection_decided(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        objection = self.objections.get(data["objection_id"])
        if objection is None or objection[0]:
            raise _violation(
                "R4", f"no undecided ObjectionFiled with objection_id {data['objection_id']!r}", "$.data.objection_id"
            )
        self._after(time, objection[1], "R4", "the objection")

    def _closed(self, data: dict[str, Any], time: str, event: dict[str, Any]) -> None:
        reason = data["reason"]
        if reason == "built":
            _needs("completed", "ConstructionCompleted")(self, data, time, event)
        elif reason == "meets_norm":
            _needs("norm_met", "NormDecisionIssued with meets_norm=true")(self, data, time, event)

    def _agreed(self, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        offered = self.offers.get(data["offer_id"])
        if offered is None:
            raise _violation(
                "R9", f"no IntegratedApproachOffered with offer_id {data['offer_id']!r}", "$.data.offer_id"
            )
        self._after(time, offered, "R9", "the offer")

    def _referred(self, data: dict[str, Any], time: str, event: dict[str, Any]) -> None:
        if data["from_org"] != event["org"]:
            raise _violation("R9", "from_org must be the emitting org", "$.data.from_org")

    # -- state changes ----------------------------------------------------------------------
    def apply(self, event: dict[str, Any], name: str) -> None:
        """Fold one accepted, effective event into the state."""
        data = event["data"]
        time = event["time"]
        if name == "DamageClaimFiled":
            self.claims[data["claim_id"]] = Claim(time)
        elif name == "ClaimDeferred":
            self.claims[data["claim_id"]].deferred = time
        elif name == "ClaimResumed":
            self.claims[data["claim_id"]].deferred = None
        elif name == "ClaimWithdrawn":
            self.claims[data["claim_id"]].status = WITHDRAWN
        elif name == "ClaimDecided":
            for claim_id in data["claim_ids"]:
                self.claims[claim_id].status = DECIDED
            self.decisions[data["decision_id"]] = [data["amount_cents"], 0, time]
        elif name == "CompensationPaid":
            self.decisions[data["decision_id"]][1] += data["amount_cents"]
        elif name == "ObjectionFiled":
            self.objections[data["objection_id"]] = [False, time]
        elif name == "ObjectionDecided":
            self.objections[data["objection_id"]][0] = True
        elif name == "AddressAddedToProgramme":
            self.in_programme = True
            self.programme_since = time
        elif name == "AddressRemovedFromProgramme":
            self.in_programme = False
            self.programme_until = time
        elif name == "NormDecisionIssued":
            key = "norm_met" if data["meets_norm"] else "norm_not_met"
            self.milestones.setdefault(key, time)
        elif name == "StrengtheningDecisionIssued":
            self.milestones.setdefault("strengthening", time)
        elif name == "ConstructionStarted":
            self.milestones.setdefault("started", time)
        elif name == "ConstructionCompleted":
            self.milestones.setdefault("completed", time)
        elif name == "TrajectoryClosed":
            self.closed = True
        elif name == "IntegratedApproachOffered":
            self.offers.setdefault(data["offer_id"], time)


def _needs(milestone: str, what: str, rule: str = "R6") -> Any:
    """A check that `milestone` was reached before, and not later in time (R6, R7)."""

    def check(state: AddressState, data: dict[str, Any], time: str, _: dict[str, Any]) -> None:
        reached = state.milestones.get(milestone)
        if reached is None:
            raise _violation(rule, f"needs {what} first", "$.type")
        state._after(time, reached, rule, what)

    return check


_CHECKS: dict[str, Any] = {
    "DamageClaimFiled": AddressState._claim_filed,
    "ClaimReceiptConfirmed": AddressState._claim_ref,
    "CaseGuideAssigned": AddressState._claim_ref,
    "DamageInspectionCompleted": AddressState._claim_ref,
    "AdvisoryReportIssued": AddressState._claim_ref,
    "ClaimDeferred": AddressState._claim_deferred,
    "ClaimResumed": AddressState._claim_resumed,
    "ClaimWithdrawn": AddressState._claim_withdrawn,
    "ClaimDecided": AddressState._claim_decided,
    "CompensationPaid": AddressState._paid,
    "ObjectionFiled": AddressState._objection_filed,
    "ObjectionDecided": AddressState._objection_decided,
    "StrengtheningDecisionIssued": _needs("norm_not_met", "NormDecisionIssued with meets_norm=false"),
    "ConstructionStarted": _needs("strengthening", "StrengtheningDecisionIssued"),
    "ConstructionCompleted": _needs("started", "ConstructionStarted"),
    "TrajectoryClosed": AddressState._closed,
    "IntegratedApproachAgreed": AddressState._agreed,
    "CaseReferred": AddressState._referred,
}


def effective_history(events: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """The history rules see: amendments applied, retracted events and amendments left out, in
    stream order (`domain.history.effective_history` without cut-offs)."""
    return _effective(events, in_time_order=False)


def fold(subject: str, stored: Iterable[dict[str, Any]], *, check: bool = False) -> AddressState:
    """Build an address's state from its stored events (in stream order).

    With `check`, every effective event is checked against the state before it (dependency
    rules only, not the clock): used to test that a corrected history is still valid.
    """
    stored = list(stored)
    state = AddressState(subject)
    for event in effective_history(stored):
        name = event_name(event["type"])
        if check:
            state.check(event, name, None)
        state.apply(event, name)
    if stored:
        last = stored[-1]
        state.version = last.get("streamposition", len(stored))
        state.last_hash = last.get("hash", GENESIS)
        state.last_recorded = last.get("recordedtime", "")
        state.has_amendments = any(event_name(e["type"]) in AMENDMENTS for e in stored)
    return state
