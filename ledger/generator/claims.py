"""IMG's damage claims of one address: filing, handling, decisions, payments, objections.

Claims arrive as a Poisson process whose yearly volume follows `params`; an address's
propensity is gamma-distributed (many addresses never claim, some claim often). Programme
addresses claim less, and a share of their owners waits for strengthening first.
"""

from __future__ import annotations

from typing import Any

from ledger.generator import catalogue as T
from ledger.generator import params as P
from ledger.generator.address import Address
from ledger.generator.context import Ctx, Table
from ledger.generator.ncg import Trajectory
from ledger.generator.timeline import DAY, year_of_day

PHYSICAL, VALUE_LOSS, IMMATERIAL = "physical", "value_loss", "immaterial"
_CHANNEL = Table(P.CHANNELS)
_TERM = Table(P.DECISION_TERMS)
_CAUSAL = Table(P.CAUSAL)
_OBJ_OUTCOME = Table(P.OBJECTION_OUTCOMES)
_AOS_BY = Table([("resident", 0.6), ("municipality", 0.2), ("img", 0.1), ("ncg", 0.1)])
IMG_STAFF = tuple(f"img-medewerker-{i:04d}" for i in range(1, 901))
IMG_GUIDES = tuple(f"zaakbegeleider-{i:04d}" for i in range(1, 401))
_IMMATERIAL_AMOUNTS = (250_000, 500_000, 500_000, 750_000)


class Claim:
    """One claim's handling times; `decided` is the decision time (None: not decided)."""

    __slots__ = (
        "cid",
        "kind",
        "route",
        "filed",
        "receipt",
        "guide",
        "inspection",
        "visit_id",
        "joint",
        "report",
        "revision",
        "assessed",
        "causal",
        "defer",
        "defer_reason",
        "resume",
        "decided",
        "withdrawn",
        "corr",
        "actor",
        "channel",
        "term",
        "receipt_sent",
        "attached",
    )

    def __init__(self) -> None:
        self.cid = ""
        self.kind = PHYSICAL
        self.route = "maatwerk"
        self.filed = 0
        self.receipt = 0
        self.corr = ""
        self.actor = ""
        self.channel = "online"
        self.term = 182
        self.guide: int | None = None
        self.inspection: int | None = None
        self.visit_id = ""
        self.joint = False
        self.report: int | None = None
        self.revision: int | None = None
        self.assessed = 0
        self.causal = "mining"
        self.defer: int | None = None
        self.defer_reason = ""
        self.resume: int | None = None
        self.withdrawn: int | None = None
        self.decided: int | None = None
        self.receipt_sent = True
        self.attached: Claim | None = None

    @property
    def scheme(self) -> str:
        return self.route if self.kind == PHYSICAL else self.kind

    def pending_until(self, end: int) -> int:
        """When the claim stops being pending (decided or withdrawn), or `end`."""
        stop = end
        if self.decided is not None and self.decided < stop:
            stop = self.decided
        if self.withdrawn is not None and self.withdrawn < stop:
            stop = self.withdrawn
        return stop


def _norm(top: float) -> float:
    return 1.0 - top * (1.0 - P.PROGRAMME_CLAIM_FACTOR)


def filings(ctx: Ctx, a: Address, tr: Trajectory | None) -> list[tuple[int, str]]:
    """Filing times and kinds of the address's claims (before outreach)."""
    r = ctx.r
    norm = _norm(ctx.top_added)
    prog = P.PROGRAMME_CLAIM_FACTOR if tr is not None else 1.0
    f = a.damage_factor * prog / norm
    h = ctx.rng.gammavariate(P.CLAIM_HETEROGENEITY_SHAPE, 1.0 / P.CLAIM_HETEROGENEITY_SHAPE)
    out: list[tuple[int, str]] = []
    top = ctx.top_physical
    for _ in range(ctx.poisson(h * f * top / P.FULL_SCALE)):
        day = P.PHYSICAL_FILED.inv(r() * top)
        out.append((_filed_at(ctx, day), PHYSICAL))
    top = ctx.top_value_loss
    if top and r() < min(0.95, top / P.FULL_SCALE * (0.5 + 0.5 * a.damage_factor) * prog / norm):
        out.append((_filed_at(ctx, P.VALUE_LOSS_FILED.inv(r() * top)), VALUE_LOSS))
    top = ctx.top_immaterial
    if top and r() < min(0.95, top / P.FULL_SCALE * (0.4 + 0.6 * min(h, 4.0)) * prog / norm):
        out.append((_filed_at(ctx, P.IMMATERIAL_FILED.inv(r() * top)), IMMATERIAL))
    if tr is not None and r() < P.WAITER_SHARE:
        out = _wait(ctx, tr, out)
    out.sort()
    return out


def _filed_at(ctx: Ctx, day: float | None) -> int:
    assert day is not None
    return ctx.anytime(day) if ctx.r() < 0.6 else ctx.office(day)


def _wait(ctx: Ctx, tr: Trajectory, out: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """An owner who waits for strengthening files only after closure or the AMvB."""
    release = ctx.office(P.AMVB + ctx.uniform(0, 365))
    if tr.closed is not None and tr.closed < release:
        release = tr.closed
    lo, hi = P.WAIT_RELEASE_DAYS
    moved = []
    for t, kind in out:
        if tr.added <= t < release:
            t = ctx.after(release, lo, hi, portal=True)
        moved.append((t, kind))
    return moved


def outreach(ctx: Ctx, a: Address, tr: Trajectory | None, filed: list[tuple[int, str]]) -> None:
    """IMG approaches programme addresses without a claim; some file one within 90 days."""
    if tr is None:
        return
    r = ctx.r
    for start, stop, campaign in P.OUTREACH_CAMPAIGNS:
        t = ctx.office(ctx.uniform(start, stop))
        if t >= ctx.end or not tr.in_programme(t) or r() >= P.OUTREACH_REACH:
            continue
        if any(ft <= t for ft, _ in filed):
            continue
        a.emit(t, T.IMG, T.OUTREACH, {"campaign_ref": campaign}, None, "img-bewonerscontact")
        if r() < P.OUTREACH_CONVERSION:
            filed.append((ctx.after(t, 3, 90, portal=True), PHYSICAL))
            filed.sort()


def handle(ctx: Ctx, a: Address, tr: Trajectory | None, filed: list[tuple[int, str]]) -> list[Claim]:
    """Work out each claim's handling up to its (nominal) decision."""
    r = ctx.r
    claims: list[Claim] = []
    for t, kind in filed:
        if t >= ctx.end:
            continue
        c = Claim()
        c.cid = ctx.ref("IMG-SM")
        c.kind = kind
        c.filed = t
        c.corr = ctx.uuid()
        c.actor = IMG_STAFF[int(r() * len(IMG_STAFF))]
        c.channel = _CHANNEL.pick(r())
        c.term = _TERM.pick(r())
        c.route = _route(ctx, kind, t)
        c.receipt = ctx.after(t, 0.1, 10)
        c.receipt_sent = kind == PHYSICAL
        if _attach(ctx, c, claims):
            claims.append(c)
            continue
        lead = _lead(ctx, c)
        decide = ctx.later(c.receipt, ctx.office(t / DAY + lead))
        if kind == VALUE_LOSS:  # the scheme opened in Sep 2020; decisions from mid-Jan 2021
            decide = max(decide, ctx.office(P.VALUE_LOSS_DECISIONS_FROM + r() * 75))
        decide = _deferral(ctx, c, tr, decide)
        if c.route in ("maatwerk", "actual_repair") and kind == PHYSICAL:
            _inspection(ctx, c, decide)
        else:
            c.assessed = _flat_amount(ctx, c)
        if r() < P.WITHDRAWAL_SHARE:
            w = c.filed + int((decide - c.filed) * ctx.uniform(0.1, 0.9))
            c.withdrawn = ctx.later(c.receipt, w)
            if c.resume is not None and c.resume >= c.withdrawn:
                c.resume = None
            if c.defer is not None and c.defer >= c.withdrawn:
                c.defer = None
        else:
            c.decided = decide
        claims.append(c)
    return claims


def _attach(ctx: Ctx, c: Claim, claims: list[Claim]) -> bool:
    """New damage reported while an earlier claim is still being assessed is handled with it."""
    if c.kind != PHYSICAL or c.route == "fixed_payment":
        return False
    for p in claims:
        if (
            p.attached is None
            and p.kind == PHYSICAL
            and p.route == c.route
            and p.withdrawn is None
            and p.defer is None
            and p.decided is not None
            and p.decided > c.filed + 21 * DAY
        ):
            if ctx.r() < P.ATTACH_SHARE:
                c.attached = p
                c.decided = p.decided
                c.assessed = max(10_000, int(ctx.lognormal_days(200_000, 1.0)) // 100 * 100)
                return True
            return False
    return False


def _route(ctx: Ctx, kind: str, t: int) -> str:
    if kind != PHYSICAL:
        return kind
    u = ctx.r()
    repair = P.REPAIR_SHARE if t >= P.ROUTE_REPAIR_FROM * DAY else 0.0
    if u < repair:
        return "actual_repair"
    if t >= P.ROUTE_FIXED_FROM * DAY:
        year = year_of_day(t // DAY)
        fixed = P.FIXED_SHARE.get(year, P.FIXED_SHARE[max(P.FIXED_SHARE)])
        if u < repair + fixed:
            return "fixed_payment"
    return "maatwerk"


def _lead(ctx: Ctx, c: Claim) -> float:
    """Nominal days from filing to decision."""
    year = year_of_day(c.filed // DAY)
    med: float
    sigma: float
    if c.kind == VALUE_LOSS:
        med, sigma = P.LEAD_VALUE_LOSS.get(year, P.LEAD_VALUE_LOSS[2022])
    elif c.kind == IMMATERIAL:
        med, sigma = P.LEAD_IMMATERIAL
    elif c.route == "fixed_payment":
        med, sigma = P.LEAD_FIXED
    else:
        med, sigma = P.LEAD_MAATWERK[min(max(year, 2018), 2024)]
        if c.route == "actual_repair":
            med *= P.LEAD_REPAIR_FACTOR
    return max(3.0, ctx.lognormal_days(med, sigma))


def _deferral(ctx: Ctx, c: Claim, tr: Trajectory | None, decide: int) -> int:
    """Maybe defer the claim; return the (possibly later) decision time."""
    r = ctx.r
    if c.kind != PHYSICAL:
        return decide
    if (
        tr is not None
        and tr.in_programme(c.filed)
        and (tr.closed is None or tr.closed > c.filed)
        and r() < P.DEFER_STRENGTHENING_SHARE
    ):
        c.defer = ctx.later(c.receipt, c.filed + int((decide - c.filed) * ctx.uniform(0.3, 0.6)))
        c.defer_reason = "awaiting_strengthening"
        until = c.defer + int(ctx.uniform(150, 900) * DAY)
        for t in (tr.strengthening, tr.closed, tr.removed):
            if t is not None and c.defer < t < until:
                until = t
        c.resume = ctx.after(until, 1, 30)
        return ctx.after(c.resume, 30, 150)
    if r() < P.DEFER_OTHER_SHARE:
        c.defer = ctx.later(c.receipt, c.filed + int((decide - c.filed) * ctx.uniform(0.3, 0.6)))
        c.defer_reason = "applicant_request" if r() < 0.45 else "further_investigation"
        c.resume = ctx.after(c.defer, 30, 200)
        return ctx.later(c.resume, decide + (c.resume - c.defer))
    return decide


def _inspection(ctx: Ctx, c: Claim, decide: int) -> None:
    """Case guide, damage inspection and advisory report before the decision (or deferral)."""
    r = ctx.r
    stop = c.defer if c.defer is not None else decide
    span = stop - c.receipt
    c.inspection = ctx.later(c.receipt, c.receipt + int(span * ctx.uniform(0.2, 0.5)))
    c.visit_id = ctx.ref("IMG-BZK")
    c.report = ctx.later(c.inspection, c.inspection + int((stop - c.inspection) * ctx.uniform(0.3, 0.8)))
    if r() < P.CASE_GUIDE_SHARE:
        c.guide = ctx.later(c.receipt, c.receipt + int((c.inspection - c.receipt) * r()))
        if c.guide >= c.inspection:
            c.guide = None
    if r() < P.REVISION_SHARE:
        rev = ctx.later(c.report, c.report + int((decide - c.report) * ctx.uniform(0.3, 0.8)))
        c.revision = rev if rev < decide else None
    c.causal = _CAUSAL.pick(r())
    median = 600_000 if c.route == "actual_repair" else 350_000
    c.assessed = max(10_000, int(ctx.lognormal_days(median, 1.0)) // 100 * 100)


def _flat_amount(ctx: Ctx, c: Claim) -> int:
    if c.kind == VALUE_LOSS:
        return max(50_000, int(ctx.lognormal_days(900_000, 0.6)) // 100 * 100)
    if c.kind == IMMATERIAL:
        return _IMMATERIAL_AMOUNTS[int(ctx.r() * 4)]
    return 500_000  # fixed payment (vaste vergoeding) of EUR 5,000


def _ready(c: Claim) -> int:
    """When a claim could be settled by someone else's decision."""
    t = c.revision or c.report or c.receipt
    return t + DAY


def _deferred_at(c: Claim, t: int) -> bool:
    return c.defer is not None and c.defer <= t and (c.resume is None or c.resume > t)


def decisions(ctx: Ctx, a: Address, claims: list[Claim]) -> None:
    """Group claims into decisions and emit decisions, payments and objections."""
    r = ctx.r
    end = ctx.end
    done: set[str] = set()
    while True:
        due = [c for c in claims if c.cid not in done and c.decided is not None and c.decided < end]
        if not due:
            break
        c = min(due, key=_decided_at)
        t = c.decided
        assert t is not None
        group = [c]
        done.add(c.cid)
        for c2 in claims:  # other open claims of the same scheme that are ready
            if (
                c2.cid in done
                or c2.attached is not None
                or c2.kind != c.kind
                or c2.route != c.route
                or c2.filed >= t
                or _ready(c2) > t
                or _deferred_at(c2, t)
                or (c2.withdrawn is not None and c2.withdrawn <= t)
                or (c2.decided is not None and c2.decided <= t)
                or r() >= P.BUNDLE_SHARE
            ):
                continue
            group.append(c2)
            done.add(c2.cid)
            c2.decided = t
            c2.withdrawn = None
            if c2.defer is not None and c2.defer >= t:
                c2.defer = c2.resume = None
            if c2.revision is not None and c2.revision >= t:
                c2.revision = None
        for c2 in claims:  # claims handled with a member are settled too, if already filed
            if c2.attached is None or c2.cid in done or c2.attached not in group:
                continue
            if _ready(c2) <= t:
                group.append(c2)
                done.add(c2.cid)
                c2.decided = t
            else:
                c2.attached = None
                c2.decided = ctx.after(max(t, c2.receipt), 30, 120)
        _decision(ctx, a, c, group, t)
    for c in claims:  # nominal decisions after the horizon never happen
        if c.decided is not None and c.decided >= end:
            c.decided = None


def _decided_at(c: Claim) -> int:
    return c.decided or 0


def _decision(ctx: Ctx, a: Address, c: Claim, group: list[Claim], t: int) -> None:
    r = ctx.r
    if c.kind == PHYSICAL and c.route != "fixed_payment":
        outcome = {"mining": "granted", "partly_mining": "partly_granted"}.get(c.causal, "rejected")
    else:
        reject = {VALUE_LOSS: P.REJECT_VALUE_LOSS, IMMATERIAL: P.REJECT_IMMATERIAL}.get(c.kind, P.REJECT_FIXED)
        u = r()
        outcome = "rejected" if u < reject else ("partly_granted" if u < reject + 0.02 else "granted")
    total = sum(x.assessed for x in group)
    if outcome == "rejected":
        amount = 0
    elif outcome == "partly_granted":
        amount = int(total * ctx.uniform(0.3, 0.8)) // 100 * 100
    else:
        amount = total
    decision_id = ctx.ref("IMG-BS")
    data = {
        "decision_id": decision_id,
        "claim_ids": [x.cid for x in group],
        "outcome": outcome,
        "amount_cents": amount,
        "scheme": c.scheme,
    }
    a.emit(t, T.IMG, T.DECIDED, data, c.corr, c.actor)
    if amount > 0:
        paid = ctx.after(t, 5, 42)
        if r() < P.SPLIT_PAYMENT_SHARE:
            first = amount * (6 + int(r() * 3)) // 10 // 100 * 100
            a.emit(paid, T.IMG, T.PAID, {"decision_id": decision_id, "amount_cents": first}, c.corr, "img-betalingen")
            paid = ctx.after(paid, 20, 90)
            amount -= first
        a.emit(paid, T.IMG, T.PAID, {"decision_id": decision_id, "amount_cents": amount}, c.corr, "img-betalingen")
    if r() < P.OBJECTION_SHARE[outcome]:
        filed = ctx.after(t, 7, 84)
        objection_id = ctx.ref("IMG-BZ")
        a.emit(
            filed,
            T.IMG,
            T.OBJECTION_FILED,
            {"objection_id": objection_id, "decision_id": decision_id},
            c.corr,
            "img-bezwaar",
        )
        days = ctx.lognormal_days(120, 0.5)
        a.emit(
            ctx.after(filed, days, days),
            T.IMG,
            T.OBJECTION_DECIDED,
            {"objection_id": objection_id, "outcome": _OBJ_OUTCOME.pick(r())},
            c.corr,
            "img-bezwaar",
        )


def emit(ctx: Ctx, a: Address, claims: list[Claim]) -> None:
    """Append every claim's own events (decisions are emitted by `decisions`)."""
    for c in claims:
        cid, corr, actor = c.cid, c.corr, c.actor
        intake = "img-schadesysteem" if c.channel == "online" else actor
        a.emit(
            c.filed,
            T.IMG,
            T.CLAIM_FILED,
            {
                "claim_id": cid,
                "claim_type": c.kind,
                "route": c.route if c.kind == PHYSICAL else "fixed_payment",
                "channel": c.channel,
            },
            corr,
            intake,
        )
        if c.receipt_sent:
            a.emit(c.receipt, T.IMG, T.RECEIPT, {"claim_id": cid, "decision_term_days": c.term}, corr, actor)
        stop = c.withdrawn if c.withdrawn is not None else (c.decided if c.decided is not None else ctx.end)
        if c.guide is not None and c.guide < stop:
            a.emit(
                c.guide,
                T.IMG,
                T.CASE_GUIDE,
                {"claim_id": cid, "guide_ref": IMG_GUIDES[int(ctx.r() * len(IMG_GUIDES))]},
                corr,
                actor,
            )
        if c.inspection is not None and c.inspection < stop:
            a.emit(
                c.inspection,
                T.IMG,
                T.DAMAGE_INSPECTION,
                {
                    "claim_id": cid,
                    "inspection_id": ctx.ref("IMG-OPN"),
                    "visit_id": c.visit_id,
                    "joint_with_ncg": c.joint,
                },
                corr,
                actor,
            )
        if c.report is not None and c.report < stop:
            a.emit(c.report, T.IMG, T.ADVISORY_REPORT, _report(ctx, c, False), corr, actor)
        if c.revision is not None and c.revision < stop:
            a.emit(c.revision, T.IMG, T.ADVISORY_REPORT, _report(ctx, c, True), corr, actor)
        if c.defer is not None and c.defer < stop:
            a.emit(c.defer, T.IMG, T.DEFERRED, {"claim_id": cid, "reason": c.defer_reason}, corr, actor)
            if c.resume is not None and c.resume < stop:
                a.emit(c.resume, T.IMG, T.RESUMED, {"claim_id": cid}, corr, actor)
        if c.withdrawn is not None:
            a.emit(c.withdrawn, T.IMG, T.WITHDRAWN, {"claim_id": cid}, corr, actor)


def _report(ctx: Ctx, c: Claim, revision: bool) -> dict[str, Any]:
    amount = c.assessed
    if revision:
        amount = max(10_000, int(amount * ctx.uniform(0.8, 1.4)) // 100 * 100)
        c.assessed = amount
    return {
        "claim_id": c.cid,
        "report_id": ctx.ref("IMG-AR"),
        "assessed_amount_cents": amount,
        "causal_finding": c.causal,
        "revision": revision,
    }


def aos(ctx: Ctx, a: Address, tr: Trajectory | None) -> None:
    """Acutely unsafe situations: made safe within 48 hours, forwarded to NCG where relevant."""
    r = ctx.r
    years = (ctx.horizon_day - P.HISTORY_START + 1) / 365.25
    lam = P.AOS_PER_YEAR * years / P.FULL_SCALE * a.damage_factor * (3.0 if tr is not None else 0.7)
    times = [ctx.anytime(ctx.uniform(P.HISTORY_START, ctx.horizon_day)) for _ in range(ctx.poisson(lam))]
    if tr is not None and tr.milestones[0][2]["basis"] == "aos":
        times.append(tr.added - int(ctx.uniform(7, 60) * DAY))
    for t in times:
        if t < P.HISTORY_START * DAY:
            continue
        aos_id = ctx.ref("IMG-AOS")
        a.emit(t, T.IMG, T.AOS_REPORTED, {"aos_id": aos_id, "reported_by": _AOS_BY.pick(r())}, None, "img-aos-team")
        hours = ctx.uniform(2, 47) if r() < P.AOS_WITHIN_48H else ctx.uniform(49, 240)
        done = t + int(hours * 3_600_000_000)
        founded = r() < 0.6
        forwarded = founded and (tr is not None or r() < 0.25)
        a.emit(
            done,
            T.IMG,
            T.AOS_RESOLVED,
            {"aos_id": aos_id, "well_founded": founded, "forwarded_to_ncg": forwarded},
            None,
            "img-aos-team",
        )
