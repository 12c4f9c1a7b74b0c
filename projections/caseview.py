"""The joint case view of one address (contract §1).

`case_view(...)` is the pure entry point: an address's stored events in, the document out;
`views_at(...)` gives the views at a series of moments in one pass (the ombudsman replay).
The view splits into a part that depends only on the history (`render`) and the attention
points, which also depend on "now": `attention_candidates` lists every point with the moment
it arises, and `attention` keeps those that have arisen by "now". The projection store keeps
the first two, so serving a view needs no fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from domain.history import COORDINATOR_DAYS
from projections.fold import HANDLERS, AddressState, fold
from projections.history import History, prepare
from projections.timeutil import add_days, now_utc

AOS_HOURS = 48


def render(state: AddressState) -> dict[str, Any]:
    """The now-independent part of the joint view."""
    claims = sorted(state.claims.values(), key=lambda c: (c["filed_at"], c["claim_id"]))
    decisions = sorted(state.decisions.values(), key=lambda d: (d["decided_at"], d["decision_id"]))
    history = state.history
    last = history.last
    return {
        "address": {"subject": state.subject, "registered": state.registered},
        "damage": {
            "claims": [_public(c) for c in claims],
            "decisions": [
                {k: v for k, v in d.items() if k not in ("earliest_filed_at", "in_programme")} for d in decisions
            ],
            "awarded_cents": sum(d["amount_cents"] for d in decisions),
            "paid_cents": state.paid_cents,
            "pending_claims": len(state.pending),
            "open_objections": [o for o in state.objections.values() if o["decided_at"] is None],
            "objections": sorted(state.objections.values(), key=lambda o: (o["filed_at"], o["objection_id"])),
            "aos_reports": sorted(state.aos.values(), key=lambda a: (a["reported_at"], a["aos_id"])),
        },
        "strengthening": {
            "in_programme": state.in_programme,
            "phase": state.phase if state.in_programme else None,
            "programme": state.programme or None,
            "milestones": dict(state.milestones),
            "meets_norm": state.meets_norm,
            "scope": state.scope,
            "closed_reason": state.closed_reason,
            "stalled": state.stalled is not None,
            "stalled_since": state.stalled["since"] if state.stalled else None,
            "stalled_reason": state.stalled["reason"] if state.stalled else None,
        },
        "coordination": {
            "samenloop": state.samenloop,
            "samenloop_since": state.samenloop_since,
            "samenloop_episodes": [{"start": s, "end": e} for s, e in state.episodes],
            "integrated_approach": {
                "requested_at": state.integrated.get("requested_at"),
                "offered_at": state.integrated.get("offered_at"),
                "agreed_at": state.integrated.get("agreed_at"),
                "components": state.integrated.get("components", []),
                "declined_at": state.integrated.get("declined_at"),
            },
            "coordinator": state.coordinator,
            "joint_visits": state.joint_visits,
            "visits": len(state.visit_ids),
            "referrals": state.referrals,
            "information_shared": {d: state.shared[d] for d in sorted(state.shared)},
            "consent_active": any(c["active"] for c in state.consent.values()),
            "outreach": state.outreach,
        },
        "resident": {
            "contacts": {org: state.contacts[org] for org in sorted(state.contacts)},
            "complaints": state.complaints,
        },
        "ledger": {
            "events": history.stored,
            "streamposition": last["streamposition"] if last else None,
            "hash": last["hash"] if last else None,
            "time": last["time"] if last else None,
            "recordedtime": last["recordedtime"] if last else None,
        },
    }


def _public(claim: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claim.items() if k[0] != "_" and k != "decided_in_programme"}


def attention_candidates(state: AddressState) -> list[dict[str, Any]]:
    """Every open point with the moment it arises; `strict` points arise only after it."""
    out: list[dict[str, Any]] = []
    if state.first_approach is not None and state.first_coordinator is None:
        since = add_days(state.first_approach, COORDINATOR_DAYS)
        out.append({"code": "no_coordinator", "since": since, "ref": None, "strict": False})
    for claim in state.claims.values():
        if claim["status"] == "deferred" and claim["deferred_reason"] == "awaiting_strengthening":
            out.append(
                {
                    "code": "deferred_awaiting_strengthening",
                    "since": claim["deferred_since"],
                    "ref": claim["claim_id"],
                    "strict": False,
                }
            )
        term = claim.get("decision_term_days")
        if claim["status"] in ("pending", "deferred") and term is not None:
            since = add_days(claim["filed_at"], term)
            out.append({"code": "claim_over_term", "since": since, "ref": claim["claim_id"], "strict": True})
    for report in state.aos.values():
        if report["status"] == "open":
            since = add_days(report["reported_at"], AOS_HOURS / 24)
            out.append({"code": "aos_open_48h", "since": since, "ref": report["aos_id"], "strict": True})
    if state.stalled is not None:
        out.append({"code": "stalled", "since": state.stalled["since"], "ref": None, "strict": False})
    out.sort(key=lambda a: (a["since"], a["code"], a["ref"] or ""))
    return out


def attention(candidates: Iterable[dict[str, Any]], now: str) -> list[dict[str, Any]]:
    """The points that have arisen by `now`."""
    return [
        {"code": c["code"], "since": c["since"], "ref": c["ref"]}
        for c in candidates
        if c["since"] < now or (c["since"] == now and not c["strict"])
    ]


def case_view(
    events: Iterable[dict[str, Any]],
    subject: str,
    at: str | None = None,
    known_at: str | None = None,
    now: str | None = None,
) -> dict[str, Any]:
    """The joint case view of one address from its stored events (any order).

    `at` / `known_at` are the cut-offs of contract §0 (UTC text); `now` defaults to `at`,
    else the current time.
    """
    state = fold(prepare(events, subject, at, known_at))
    view = render(state)
    view["attention"] = attention(attention_candidates(state), now or at or now_utc())
    return view


def views_at(
    events: Sequence[dict[str, Any]], subject: str, moments: Sequence[str], known_at: str | None = None
) -> Iterator[dict[str, Any]]:
    """`case_view(events, subject, at=m, known_at, now=m)` for each moment m (ascending), folding
    every event once.

    Yields the live rendering: it shares objects with the fold's state, so use (or copy) it
    before asking for the next one. tests/projections checks it against `case_view`.
    """
    full = prepare(events, subject, None, known_at)
    known = sorted(
        (e for e in events if known_at is None or e["recordedtime"] <= known_at),
        key=lambda e: (e["time"], e["streamposition"]),
    )
    shell = History(subject)
    state = AddressState(shell)
    effective = full.effective
    applied = 0
    counted = 0
    for moment in moments:
        while applied < len(effective) and effective[applied][0] <= moment:
            happened, _, name, data = effective[applied]
            handler = HANDLERS.get(name)
            if handler is not None:
                handler(state, happened, data)
            applied += 1
        while counted < len(known) and known[counted]["time"] <= moment:
            event = known[counted]
            shell.stored += 1
            if shell.last is None or event["streamposition"] > shell.last["streamposition"]:
                shell.last = event
            counted += 1
        view = render(state)
        view["attention"] = attention(attention_candidates(state), moment)
        yield view
