"""NCG's strengthening trajectory of a programme address (contract §3.3, rules R5 and R6).

An address's progress is a rank `u` in [0, 1): the milestone curves in `params` give the day
by which that share of programme addresses had reached each milestone, so the phase
distribution on any date follows the curves. Milestones are then jittered and put in order
with minimum gaps; a closure or removal ends the trajectory.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import Any

from ledger.generator import catalogue as T
from ledger.generator import params as P
from ledger.generator.address import Address
from ledger.generator.context import Ctx, Table
from ledger.generator.timeline import DAY

_PATHS = Table(P.PATHS)
_NORMAL = NormalDist()
_RHO_REST = (1 - P.RANK_CORRELATION**2) ** 0.5
_REMOVAL = Table(P.REMOVAL_REASONS)
_STALL = Table(P.STALL_REASONS)
_BASIS = (
    (P.HISTORY_START + 31, Table([("prior_commitment", 0.7), ("risk_estimate", 0.3)])),
    (
        P.HISTORY_START + 730,
        Table([("risk_estimate", 0.78), ("prior_commitment", 0.08), ("owner_request", 0.10), ("aos", 0.04)]),
    ),
    (
        P.HISTORY_START + 1461,
        Table([("administrative_agreement", 0.6), ("risk_estimate", 0.2), ("owner_request", 0.15), ("aos", 0.05)]),
    ),
    (10**9, Table([("owner_request", 0.55), ("aos", 0.2), ("administrative_agreement", 0.25)])),
)
_METHOD_EARLY = Table([("typology", 0.25), ("practice", 0.2), ("npr_calculation", 0.55)])
_METHOD_LATE = Table([("typology", 0.5), ("practice", 0.2), ("npr_calculation", 0.3)])
NCG_STAFF = tuple(f"ncg-medewerker-{i:04d}" for i in range(1, 501))
NCG_GUIDES = tuple(f"bewonersbegeleider-{i:04d}" for i in range(1, 301))


class Trajectory:
    """Times of one programme address's trajectory; milestone events are kept as lists
    `[time, code, data]` so that coordination can still mark an inspection as joint."""

    __slots__ = (
        "added",
        "removed",
        "closed",
        "closed_reason",
        "strengthening",
        "started",
        "completed",
        "inspection",
        "milestones",
        "corr",
        "actor",
    )

    def __init__(self) -> None:
        self.added = 0
        self.removed: int | None = None
        self.closed: int | None = None
        self.closed_reason = ""
        self.strengthening: int | None = None
        self.started: int | None = None
        self.completed: int | None = None
        self.inspection: list[Any] | None = None
        self.milestones: list[list[Any]] = []
        self.corr = ""
        self.actor = ""

    def ncg_may_emit(self, t: int) -> bool:
        """NCG may record something at `t`: in the programme and not yet closed."""
        end = self.closed if self.closed is not None else self.removed
        if self.removed is not None and (end is None or self.removed < end):
            end = self.removed
        return self.added < t and (end is None or t < end)

    def in_programme(self, t: int) -> bool:
        return self.added <= t and (self.removed is None or t < self.removed)


def simulate(ctx: Ctx, a: Address) -> Trajectory | None:
    """Decide whether the address enters the programme and, if so, its trajectory."""
    r = ctx.r
    top = ctx.top_added
    if r() >= top * a.prog_factor:
        return None
    add_day = P.ADDED_SHARE.inv(r() * top) or float(P.HISTORY_START)
    tr = Trajectory()
    tr.corr = ctx.uuid()
    tr.actor = NCG_STAFF[int(r() * len(NCG_STAFF))]
    tr.added = ctx.office(add_day)
    basis = next(tab for until, tab in _BASIS if add_day < until).pick(r())
    ms = tr.milestones
    ms.append([tr.added, T.ADDED, {"programme_ref": ctx.ref("NCG-WV"), "basis": basis}])
    if basis == "aos":
        tr.inspection = None  # the AOS report itself is generated with the address's claims

    path = _PATHS.pick(r())
    # progress rank: uniform, correlated with the order of addition (Gaussian copula)
    q = min(max(P.ADDED_SHARE.at(add_day) / top, 1e-6), 1 - 1e-6)
    z = P.RANK_CORRELATION * _NORMAL.inv_cdf(q) + _RHO_REST * ctx.rng.gauss(0.0, 1.0)
    u = _NORMAL.cdf(z)
    plan = _plan(ctx, path, u)
    _place(ctx, tr, plan, path)
    _removal(ctx, tr)
    _extras(ctx, tr)
    return tr


def _plan(ctx: Ctx, path: str, u: float) -> list[tuple[int, float | None, float]]:
    """Milestone targets as (code, target day or None, minimum gap in days)."""
    r = ctx.r
    t2, t3, t4 = P.LOCAL_PLAN.inv(u), P.INSPECTION.inv(u), P.ASSESSMENT.inv(u)
    plan: list[tuple[int, float | None, float]] = [
        (T.LOCAL_PLAN, t2, 7.0),
        (T.STRUCTURAL_INSPECTION, t3, 14.0),
        (T.ASSESSMENT, t4, 14.0),
    ]
    if path == "M":
        t6 = P.CLOSED_M.inv(u)
        nd: float | None = (
            (t6 - r() * 60)
            if t6 is not None
            else (t4 + ctx.uniform(60, 700) if t4 is not None and r() < 0.45 else None)
        )
        plan += [(T.NORM_DECISION, nd, 7.0), (T.CLOSED, t6, 1.0)]
    elif path == "B":
        t5, t6 = P.EXECUTION_B.inv(u), P.CLOSED_B.inv(u)
        if t5 is not None and t4 is not None:
            nd = t4 + (t5 - t4) * ctx.uniform(0.2, 0.7)
        else:
            nd = t4 + ctx.uniform(60, 500) if t4 is not None and r() < 0.5 else None
        cs = cc = None
        if t5 is not None:
            if t6 is not None:
                cs = t5 + (t6 - t5) * ctx.uniform(0.1, 0.35)
                cc = t6 - ctx.uniform(1, 30)
            elif r() < 0.7:
                cs = t5 + ctx.uniform(60, 400)
                cc = cs + ctx.uniform(180, 540)
        plan += [
            (T.NORM_DECISION, nd, 7.0),
            (T.STRENGTHENING_DECISION, t5, 14.0),
            (T.CONSTRUCTION_STARTED, cs, 14.0),
            (T.CONSTRUCTION_COMPLETED, cc, 60.0),
            (T.CLOSED, t6, 1.0),
        ]
    else:
        t6 = P.CLOSED_O.inv(u)
        if t6 is not None:
            plan = [p for p in plan if p[1] is not None and p[1] < t6]
        plan.append((T.CLOSED, t6, 1.0))
    return plan


def _place(ctx: Ctx, tr: Trajectory, plan: list[tuple[int, float | None, float]], path: str) -> None:
    """Turn targets into ordered events; stop at the first missing milestone or the horizon."""
    r = ctx.r
    jitter = P.MILESTONE_JITTER_DAYS
    prev = tr.added
    for code, target, gap in plan:
        if target is None:
            break
        day = max(target + (r() * 2 - 1) * jitter, prev / DAY + gap * (0.5 + r()))
        t = ctx.later(prev, ctx.office(day))
        if t >= ctx.end:
            break
        tr.milestones.append([t, code, _milestone_data(ctx, code, t, path)])
        if code == T.STRUCTURAL_INSPECTION:
            tr.inspection = tr.milestones[-1]
        elif code == T.STRENGTHENING_DECISION:
            tr.strengthening = t
        elif code == T.CONSTRUCTION_STARTED:
            tr.started = t
        elif code == T.CONSTRUCTION_COMPLETED:
            tr.completed = t
        elif code == T.CLOSED:
            tr.closed = t
            tr.closed_reason = tr.milestones[-1][2]["reason"]
        prev = t


def _milestone_data(ctx: Ctx, code: int, t: int, path: str) -> dict[str, Any]:
    r = ctx.r
    if code == T.LOCAL_PLAN:
        year = ctx.fmt.days[t // DAY][:4]
        return {"lpa_year": int(year) + (1 if r() < 0.3 else 0)}
    if code == T.STRUCTURAL_INSPECTION:
        return {"inspection_id": ctx.ref("NCG-OPN"), "visit_id": ctx.ref("BZK"), "joint_with_img": False}
    if code == T.ASSESSMENT:
        method = (_METHOD_EARLY if t < (P.HISTORY_START + 1461) * DAY else _METHOD_LATE).pick(r())
        return {"assessment_id": ctx.ref("NCG-BO"), "method": method, "reassessment": False}
    if code == T.NORM_DECISION:
        return {"advice_ref": ctx.ref("NCG-VA"), "meets_norm": path == "M"}
    if code == T.STRENGTHENING_DECISION:
        scope = "demolish_rebuild" if r() < P.DEMOLISH_SHARE else "strengthen"
        return {"decision_ref": ctx.ref("NCG-VB"), "scope": scope}
    if code == T.CLOSED:
        return {"reason": {"M": "meets_norm", "B": "built"}.get(path, "other")}
    return {}


def _removal(ctx: Ctx, tr: Trajectory) -> None:
    """A few addresses leave the programme before closure; later milestones never happen."""
    r = ctx.r
    if r() >= P.REMOVED_SHARE:
        return
    t = ctx.after(tr.added, 30, 1200)
    if t >= ctx.end or (tr.closed is not None and t >= tr.closed):
        return
    kept = [m for m in tr.milestones if m[0] < t]
    tr.milestones[:] = kept
    tr.removed = t
    tr.closed = None
    codes = {m[1] for m in kept}
    tr.strengthening = tr.strengthening if T.STRENGTHENING_DECISION in codes else None
    tr.started = tr.started if T.CONSTRUCTION_STARTED in codes else None
    tr.completed = tr.completed if T.CONSTRUCTION_COMPLETED in codes else None
    if tr.inspection is not None and T.STRUCTURAL_INSPECTION not in codes:
        tr.inspection = None
    tr.milestones.append([t, T.REMOVED, {"reason": _REMOVAL.pick(r())}])


def _extras(ctx: Ctx, tr: Trajectory) -> None:
    """Resident guide, reassessment and stalls: events between milestones."""
    r = ctx.r
    ms = tr.milestones
    end = tr.closed if tr.closed is not None else (tr.removed if tr.removed is not None else ctx.end)
    extra: list[list[Any]] = []
    local = next((m[0] for m in ms if m[1] == T.LOCAL_PLAN), None)
    if local is not None and r() < P.RESIDENT_GUIDE_SHARE:
        t = ctx.after(local, 3, 45)
        if t < end:
            extra.append([t, T.RESIDENT_GUIDE, {"guide_ref": NCG_GUIDES[int(r() * len(NCG_GUIDES))]}])
            if r() < 0.1:
                t2 = ctx.after(t, 200, 700)
                if t2 < end:
                    extra.append([t2, T.RESIDENT_GUIDE, {"guide_ref": NCG_GUIDES[int(r() * len(NCG_GUIDES))]}])
    first_assessment = next((m for m in ms if m[1] == T.ASSESSMENT), None)
    if first_assessment is not None and r() < P.REASSESSMENT_SHARE:
        nxt = next((m[0] for m in ms if m[0] > first_assessment[0] and m[1] != T.ASSESSMENT), end)
        t = ctx.after(first_assessment[0], 30, 400)
        if t < nxt and t < end:
            extra.append(
                [
                    t,
                    T.ASSESSMENT,
                    {"assessment_id": ctx.ref("NCG-BO"), "method": _METHOD_LATE.pick(r()), "reassessment": True},
                ]
            )
    if r() < P.STALL_SHARE:
        times = [m[0] for m in ms] + [end]
        gaps = [(b - a, a, b) for a, b in zip(times, times[1:], strict=False) if b - a > 150 * DAY]
        if gaps:
            size, a, b = max(gaps)
            stall = a + int(size * ctx.uniform(0.1, 0.4))
            stall = ctx.later(a, ctx.office(stall / DAY))
            if stall < b and stall < end:
                extra.append([stall, T.STALLED, {"reason": _STALL.pick(r())}])
                if r() < 0.85:
                    resume = ctx.later(stall, ctx.office((b - ctx.uniform(5, 30) * DAY) / DAY))
                    if resume < min(b, end):
                        extra.append([resume, T.TRAJECTORY_RESUMED, {}])
    ms.extend(extra)


def emit(a: Address, tr: Trajectory) -> None:
    """Append the trajectory's events to the address."""
    for t, code, data in tr.milestones:
        a.emit(t, T.NCG, code, data, tr.corr, tr.actor)
