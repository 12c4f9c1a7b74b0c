"""The rules, the read side and the replay agree on one history, moment by moment (hypothesis).

Random histories of one address that the rules accept (R2–R9 through `domain.rules` and
`domain.service.check_amendment`, as the append service checks them), with times drawn from a
handful of moments so that many events share one `time`, in every stream order, back-dated
filings, corrections and retractions, and random `at` / `known_at` cut-offs on the same few
moments. For each, against a reference written straight from projections §0 (the state at a
moment is the state after every event with `time` ≤ it; episodes start at the first moment
samenloop holds and end at the first moment it does not):
- the effective history of the rules (stream order), the read side (`prepare`), the replay
  (`build_history`) and `domain.history`;
- in programme and the pending claims of the rules' state, the read side's case view and the
  replay's fold;
- samenloop now, since, ever and every episode: case view, figures (G3, G12, G13, E2) and the
  replay's episodes; the NCG phase; E1's grouping of decided claims.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalogue import BY_NAME, event_name
from domain.history import AMENDMENTS, GOVERNS, WITHIN, cut, derive, order_key, standing
from domain.results import Rejection
from domain.rules import DERIVED, OPEN, AddressState
from domain.rules import effective_history as rules_history
from domain.rules import fold as rules_fold
from domain.service import check_amendment
from projections import case_view
from projections.figures import Aggregate, evaluation, metrics
from projections.fold import fold
from projections.history import prepare
from projections.summary import summarize
from replay.history import build_history
from replay.intervals import samenloop_episodes
from tests.factories import EXAMPLE_DATA, SOURCES, subject

SUBJECT = subject(901)
NAMESPACE = uuid.UUID("5d1c7a52-3f1e-4a0b-9c77-1e2d3c4b5a69")
DAYS = [f"2022-03-{d:02d}T09:00:00.000000Z" for d in range(1, 9)]  # the few moments events happen at
CUTOFFS = [None, *DAYS, "2022-03-03T21:00:00.000000Z", "2022-03-19T09:00:00.000000Z"]
NOW = "2025-01-01T00:00:00.000000Z"
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract" / "projections.md"


def _contract_phases() -> dict[str, int]:
    """Projections §0's NCG phase of each milestone, read from the contract's own sentence
    ("… · 2 inspection (`AddressIncludedInLocalPlan`) · …"), not from the code under test."""
    text = " ".join(CONTRACT.read_text(encoding="utf-8").split())
    sentence = text[text.index("**NCG phase**") : text.index("**visit**")]
    return {
        name: int(phase)
        for phase, names in re.findall(r"(\d) [\w-]+ \(([^)]*)\)", sentence)
        for name in re.findall(r"`(\w+)`", names)
    }


PHASE = _contract_phases()
KINDS = [
    "DamageClaimFiled",
    "DamageClaimFiled",
    "ClaimDecided",
    "ClaimDecided",
    "ClaimWithdrawn",
    "ClaimDeferred",
    "ClaimResumed",
    "AddressAddedToProgramme",
    "AddressAddedToProgramme",
    "AddressRemovedFromProgramme",
    "AddressRemovedFromProgramme",
    *PHASE,
    "JointVisitHeld",
    "ContactMade",
    "EventCorrected",
    "EventCorrected",
    "EventRetracted",
    "EventRetracted",
]
Event = dict[str, Any]


# -- random histories the rules accept ----------------------------------------------------------
def _accepts(state: AddressState, stream: list[Event], event: Event) -> bool:
    """Check `event` as the append service does; on acceptance the state includes it."""
    name = event_name(event["type"])
    try:
        state.check(event, name, None)
        if name in AMENDMENTS:
            fresh = check_amendment(event, name, stream)
            for slot in DERIVED:
                setattr(state, slot, getattr(fresh, slot))
        else:
            state.apply(event, name)
    except Rejection:
        return False
    return True


def _data(draw: st.DrawFn, name: str, state: AddressState, stream: list[Event], n: int) -> dict[str, Any] | None:
    data = dict(EXAMPLE_DATA[name])
    claims = sorted(state.claims)
    open_claims = sorted(c for c, claim in state.claims.items() if claim.status == OPEN)
    if name == "DamageClaimFiled":
        data["claim_id"] = f"C-{n}"
    elif name in ("ClaimWithdrawn", "ClaimDeferred", "ClaimResumed"):
        if not claims:
            return None
        data["claim_id"] = draw(st.sampled_from(claims))
    elif name == "ClaimDecided":
        if not open_claims:
            return None
        data.update(
            decision_id=f"D-{n}",
            claim_ids=draw(st.lists(st.sampled_from(open_claims), min_size=1, max_size=2, unique=True)),
        )
    elif name == "NormDecisionIssued":
        data["meets_norm"] = draw(st.booleans())
    elif name == "TrajectoryClosed":
        data["reason"] = draw(st.sampled_from(["built", "meets_norm"]))
    elif name in ("JointVisitHeld", "StructuralInspectionCompleted"):
        data["visit_id"] = f"V-{n}"
    elif name in AMENDMENTS:
        targets = [
            e
            for e in stream
            if event_name(e["type"]) not in AMENDMENTS and not any(a["data"].get("retracts") == e["id"] for a in stream)
        ]
        if not targets:
            return None
        target = draw(st.sampled_from(targets))
        if name == "EventRetracted":
            return {"retracts": target["id"], "reason": "dubbel geregistreerd"}
        return {"corrects": target["id"], "data": _corrected(draw, target, claims), "reason": "gegevens hersteld"}
    return data


def _corrected(draw: st.DrawFn, target: Event, claims: list[str]) -> dict[str, Any]:
    """New data for `target`: where it matters for samenloop, a change of the claims it names."""
    data = dict(target["data"])
    name = event_name(target["type"])
    if name == "ClaimDecided" and claims:
        data["claim_ids"] = draw(st.lists(st.sampled_from(claims), min_size=1, max_size=2, unique=True))
    elif name in ("ClaimWithdrawn", "DamageClaimFiled") and claims and draw(st.booleans()):
        data["claim_id"] = draw(st.sampled_from(claims + ["C-99"]))
    elif name == "NormDecisionIssued":
        data["meets_norm"] = not data["meets_norm"]
    elif name == "ContactMade":
        data["channel"] = "letter"
    return data


@st.composite
def histories(draw: st.DrawFn) -> list[Event]:
    """Stored events (stream order) of one address: every one accepted by the rules."""
    state = AddressState(SUBJECT)
    stream: list[Event] = []
    recorded = DAYS[0]
    latest = 0  # index of the latest moment so far
    for n in range(draw(st.integers(1, 50))):
        name = draw(st.sampled_from(KINDS))
        data = _data(draw, name, state, stream, n)
        if data is None:
            continue
        if name in AMENDMENTS:
            org = next(e["org"] for e in stream if e["id"] == data.get("corrects", data.get("retracts")))
        else:
            org = sorted(BY_NAME[name].emitters)[0]
        # mostly at the latest moment so far or the next (ties, few refusals), sometimes any
        step = draw(st.sampled_from([0, 0, 1, None]))
        index = draw(st.integers(0, len(DAYS) - 1)) if step is None else min(latest + step, len(DAYS) - 1)
        time = DAYS[index]
        recorded = max(recorded, time, draw(st.sampled_from(DAYS)))  # never decreasing, never before `time`
        event: Event = {
            "specversion": "1.0",
            "id": str(uuid.uuid5(NAMESPACE, f"{len(stream)}:{n}")),
            "source": SOURCES[org],
            "type": BY_NAME[name].type,
            "subject": SUBJECT,
            "time": time,
            "org": org,
            "data": data,
            "recordedtime": recorded,
        }
        if _accepts(state, stream, event):
            position = len(stream) + 1
            event.update(streamposition=position, hash=f"{position:064x}")
            stream.append(event)
            latest = max(latest, index)
    return stream


# -- the reference, from the words of projections §0 ------------------------------------------
def reference_effective(events: list[Event], at: str | None, known_at: str | None) -> list[Event]:
    known = [e for e in events if known_at is None or e["recordedtime"] <= known_at]
    data = {e["id"]: e["data"] for e in known}
    retracted = set()
    for e in known:  # stream order: the last correction wins
        name = event_name(e["type"])
        if name == "EventCorrected":
            data[e["data"]["corrects"]] = e["data"]["data"]
        elif name == "EventRetracted":
            retracted.add(e["data"]["retracts"])
    effective = [
        {**e, "data": data[e["id"]]}
        for e in known
        if event_name(e["type"]) not in AMENDMENTS and e["id"] not in retracted and (at is None or e["time"] <= at)
    ]
    return sorted(effective, key=lambda e: (e["time"], e["streamposition"]))


def state_at(effective: list[Event], moment: str, *, before: bool = False) -> tuple[bool, set[str], int]:
    """(in programme, pending claims, phase reached) after every event with `time` ≤ `moment`
    (< `moment` with `before`)."""
    in_programme, pending, reached = False, set(), 0
    for e in effective:
        if e["time"] > moment or (before and e["time"] == moment):
            break
        name, d = event_name(e["type"]), e["data"]
        if name == "AddressAddedToProgramme":
            in_programme, reached = True, max(reached, 1)
        elif name == "AddressRemovedFromProgramme":
            in_programme = False
        elif name == "DamageClaimFiled":
            pending.add(d["claim_id"])
        elif name == "ClaimDecided":
            pending -= set(d["claim_ids"])
        elif name == "ClaimWithdrawn":
            pending.discard(d["claim_id"])
        elif name in PHASE:
            reached = max(reached, PHASE[name])
    return in_programme, pending, reached


def reference_episodes(effective: list[Event]) -> list[tuple[str, str | None]]:
    episodes: list[tuple[str, str | None]] = []
    start = None
    for moment in sorted({e["time"] for e in effective}):
        in_programme, pending, _ = state_at(effective, moment)
        holds = in_programme and bool(pending)
        if holds and start is None:
            start = moment
        elif not holds and start is not None:
            episodes.append((start, moment))
            start = None
    if start is not None:
        episodes.append((start, None))
    return episodes


def reference_e1(effective: list[Event]) -> dict[str, int]:
    """Decided claims by E1 group: in the programme up to the decision's moment, or not."""
    groups = {"samenloop": 0, "other": 0}
    pending: set[str] = set()
    for e in effective:
        name = event_name(e["type"])
        if name == "DamageClaimFiled":
            pending.add(e["data"]["claim_id"])
        elif name == "ClaimWithdrawn":
            pending.discard(e["data"]["claim_id"])
        elif name == "ClaimDecided":
            in_programme = state_at(effective, e["time"], before=True)[0]
            decided = pending & set(e["data"]["claim_ids"])
            groups["samenloop" if in_programme else "other"] += len(decided)
            pending -= decided
    return groups


def _brief(events: list[Event]) -> list[tuple[str, str, int, str, Any]]:
    return [(e["id"], e["time"], e["streamposition"], event_name(e["type"]), e["data"]) for e in events]


# -- the property --------------------------------------------------------------------------------
@SETTINGS
@given(histories(), st.sampled_from(CUTOFFS), st.sampled_from(CUTOFFS))
def test_rules_read_side_and_replay_agree_at_every_moment(
    events: list[Event], at: str | None, known_at: str | None
) -> None:
    expected = reference_effective(events, at, known_at)
    episodes = reference_episodes(expected)
    end = max((e["time"] for e in expected), default=DAYS[0])
    in_programme, pending, reached = state_at(expected, end)
    running = [start for start, stop in episodes if stop is None]

    # the effective history: domain, read side, replay, rules
    assert _brief(sorted(cut(events, at, known_at).effective, key=order_key)) == _brief(expected)
    history = prepare(events, SUBJECT, at, known_at)
    by_id = {e["streamposition"]: e["id"] for e in events}
    read_side = [(by_id[p], t, p, name, d) for t, p, name, d in history.effective]
    assert read_side == _brief(expected)
    replayed = build_history(SUBJECT, events, at, known_at)
    assert _brief(replayed.effective) == _brief(expected)
    kept = [e for e in events if standing(e, at, known_at) in (WITHIN, GOVERNS)]
    assert sorted(_brief(rules_history(kept))) == sorted(_brief(expected))

    # the rules' state (stream order) knows the same programme and pending claims
    rules = rules_fold(SUBJECT, kept)
    assert rules.in_programme is in_programme
    assert {c for c, claim in rules.claims.items() if claim.status == OPEN} == pending

    # the domain's notions, and the replay's episodes, which its findings are measured on
    derived = derive(expected)
    assert (derived.in_programme, derived.pending, derived.reached) == (in_programme, pending, reached)
    assert [tuple(e) for e in derived.episodes] == episodes
    assert [(p.start, p.end) for p in samenloop_episodes(replayed.effective)] == episodes

    # the read side: the case view, the summary and the figures
    view = case_view(events, SUBJECT, at, known_at, now=NOW)
    coordination, strengthening = view["coordination"], view["strengthening"]
    assert [(e["start"], e["end"]) for e in coordination["samenloop_episodes"]] == episodes
    assert coordination["samenloop"] is bool(running)
    assert coordination["samenloop_since"] == (running[0] if running else None)
    assert strengthening["in_programme"] is in_programme
    assert strengthening["phase"] == (reached if in_programme else None)
    assert view["damage"]["pending_claims"] == len(pending)
    agg = Aggregate()
    agg.add(SUBJECT, summarize(fold(history)))
    g = metrics(agg, at or NOW)
    assert g["G3"]["samenloop_addresses"] == int(bool(running))
    assert g["G12"]["integrated_approach_funnel"]["samenloop_ever"] == int(bool(episodes))
    assert g["G13"]["joint_visit_share"]["total"] == int(bool(episodes))
    assert g["G1"]["programme_addresses"] == int(in_programme)
    assert g["G4"]["phase_distribution"] == {str(p): int(in_programme and p == reached) for p in range(1, 7)}
    e = evaluation(agg, at or NOW, "2022-03-04T00:00:00.000000Z")
    e1 = e["E1"]["claim_lead_time"]
    assert {group: sum(f["claims"] for f in e1[group].values()) for group in e1} == reference_e1(expected)
    e2 = e["E2"]["visits_per_address"]
    assert e2["agreed"]["addresses"] + e2["not_agreed"]["addresses"] == int(bool(episodes))
