"""Properties over random valid histories (hypothesis, derandomized so every run checks the same cases).

A small state machine per address picks, at every step, one of the events the rules allow next
(claims, decisions, payments, objections, the strengthening trajectory, coordination, resident
events, corrections and retractions of events nothing depends on). Then:
- every event of such a history is accepted, in order, with gap-free positions;
- re-appending any subset of it, in any order, gives `duplicate` with the original position and hash;
- changing any stored event (its data, its time, the order of two events, or removing one) makes
  verification fail at exactly that address and position.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.catalogue import BY_NAME
from domain.results import AppendResult
from domain.timeutil import format_utc, parse_utc
from ledger.bootstrap import Ledger
from ledger.verify import verify_all
from tests.domain.support import open_test_ledger
from tests.factories import EXAMPLE_DATA, SOURCES, subject

SETTINGS = settings(
    max_examples=60,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
START = datetime(2018, 1, 1, tzinfo=UTC)
ORGS = ("IMG", "NCG", "PORTAL")
# Events nothing else depends on: they may be corrected (with a changed field) or retracted.
AMENDABLE: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "AddressRegistered": lambda d: {**d, "huisnummer": d["huisnummer"] + 1},
    "ClaimReceiptConfirmed": lambda d: {**d, "decision_term_days": 56},
    "CaseGuideAssigned": lambda d: {**d, "guide_ref": "zb-99"},
    "ContactMade": lambda d: {**d, "channel": "letter"},
    "ComplaintLodged": lambda d: {**d, "forum": "ombudsman"},
    "JointVisitHeld": lambda d: {**d, "visit_id": "V-99"},
    "ResidentGuideAssigned": lambda d: {**d, "guide_ref": "bb-99"},
    "OutreachToNonClaimant": lambda d: d,
}


# Events no rule constrains: one option among the rest, so that histories mostly move forward.
GENERIC = (
    "AddressRegistered",
    "AcuteUnsafeSituationReported",
    "AcuteUnsafeSituationResolved",
    "ConsentToDataExchangeGiven",
    "ConsentToDataExchangeRevoked",
    "IntegratedApproachRequested",
    "IntegratedApproachDeclined",
    "ComplaintLodged",
    "ContactMade",
    "IntegratedApproachOffered",
    "CoordinatorAssigned",
    "JointVisitHeld",
    "InformationShared",
    "CaseReferred",
    "OutreachToNonClaimant",
)


@dataclass
class Address:
    """What the generator must know of one address to choose a valid next event."""

    subject: str
    time: datetime = START
    claims: dict[str, str] = field(default_factory=dict)  # id -> open | deferred | decided | withdrawn
    decisions: dict[str, int] = field(default_factory=dict)  # id -> amount still payable
    objections: dict[str, bool] = field(default_factory=dict)  # id -> decided
    offers: list[str] = field(default_factory=list)
    programme: str = "out"  # out | in | closed
    milestones: set[str] = field(default_factory=set)
    amendable: list[dict[str, Any]] = field(default_factory=list)
    counter: int = 0

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.counter}"

    def options(self) -> list[str]:
        """The event names the rules allow next at this address ("generic" stands for GENERIC)."""
        open_claims = [c for c, s in self.claims.items() if s in ("open", "deferred")]
        names: list[str] = []  # steps that move a case forward first, exits last
        if self.programme == "in":
            names += [s for s, need in _STEPS.items() if need in self.milestones and _REACHED[s] not in self.milestones]
            names.append("NormDecisionIssued")
        if False in self.objections.values():
            names.append("ObjectionDecided")
        if self.decisions:
            names += ["CompensationPaid", "ObjectionFiled"]
        if open_claims:
            names.append("ClaimDecided")
        if "deferred" in self.claims.values():
            names.append("ClaimResumed")
        if self.offers:
            names.append("IntegratedApproachAgreed")
        names += ["DamageClaimFiled"] * (len(self.claims) < 4) + ["generic"]
        if self.programme == "out":
            names.append("AddressAddedToProgramme")
        if self.claims:
            names += ["ClaimReceiptConfirmed", "CaseGuideAssigned", "DamageInspectionCompleted", "AdvisoryReportIssued"]
        if self.programme == "in":
            names += ["AddressIncludedInLocalPlan", "ResidentGuideAssigned", "StructuralInspectionCompleted"]
            names.append("AssessmentCompleted")
        if self.amendable:
            names += ["EventCorrected", "EventRetracted"]
        if self.programme != "out":
            names += ["TrajectoryStalled", "TrajectoryResumed"]
        if "open" in self.claims.values():
            names.append("ClaimDeferred")
        if open_claims:
            names.append("ClaimWithdrawn")
        if self.programme == "in":
            names += ["TrajectoryClosed", "AddressRemovedFromProgramme"]
        return names


# strengthening step -> the milestone it needs, and the milestone it reaches
_STEPS = {
    "StrengtheningDecisionIssued": "norm_not_met",
    "ConstructionStarted": "decided",
    "ConstructionCompleted": "started",
}
_REACHED = {
    "StrengtheningDecisionIssued": "decided",
    "ConstructionStarted": "started",
    "ConstructionCompleted": "completed",
}


def _data(draw: st.DrawFn, name: str, a: Address, org: str) -> dict[str, Any]:
    """Valid data for `name` at `a`, updating the generator's model of the address."""
    data = dict(EXAMPLE_DATA[name])
    open_claims = sorted(c for c, s in a.claims.items() if s in ("open", "deferred"))
    if name == "DamageClaimFiled":
        data["claim_id"] = claim = a.next_id("C")
        a.claims[claim] = "open"
    elif name in ("ClaimReceiptConfirmed", "CaseGuideAssigned", "DamageInspectionCompleted", "AdvisoryReportIssued"):
        data["claim_id"] = draw(st.sampled_from(sorted(a.claims)))
    elif name in ("ClaimDeferred", "ClaimResumed"):
        wanted = "open" if name == "ClaimDeferred" else "deferred"
        data["claim_id"] = claim = draw(st.sampled_from(sorted(c for c, s in a.claims.items() if s == wanted)))
        a.claims[claim] = "deferred" if name == "ClaimDeferred" else "open"
    elif name == "ClaimWithdrawn":
        data["claim_id"] = claim = draw(st.sampled_from(open_claims))
        a.claims[claim] = "withdrawn"
    elif name == "ClaimDecided":
        claims = draw(st.lists(st.sampled_from(open_claims), min_size=1, max_size=3, unique=True))
        amount = draw(st.integers(0, 5_000_000))
        data.update(decision_id=(decision := a.next_id("D")), claim_ids=claims, amount_cents=amount)
        data["outcome"] = draw(st.sampled_from(["granted", "partly_granted", "rejected"]))
        a.claims.update(dict.fromkeys(claims, "decided"))
        a.decisions[decision] = amount
    elif name == "CompensationPaid":
        decision = draw(st.sampled_from(sorted(a.decisions)))
        paid = draw(st.integers(0, a.decisions[decision]))
        data.update(decision_id=decision, amount_cents=paid)
        a.decisions[decision] -= paid
    elif name == "ObjectionFiled":
        data.update(objection_id=(objection := a.next_id("B")), decision_id=draw(st.sampled_from(sorted(a.decisions))))
        a.objections[objection] = False
    elif name == "ObjectionDecided":
        data["objection_id"] = objection = draw(st.sampled_from(sorted(o for o, d in a.objections.items() if not d)))
        a.objections[objection] = True
    elif name == "IntegratedApproachOffered":
        data["offer_id"] = offer = a.next_id("SA")
        a.offers.append(offer)
    elif name == "IntegratedApproachAgreed":
        data["offer_id"] = draw(st.sampled_from(a.offers))
    elif name == "CaseReferred":
        data.update(from_org=org, to_org="NCG" if org == "IMG" else "IMG")
    elif name == "AddressAddedToProgramme":
        a.programme = "in"
    elif name == "AddressRemovedFromProgramme":
        a.programme = "out"
    elif name == "NormDecisionIssued":
        data["meets_norm"] = met = draw(st.booleans())
        a.milestones.add("norm_met" if met else "norm_not_met")
    elif name in _REACHED:
        a.milestones.add(_REACHED[name])
    elif name == "TrajectoryClosed":
        reasons = ["other"] + ["built"] * ("completed" in a.milestones) + ["meets_norm"] * ("norm_met" in a.milestones)
        data["reason"] = draw(st.sampled_from(reasons))
        a.programme = "closed"
    return data


def _amendment(draw: st.DrawFn, name: str, a: Address) -> tuple[dict[str, Any], str]:
    target = draw(st.sampled_from(a.amendable))
    if name == "EventRetracted":
        a.amendable.remove(target)
        return {"retracts": target["id"], "reason": "dubbel ingevoerd op 01-03-2021"}, target["org"]
    target_name = target["type"].split(".")[-2]
    replacement = AMENDABLE[target_name](target["data"])
    return {"corrects": target["id"], "data": replacement, "reason": "coördinatie: gegevens hersteld"}, target["org"]


@st.composite
def histories(draw: st.DrawFn, max_addresses: int = 3, max_events: int = 30) -> list[dict[str, Any]]:
    """A valid history for a few addresses, interleaved in the order it is appended."""
    addresses = [Address(subject(n)) for n in range(1, draw(st.integers(1, max_addresses)) + 1)]
    events: list[dict[str, Any]] = []
    for step in range(draw(st.integers(1, max_events))):
        a = draw(st.sampled_from(addresses))
        name = draw(st.sampled_from(a.options()))
        if name == "generic":
            name = draw(st.sampled_from(GENERIC))
        entry = BY_NAME[name]
        if name in ("EventCorrected", "EventRetracted"):
            data, org = _amendment(draw, name, a)
        else:
            org = draw(st.sampled_from(sorted(entry.emitters)))
            data = _data(draw, name, a, org)
        a.time += timedelta(days=draw(st.integers(0, 40)), seconds=draw(st.integers(0, 86_399)))
        event = {
            "specversion": "1.0",
            "id": f"{step:08x}-0000-4000-8000-{int(a.subject):012x}",
            "source": SOURCES[org],
            "type": entry.type,
            "subject": a.subject,
            "time": format_utc(a.time),
            "org": org,
            "data": data,
        }
        if draw(st.booleans()):
            event["actor"] = f"{org.lower()}-medewerker-{step}"
        if name in AMENDABLE:
            a.amendable.append(event)
        events.append(event)
    return events


@contextmanager
def fresh_ledger() -> Iterator[Ledger]:
    """A new, empty store per example (hypothesis cannot use function-scoped fixtures)."""
    with tempfile.TemporaryDirectory() as home:
        led = open_test_ledger(Path(home))
        try:
            yield led
        finally:
            led.close()


def append_runs(ledger: Ledger, events: list[dict[str, Any]]) -> list[AppendResult]:
    """Append in batches of consecutive events of one org (each batch as that org)."""
    results: list[AppendResult] = []
    start = 0
    for end in range(1, len(events) + 1):
        if end == len(events) or events[end]["org"] != events[start]["org"]:
            results += ledger.service.append(events[start:end], events[start]["org"])
            start = end
    return results


def positions(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(address, position) each event of a valid history gets."""
    seen: dict[str, int] = {}
    out = []
    for event in events:
        seen[event["subject"]] = seen.get(event["subject"], 0) + 1
        out.append((event["subject"], seen[event["subject"]]))
    return out


# properties ----------------------------------------------------------------------------------
@SETTINGS
@given(histories())
def test_every_event_of_a_valid_history_is_accepted(events: list[dict[str, Any]]) -> None:
    with fresh_ledger() as ledger:
        results = append_runs(ledger, events)
        assert [(r.result, r.code, r.message) for r in results] == [("accepted", None, None)] * len(events)
        assert [(r.subject, r.streamposition) for r in results] == positions(events)
        assert [e["id"] for _, e in ledger.log.read(0, 1000)] == [e["id"] for e in events]
        assert verify_all(ledger.log)[0] == []


@SETTINGS
@given(st.data(), histories(max_events=20))
def test_re_appending_accepted_events_gives_duplicates(data: st.DataObject, events: list[dict[str, Any]]) -> None:
    with fresh_ledger() as ledger:
        originals = {e["id"]: r for e, r in zip(events, append_runs(ledger, events), strict=True)}
        again = data.draw(st.permutations(events).flatmap(lambda p: st.integers(1, len(p)).map(lambda n: p[:n])))
        ledger.service.forget()  # also from a cold cache: the id index answers
        results = append_runs(ledger, again)
        assert [(r.result, r.id, r.streamposition, r.hash) for r in results] == [
            ("duplicate", e["id"], originals[e["id"]].streamposition, originals[e["id"]].hash) for e in again
        ]
        assert ledger.log.max_position() == len(events)


TAMPERINGS = ("data", "time", "swap", "remove")


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, list):
        return [*value, value[0]]
    return {**value, "x": 1}


def tamper(db: Path, kind: str, address: str, position: int, other: int) -> None:
    """Change the stored row (address, position) of the SQLite store in place."""
    with sqlite3.connect(db) as conn:

        def state(pos: int) -> bytes:
            row = conn.execute(
                "SELECT state FROM stored_events WHERE originator_id=? AND originator_version=?", (address, pos)
            ).fetchone()
            return bytes(row[0])

        def put(pos: int, body: bytes) -> None:
            conn.execute(
                "UPDATE stored_events SET state=? WHERE originator_id=? AND originator_version=?", (body, address, pos)
            )

        event = orjson.loads(state(position))
        if kind == "data":
            if event["data"]:
                key = sorted(event["data"])[0]
                event["data"][key] = _changed(event["data"][key])
            else:
                event["data"]["x"] = 1
            put(position, orjson.dumps(event, option=orjson.OPT_SORT_KEYS))
        elif kind == "time":
            event["time"] = format_utc(parse_utc(event["time"]) + timedelta(seconds=1))
            put(position, orjson.dumps(event, option=orjson.OPT_SORT_KEYS))
        elif kind == "swap":
            mine, theirs = state(position), state(other)
            put(position, theirs)
            put(other, mine)
        else:
            conn.execute(
                "DELETE FROM stored_events WHERE originator_id=? AND originator_version=?", (address, position)
            )


@SETTINGS
@given(st.data(), histories(max_events=20), st.sampled_from(TAMPERINGS))
def test_changing_any_stored_event_fails_verification_exactly_there(
    data: st.DataObject, events: list[dict[str, Any]], kind: str
) -> None:
    placed = positions(events)
    lengths = {a: p for a, p in placed}  # the last position per address
    if kind == "swap":
        candidates = [(a, p) for a, p in placed if p < lengths[a]]
        if not candidates:
            kind, candidates = "data", placed
    else:
        candidates = placed
    address, position = data.draw(st.sampled_from(candidates), label="row")
    other = data.draw(st.integers(position + 1, lengths[address]), label="swap with") if kind == "swap" else 0
    with fresh_ledger() as ledger:
        append_runs(ledger, events)
        tamper(ledger.settings.home / "events.sqlite", kind, address, position, other)
        breaks, _, _ = verify_all(ledger.log, index_heads=ledger.app.recorder.index_heads())
        assert [(b.subject, b.position) for b in breaks] == [(address, position)]
