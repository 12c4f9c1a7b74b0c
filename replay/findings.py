"""Findings: each moment a coordination norm was not met, with dates and durations.

Pure functions of the effective history (see `replay.history`) and the reference moment
`until` (the `at` cut-off, or the current time without one): periods still open are measured
up to `until`, and a norm whose deadline lies after `until` has not been missed yet.
The definitions are written out in docs/replay.md; the constants below are the norms.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from domain.catalogue import event_name
from domain.history import COORDINATOR_DAYS
from domain.timeutil import add_days, days_between
from replay.history import Event
from replay.intervals import DIRECTIONS, Period, consent_periods, samenloop_episodes, union

OFFER_DAYS = 30
SHARING_DAYS = 30
AOS_DAYS = 2.0  # 48 hours


@dataclass(frozen=True, slots=True)
class Finding:
    """One norm not met. `days` is the measured duration of `start`→`end` (or →`until`)."""

    code: str
    title: str
    responsible: str
    arose_at: str
    start: str
    end: str | None
    days: float
    norm_days: float | None
    detail: str
    events: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ongoing(self) -> bool:
        return self.end is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "responsible": self.responsible,
            "arose_at": self.arose_at,
            "start": self.start,
            "end": self.end,
            "ongoing": self.ongoing,
            "days": round(self.days, 6),
            "norm_days": self.norm_days,
            "over_days": None if self.norm_days is None else round(self.days - self.norm_days, 6),
            "detail": self.detail,
            "events": list(self.events),
            "facts": self.facts,
        }


def plus_days(moment: str, days: float) -> str:
    """A UTC text moment plus a number of days (saturating at the representable range's end)."""
    return add_days(moment, days)


def day(moment: str | None) -> str:
    """The date part of a UTC text, for sentences."""
    return moment[:10] if moment else "—"


@dataclass(slots=True)
class Facts:
    """The effective history indexed once for all norms: events by name (in time order) and
    the samenloop episodes."""

    effective: list[Event]
    by_name: dict[str, list[Event]]
    episodes: list[Period]

    def named(self, *names: str) -> list[Event]:
        """The events of these types, in time order."""
        if len(names) == 1:
            return self.by_name.get(names[0], [])
        picked = [e for name in names for e in self.by_name.get(name, [])]
        return sorted(picked, key=lambda e: (e["time"], e["streamposition"]))


def index(effective: list[Event]) -> Facts:
    """Index an effective history (ordered by time, then stream position)."""
    by_name: dict[str, list[Event]] = {}
    for event in effective:
        by_name.setdefault(event_name(event["type"]), []).append(event)
    return Facts(effective, by_name, samenloop_episodes(effective))


def _measure(start: str, end: str | None, until: str) -> float:
    return days_between(start, end if end is not None else until)


# -- the norms --------------------------------------------------------------------------------
def no_coordinator(facts: Facts, until: str) -> list[Finding]:
    """Integrated approach requested (or agreed) but no coordinator within 30 days.

    The clock starts at the first `IntegratedApproachRequested` or `IntegratedApproachAgreed`;
    any `CoordinatorAssigned` up to 30 days later meets the norm. A resident's
    `IntegratedApproachDeclined` before the deadline ends the norm; after it, ends the finding.
    """
    starts = facts.named("IntegratedApproachRequested", "IntegratedApproachAgreed")
    if not starts:
        return []
    first = starts[0]
    start = first["time"]
    deadline = plus_days(start, COORDINATOR_DAYS)
    if deadline > until:
        return []
    assigned = facts.named("CoordinatorAssigned")
    if any(e["time"] <= deadline for e in assigned):
        return []
    declined = [e for e in facts.named("IntegratedApproachDeclined") if e["time"] >= start]
    if declined and declined[0]["time"] <= deadline:
        return []
    closers = [e for e in (assigned[:1] + declined[:1]) if e["time"] > deadline]
    closer = min(closers, key=lambda e: e["time"]) if closers else None
    end = closer["time"] if closer else None
    days = _measure(start, end, until)
    how = (
        f"a coordinator was assigned on {day(end)}"
        if closer and event_name(closer["type"]) == "CoordinatorAssigned"
        else f"the resident declined on {day(end)}"
        if closer
        else f"still no coordinator on {day(until)}"
    )
    what = "requested" if event_name(first["type"]) == "IntegratedApproachRequested" else "agreed"
    return [
        Finding(
            "no_coordinator_30d",
            "Integrated approach without a coordinator within 30 days",
            "IMG and NCG",
            deadline,
            start,
            end,
            days,
            COORDINATOR_DAYS,
            f"The integrated approach was {what} on {day(start)}; {how}: {days:.0f} days (norm {COORDINATOR_DAYS}).",
            tuple(e["id"] for e in [first, *([closer] if closer else [])]),
        )
    ]


def samenloop_without_offer(facts: Facts, until: str) -> list[Finding]:
    """Samenloop without an offer of the integrated approach within 30 days, per episode.

    Met when an `IntegratedApproachOffered` (or the resident's agreement or decline) exists at
    any time up to 30 days after the episode began; an episode that ends within the 30 days
    owes nothing. Otherwise the finding runs from the episode's start to the first later
    offer, the episode's end, or `until`.
    """
    offers = facts.named("IntegratedApproachOffered", "IntegratedApproachAgreed", "IntegratedApproachDeclined")
    findings = []
    for episode in facts.episodes:
        deadline = plus_days(episode.start, OFFER_DAYS)
        if deadline > until or (episode.end is not None and episode.end <= deadline):
            continue
        if any(e["time"] <= deadline for e in offers):
            continue
        later = [e for e in offers if episode.contains(e["time"], until)]
        end = later[0]["time"] if later else episode.end
        days = _measure(episode.start, end, until)
        how = (
            f"the first offer came on {day(end)}"
            if later
            else f"the samenloop ended on {day(end)} without an offer"
            if end
            else f"still no offer on {day(until)}"
        )
        findings.append(
            Finding(
                "samenloop_without_offer_30d",
                "Samenloop without an offer of the integrated approach within 30 days",
                "IMG and NCG",
                deadline,
                episode.start,
                end,
                days,
                OFFER_DAYS,
                f"Samenloop since {day(episode.start)}; {how}: {days:.0f} days (norm {OFFER_DAYS}).",
                tuple(e["id"] for e in later[:1]),
                {"samenloop_start": episode.start, "samenloop_end": episode.end},
            )
        )
    return findings


def separate_inspections(facts: Facts, until: str) -> list[Finding]:
    """IMG and NCG inspecting in separate visits during one samenloop episode.

    A `DamageInspectionCompleted` is separate when it is not `joint_with_ncg` and its `visit_id`
    is neither a `JointVisitHeld` visit nor an NCG inspection's visit; likewise a
    `StructuralInspectionCompleted` (`joint_with_img`, IMG's visits). One finding per episode
    with at least one separate inspection of each organisation, arising at the later of the
    first two.
    """
    damage = facts.named("DamageInspectionCompleted")
    structural = facts.named("StructuralInspectionCompleted")
    joint_ids = {e["data"]["visit_id"] for e in facts.named("JointVisitHeld")}
    damage_ids = {e["data"]["visit_id"] for e in damage}
    structural_ids = {e["data"]["visit_id"] for e in structural}
    findings = []
    for episode in facts.episodes:
        img = [
            e
            for e in damage
            if episode.contains(e["time"], until)
            and not e["data"]["joint_with_ncg"]
            and e["data"]["visit_id"] not in joint_ids | structural_ids
        ]
        ncg = [
            e
            for e in structural
            if episode.contains(e["time"], until)
            and not e["data"]["joint_with_img"]
            and e["data"]["visit_id"] not in joint_ids | damage_ids
        ]
        if not img or not ncg:
            continue
        first, second = sorted((img[0], ncg[0]), key=lambda e: (e["time"], e["streamposition"]))
        days = days_between(first["time"], second["time"])
        visits = [
            {"org": e["org"], "time": e["time"], "visit_id": e["data"]["visit_id"]}
            for e in sorted(img + ncg, key=lambda e: (e["time"], e["streamposition"]))
        ]
        findings.append(
            Finding(
                "separate_inspections",
                "IMG and NCG inspected in separate visits during samenloop",
                "IMG and NCG",
                second["time"],
                first["time"],
                second["time"],
                days,
                None,
                f"During samenloop (since {day(episode.start)}) IMG inspected on "
                f"{', '.join(day(e['time']) for e in img)} and NCG on {', '.join(day(e['time']) for e in ncg)}, "
                f"in separate visits ({len(visits)} visits, the first two {days:.0f} days apart).",
                tuple(e["id"] for e in img + ncg),
                {"samenloop_start": episode.start, "visits": visits},
            )
        )
    return findings


def _claim_closers(facts: Facts, claim_id: str) -> list[Event]:
    """The decisions and withdrawals that settle a claim, in time order."""
    decided = [e for e in facts.named("ClaimDecided") if claim_id in e["data"]["claim_ids"]]
    withdrawn = [e for e in facts.named("ClaimWithdrawn") if e["data"]["claim_id"] == claim_id]
    return sorted(decided + withdrawn, key=lambda e: (e["time"], e["streamposition"]))


def deferred_awaiting_strengthening(facts: Facts, until: str) -> list[Finding]:
    """Every deferral with reason `awaiting_strengthening`, and how long it lasted.

    A deferral ends at the claim's next `ClaimResumed`, `ClaimDecided` or `ClaimWithdrawn`.
    """
    findings = []
    for deferral in facts.named("ClaimDeferred"):
        if deferral["data"]["reason"] != "awaiting_strengthening":
            continue
        claim_id = deferral["data"]["claim_id"]
        resumed = [e for e in facts.named("ClaimResumed") if e["data"]["claim_id"] == claim_id] + _claim_closers(
            facts, claim_id
        )
        after = sorted(
            (e for e in resumed if (e["time"], e["streamposition"]) > (deferral["time"], deferral["streamposition"])),
            key=lambda e: (e["time"], e["streamposition"]),
        )
        closer = after[0] if after else None
        end = closer["time"] if closer else None
        days = _measure(deferral["time"], end, until)
        how = f"until {day(end)} ({event_name(closer['type'])})" if closer else f"and still deferred on {day(until)}"
        findings.append(
            Finding(
                "claim_deferred_awaiting_strengthening",
                "Claim deferred awaiting strengthening",
                "IMG",
                deferral["time"],
                deferral["time"],
                end,
                days,
                None,
                f"Claim {claim_id} was deferred awaiting strengthening on {day(deferral['time'])} {how}: "
                f"{days:.0f} days.",
                tuple(e["id"] for e in [deferral, *([closer] if closer else [])]),
                {"claim_id": claim_id},
            )
        )
    return findings


def claim_over_term(facts: Facts, until: str) -> list[Finding]:
    """A claim pending beyond its decision term (`ClaimReceiptConfirmed.decision_term_days`).

    The term runs from the claim's filing; the latest receipt confirmation states it (deferred
    claims are pending). A claim without a receipt confirmation has no stated term.
    """
    terms: dict[str, tuple[int, Event]] = {}
    for e in facts.named("ClaimReceiptConfirmed"):
        terms[e["data"]["claim_id"]] = (e["data"]["decision_term_days"], e)
    findings = []
    for filed in facts.named("DamageClaimFiled"):
        claim_id = filed["data"]["claim_id"]
        if claim_id not in terms:
            continue
        term, confirmation = terms[claim_id]
        deadline = plus_days(filed["time"], term)
        closers = _claim_closers(facts, claim_id)
        end = closers[0]["time"] if closers else None
        if (end if end is not None else until) <= deadline:
            continue
        days = _measure(filed["time"], end, until)
        how = f"settled on {day(end)}" if end else f"still pending on {day(until)}"
        findings.append(
            Finding(
                "claim_over_term",
                "Claim pending beyond its decision term",
                "IMG",
                deadline,
                filed["time"],
                end,
                days,
                float(term),
                f"Claim {claim_id} filed on {day(filed['time'])} with a decision term of {term} days "
                f"(due {day(deadline)}), {how}: {days:.0f} days, {days - term:.0f} over the term.",
                tuple(e["id"] for e in [filed, confirmation, *closers[:1]]),
                {"claim_id": claim_id, "due": deadline},
            )
        )
    return findings


def aos_over_48h(facts: Facts, until: str) -> list[Finding]:
    """An acutely unsafe situation (AOS) not resolved within 48 hours of its report."""
    resolved: dict[str, Event] = {}
    for e in facts.named("AcuteUnsafeSituationResolved"):
        resolved.setdefault(e["data"]["aos_id"], e)
    findings = []
    for report in facts.named("AcuteUnsafeSituationReported"):
        aos_id = report["data"]["aos_id"]
        closer = resolved.get(aos_id)
        end = closer["time"] if closer else None
        deadline = plus_days(report["time"], AOS_DAYS)
        if (end if end is not None else until) <= deadline:
            continue
        days = _measure(report["time"], end, until)
        how = f"resolved on {day(end)}" if end else f"still unresolved on {day(until)}"
        findings.append(
            Finding(
                "aos_over_48h",
                "Acutely unsafe situation not resolved within 48 hours",
                "IMG",
                deadline,
                report["time"],
                end,
                days,
                AOS_DAYS,
                f"AOS {aos_id} reported on {report['time'][:16].replace('T', ' ')} UTC, {how}: "
                f"{days * 24:.0f} hours (norm 48).",
                tuple(e["id"] for e in [report, *([closer] if closer else [])]),
                {"aos_id": aos_id, "hours": round(days * 24, 3)},
            )
        )
    return findings


def referred_back_and_forth(facts: Facts, until: str) -> list[Finding]:
    """The case referred back: a `CaseReferred` B→A after the previous referral A→B."""
    findings = []
    referrals = facts.named("CaseReferred")
    for previous, current in zip(referrals, referrals[1:], strict=False):
        p, c = previous["data"], current["data"]
        if not (p["from_org"] == c["to_org"] and p["to_org"] == c["from_org"]):
            continue
        days = days_between(previous["time"], current["time"])
        findings.append(
            Finding(
                "referred_back_and_forth",
                "Case referred back and forth between the organisations",
                "IMG and NCG",
                current["time"],
                previous["time"],
                current["time"],
                days,
                None,
                f"{p['from_org']} referred the case to {p['to_org']} on {day(previous['time'])} ({p['reason']}); "
                f"{c['from_org']} referred it back on {day(current['time'])} ({c['reason']}), {days:.0f} days later.",
                (previous["id"], current["id"]),
                {"first": f"{p['from_org']}→{p['to_org']}", "back": f"{c['from_org']}→{c['to_org']}"},
            )
        )
    return findings


def information_not_shared(facts: Facts, until: str) -> list[Finding]:
    """A basis for data exchange existed for more than 30 days without any sharing.

    Per direction: the basis is the union of the resident's consent covering that direction
    (given, not revoked) and the samenloop episodes (Besluit Tijdelijke wet Groningen art. 10h).
    For every maximal basis period longer than 30 days, the first `InformationShared` in that
    direction within the period must come within 30 days of its start; the finding runs from
    the start to that first sharing, or to the period's end (or `until`) when there was none.
    """
    episodes = facts.episodes
    findings = []
    for direction in DIRECTIONS:
        consents = consent_periods(facts.effective, direction)
        shared = [e for e in facts.named("InformationShared") if e["data"]["direction"] == direction]
        for period in union(consents + episodes):
            deadline = plus_days(period.start, SHARING_DAYS)
            if deadline > until or (period.end is not None and period.end <= deadline):
                continue
            inside = [e for e in shared if period.contains(e["time"], until)]
            if inside and inside[0]["time"] <= deadline:
                continue
            end = inside[0]["time"] if inside else period.end
            days = _measure(period.start, end, until)
            bases = _bases(period, consents, episodes, until)
            source, target = ("IMG", "NCG") if direction == "img_to_ncg" else ("NCG", "IMG")
            how = (
                f"first shared on {day(end)}"
                if inside
                else f"the basis ended on {day(end)} without sharing"
                if end
                else f"nothing shared by {day(until)}"
            )
            findings.append(
                Finding(
                    "information_not_shared",
                    f"{source}'s information not shared with {target} while a basis existed",
                    source,
                    deadline,
                    period.start,
                    end,
                    days,
                    SHARING_DAYS,
                    f"From {day(period.start)} {' and '.join(bases)} allowed {source} to share with {target} "
                    f"({direction}); {how}: {days:.0f} days (norm {SHARING_DAYS}).",
                    tuple(e["id"] for e in inside[:1]),
                    {"direction": direction, "basis": bases},
                )
            )
    return sorted(findings, key=lambda f: f.arose_at)


def _bases(period: Period, consents: list[Period], episodes: list[Period], until: str) -> list[str]:
    def overlaps(other: Period) -> bool:
        end = period.end or until
        other_end = other.end or until
        return other.start < end and period.start < other_end or other.start == period.start

    bases = []
    if any(overlaps(c) for c in consents):
        bases.append("the resident's consent")
    if any(overlaps(e) for e in episodes):
        bases.append("samenloop (besluit_twg_10h)")
    return bases


NORMS: tuple[Callable[[Facts, str], list[Finding]], ...] = (
    no_coordinator,
    samenloop_without_offer,
    separate_inspections,
    deferred_awaiting_strengthening,
    claim_over_term,
    aos_over_48h,
    referred_back_and_forth,
    information_not_shared,
)


def all_findings(effective: list[Event], until: str) -> list[Finding]:
    """Every finding of every norm, ordered by the moment it arose."""
    facts = index(effective)
    found = [f for norm in NORMS for f in norm(facts, until)]
    return sorted(found, key=lambda f: (f.arose_at, f.code))
