"""The per-address summary: what the global figures (§2, §3) need from one address.

It depends only on the address's history (never on "now" or the pivot), so it is stored with
the address and recomputed when the address's events change. Empty parts are left out to
keep the 220,000 summaries of a Groningen-scale ledger small.
"""

from __future__ import annotations

from typing import Any

from projections.fold import AddressState, lead_days

AOS_WITHIN_DAYS = 2.0
AWAITING = "awaiting_strengthening"


def summarize(state: AddressState) -> dict[str, Any]:
    """The summary of one folded address (plain JSON data)."""
    s: dict[str, Any] = {}
    if state.in_programme:
        s["programme"] = state.phase
    if state.closed_reason is not None:
        s["closed"] = state.closed_reason
    if state.filed_times:
        filed: dict[str, int] = {}
        for t in state.filed_times:
            filed[t[:4]] = filed.get(t[:4], 0) + 1
        s["filed"] = filed
    if state.samenloop:
        s["samenloop"] = 1
    if state.episodes:
        s["sl_first"] = state.episodes[0][0]
        ends = [e for _, e in state.episodes]
        s["sl_end"] = None if ends[-1] is None else max(e for e in ends if e is not None)
        _coordination(state, s)
    _decisions(state, s)
    _claims(state, s)
    resolved = [a for a in state.aos.values() if a["resolved_at"] is not None]
    if resolved:
        within = sum(1 for a in resolved if lead_days(a["reported_at"], a["resolved_at"]) <= AOS_WITHIN_DAYS)
        s["aos"] = [len(resolved), within]
    if state.history.by_org:
        s["orgs"] = state.history.by_org
    if state.first_request is not None:
        first = state.first_request
        after = next((t for t in state.coordinator_times if t >= first), None)
        s["e3"] = [first, lead_days(first, after) if after is not None else None]
    if state.outreach:
        s["e5"] = int(_converted(state))
    if state.referrals:
        s["referrals"] = [r["referred_at"] for r in state.referrals]
    if state.complaints:
        s["complaints"] = [c["lodged_at"] for c in state.complaints]
    if state.first_time is not None:
        s["span"] = [state.first_time, state.last_time]
    return s


def _coordination(state: AddressState, s: dict[str, Any]) -> None:
    """G12, G13 and E2 inputs, for addresses ever in samenloop."""
    s["offered"] = int("offered_at" in state.integrated)
    s["agreed"] = int("agreed_at" in state.integrated)
    s["coordinator"] = int(state.first_coordinator is not None)
    first = s["sl_first"]
    if state.first_coordinator is not None and state.first_coordinator >= first:
        s["s2c"] = lead_days(first, state.first_coordinator)
    s["joint"] = int(bool(state.joint_visits))
    s["visits"] = len(state.visit_ids)


def _decisions(state: AddressState, s: dict[str, Any]) -> None:
    """G6 (decided), G8, G9, G10: [time, decision_id, lead days, outcome, objected, claims]."""
    if not state.decisions:
        return
    s["decisions"] = [
        [
            d["decided_at"],
            d["decision_id"],
            lead_days(d["earliest_filed_at"], d["decided_at"]) if d["earliest_filed_at"] else None,
            d["outcome"],
            int(bool(d["objections"])),
            len(d["claim_ids"]),
        ]
        for d in state.decisions.values()
    ]


def _claims(state: AddressState, s: dict[str, Any]) -> None:
    """G7, G11, E1, E4 inputs."""
    pending: list[str] = []
    awaiting: list[str] = []
    e1: list[list[Any]] = []
    for claim in state.claims.values():
        status = claim["status"]
        if status == "pending" or status == "deferred":
            pending.append(claim["filed_at"])
            if status == "deferred" and claim["deferred_reason"] == AWAITING:
                awaiting.append(claim["deferred_since"])
        elif status == "decided":
            decided = claim["decided_at"]
            e1.append([decided[:4], int(claim["decided_in_programme"]), lead_days(claim["filed_at"], decided)])
    if pending:
        s["pending"] = pending
    if awaiting:
        s["awaiting"] = awaiting
    if e1:
        s["e1"] = e1
    episodes = [[d["start"], d["end"]] for d in state.deferrals if d["reason"] == AWAITING]
    if episodes:
        s["e4"] = episodes
        s["e4_claims"] = len({d["claim_id"] for d in state.deferrals if d["reason"] == AWAITING})


def _converted(state: AddressState) -> bool:
    """E5: a DamageClaimFiled within 90 days after some OutreachToNonClaimant."""
    for reached in state.outreach:
        for filed in state.filed_times:
            if filed >= reached and lead_days(reached, filed) <= 90:
                return True
    return False
