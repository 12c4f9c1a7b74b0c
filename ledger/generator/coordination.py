"""Samenloop and the IMG-NCG coordination around it (contract §3.4-3.5, rule R9).

Before the AMvB (2023-07-01) a few addresses in samenloop exchange data with consent under
the 2019 covenant; after it, IMG or NCG offers the integrated approach, residents agree or
decline, coordinators are assigned, joint visits held and data shared under art. 10h.
"""

from __future__ import annotations

from ledger.generator import catalogue as T
from ledger.generator import params as P
from ledger.generator.address import Address
from ledger.generator.claims import PHYSICAL, Claim
from ledger.generator.context import Ctx, Table
from ledger.generator.ncg import Trajectory
from ledger.generator.timeline import DAY, MINUTE

_VIA = Table([("portal", 0.5), ("img", 0.3), ("ncg", 0.2)])
_SCOPE = Table([("both", 0.7), ("img_to_ncg", 0.2), ("ncg_to_img", 0.1)])
_IMG_CATEGORIES = ("damage_report", "decision", "planning")
_NCG_CATEGORIES = ("assessment", "strengthening_status", "planning")
COORDINATORS = tuple(f"coordinator-{i:04d}" for i in range(1, 201))


def samenloop_start(tr: Trajectory, claims: list[Claim], floor: int, end: int) -> int | None:
    """First moment at or after `floor` when the address is in the programme with a pending claim."""
    best = None
    stop_prog = tr.removed if tr.removed is not None else end
    for c in claims:
        s = max(c.filed, tr.added, floor)
        if s < min(c.pending_until(end), stop_prog) and (best is None or s < best):
            best = s
    return best


def simulate(ctx: Ctx, a: Address, tr: Trajectory | None, claims: list[Claim]) -> None:
    if tr is None:
        return
    end = ctx.end
    s0 = samenloop_start(tr, claims, 0, end)
    if s0 is None:
        return
    amvb = P.AMVB * DAY
    if s0 < amvb:
        _covenant(ctx, a, tr, claims, s0)
    s1 = samenloop_start(tr, claims, amvb, end)
    if s1 is not None:
        _integrated(ctx, a, tr, claims, s1)


def _covenant(ctx: Ctx, a: Address, tr: Trajectory, claims: list[Claim], s0: int) -> None:
    r = ctx.r
    amvb = P.AMVB * DAY
    start = max(s0, P.COVENANT * DAY)
    if r() < P.COVENANT_EXCHANGE_SHARE:
        t = ctx.after(start, 10, 200, portal=True)
        if t < amvb:
            consent = _consent(ctx, a, t)
            shared = ctx.after(t, 2, 60)
            if shared < amvb:
                _share(ctx, a, tr, shared, consent)
    if r() < P.COVENANT_JOINT_SHARE:
        t = ctx.after(start, 30, 300)
        if t < amvb:
            _joint_visit(ctx, a, tr, claims, t, T.IMG)
    if r() < P.COVENANT_REQUEST_SHARE:
        t = ctx.after(start, 10, 300, portal=True)
        if t < amvb:
            via = "portal" if r() < 0.6 else "img"
            a.emit(
                t, T.PORTAL if via == "portal" else T.IMG, T.APPROACH_REQUESTED, {"party_ref": a.party_ref, "via": via}
            )
            if r() < 0.5:
                _coordinator(ctx, a, tr, t, 90.0, None)


def co_inspect(ctx: Ctx, tr: Trajectory | None, claims: list[Claim]) -> None:
    """IMG's damage inspection and NCG's structural inspection in one visit, when both are due
    within `CO_INSPECTION_WINDOW` days: the later one is brought forward to the earlier one."""
    if tr is None or tr.inspection is None:
        return
    m = tr.inspection
    t3 = m[0]
    window = P.CO_INSPECTION_WINDOW * DAY
    previous = max((x[0] for x in tr.milestones if x[0] < t3 and x[1] != T.STRUCTURAL_INSPECTION), default=t3)
    for c in claims:
        if c.kind != PHYSICAL or c.inspection is None or c.joint or abs(c.inspection - t3) > window:
            continue
        if c.receipt < t3 < c.inspection:  # IMG comes along with NCG
            at = t3
        elif previous < c.inspection < t3 and tr.ncg_may_emit(c.inspection):  # and vice versa
            at = c.inspection
        else:
            continue
        if ctx.r() >= P.CO_INSPECTION_SHARE:
            return
        c.inspection = at + MINUTE
        c.visit_id = m[2]["visit_id"]
        c.joint = True
        if c.guide is not None and c.guide >= c.inspection:
            c.guide = None
        m[0] = at
        m[2] = {**m[2], "joint_with_img": True}
        return


def _integrated(ctx: Ctx, a: Address, tr: Trajectory, claims: list[Claim], s1: int) -> None:
    r = ctx.r
    request = offer = None
    consent: tuple[int, int | None] | None = None
    if r() < P.REQUEST_SHARE:
        request = ctx.after(s1, 5, 200, portal=True)
        via = _VIA.pick(r())
        if via == "ncg" and not tr.ncg_may_emit(request):
            via = "img"
        org = {"portal": T.PORTAL, "img": T.IMG, "ncg": T.NCG}[via]
        a.emit(request, org, T.APPROACH_REQUESTED, {"party_ref": a.party_ref, "via": via})
        if r() < 0.9:
            offer = ctx.after(request, 3, 20)
        elif r() < 0.4:
            _coordinator(ctx, a, tr, request, 35.0, None)
    elif r() < P.OFFER_SHARE:
        days = ctx.exp_days(120)
        offer = ctx.after(s1, days, days)
    if offer is not None:
        offer_id = ctx.ref("SA")
        org = T.NCG if r() < 0.5 else T.IMG
        u = r()
        # a resident who asked for it agrees more often, and sooner
        agree = P.AGREE_AFTER_REQUEST if request is not None else P.AGREE_SHARE
        respond = (3, 30) if request is not None else (7, 90)
        agreed = ctx.after(offer, *respond) if u < agree else None
        if org == T.NCG and not (tr.ncg_may_emit(offer) and (agreed is None or tr.ncg_may_emit(agreed))):
            org = T.IMG
        corr = ctx.uuid()
        a.emit(offer, org, T.OFFERED, {"offer_id": offer_id}, corr)
        if agreed is not None:
            if r() < P.CONSENT_WITH_AGREEMENT:
                consent = _consent(ctx, a, ctx.later(offer, agreed - int(r() * 3 * DAY)))
            components = [c for c, p in P.COMPONENTS if r() < p] or ["coordinated_handling"]
            a.emit(agreed, org, T.AGREED, {"offer_id": offer_id, "components": components}, corr)
            if "coordinator" in components and r() < 0.92:
                _coordinator(ctx, a, tr, agreed, 18.0, corr)
            if ("total_inspection" in components or "visiting_address" in components) and r() < P.JOINT_VISIT_SHARE:
                lead = org if r() < 0.7 else (T.IMG if org == T.NCG else T.NCG)
                _joint_visit(ctx, a, tr, claims, ctx.after(agreed, 14, 120), lead, corr)
            for _ in range(ctx.poisson(1.5)):
                t = ctx.after(agreed, 1, 365)
                contact(ctx, a, tr, t, T.NCG if r() < 0.5 else T.IMG)
        elif u < agree + P.DECLINE_SHARE:
            t = ctx.after(offer, 7, 90, portal=True)
            a.emit(t, T.PORTAL if r() < 0.6 else T.IMG, T.APPROACH_DECLINED, {"party_ref": a.party_ref})
    if r() < P.SHARE_AFTER_AMVB:
        t = ctx.after(s1, 3, 150)
        _share(ctx, a, tr, t, consent)
        if r() < 0.4:
            _share(ctx, a, tr, ctx.after(t, 30, 300), consent)


def _consent(ctx: Ctx, a: Address, t: int) -> tuple[int, int | None]:
    """Consent given at `t` (through the portal or IMG); sometimes revoked later."""
    r = ctx.r
    a.emit(t, T.PORTAL if r() < 0.6 else T.IMG, T.CONSENT_GIVEN, {"party_ref": a.party_ref, "scope": _SCOPE.pick(r())})
    revoked = None
    if r() < P.REVOKE_SHARE:
        revoked = ctx.after(t, 30, 500, portal=True)
        a.emit(revoked, T.PORTAL, T.CONSENT_REVOKED, {"party_ref": a.party_ref})
    return t, revoked


def _share(ctx: Ctx, a: Address, tr: Trajectory, t: int, consent: tuple[int, int | None] | None) -> None:
    r = ctx.r
    if r() < 0.45 and tr.ncg_may_emit(t):
        org, direction, pool = T.NCG, "ncg_to_img", _NCG_CATEGORIES
    else:
        org, direction, pool = T.IMG, "img_to_ncg", _IMG_CATEGORIES
    categories = [c for c in pool if r() < 0.55] or [pool[0]]
    active = consent is not None and consent[0] < t and (consent[1] is None or consent[1] > t)
    basis = "consent" if active or t < P.AMVB * DAY else "besluit_twg_10h"
    if basis == "consent" and not active:
        return  # before the AMvB there is no exchange without consent
    a.emit(t, org, T.INFO_SHARED, {"direction": direction, "categories": categories, "legal_basis": basis})


def _coordinator(ctx: Ctx, a: Address, tr: Trajectory, base: int, median: float, corr: str | None) -> None:
    r = ctx.r
    days = ctx.lognormal_days(median, 0.8)
    t = ctx.after(base, days, days)
    lead = T.NCG if r() < 0.6 else T.IMG
    org = lead if lead == T.IMG or tr.ncg_may_emit(t) else T.IMG
    a.emit(
        t,
        org,
        T.COORDINATOR,
        {"coordinator_ref": COORDINATORS[int(r() * len(COORDINATORS))], "lead_org": T.ORGS[lead]},
        corr,
    )


def _joint_visit(
    ctx: Ctx, a: Address, tr: Trajectory, claims: list[Claim], t: int, lead: int, corr: str | None = None
) -> None:
    """A joint visit; a pending inspection of either organisation takes place during it."""
    if lead == T.NCG and not tr.ncg_may_emit(t):
        lead = T.IMG
    visit_id = ctx.ref("BZK")
    a.emit(t, lead, T.JOINT_VISIT, {"visit_id": visit_id}, corr)
    end = ctx.end
    for c in claims:
        if (
            c.kind == PHYSICAL
            and c.inspection is not None
            and c.filed < t < c.inspection
            and c.receipt < t
            and c.pending_until(end) > c.inspection
        ):
            c.inspection = t + MINUTE
            c.visit_id = visit_id
            c.joint = True
            if c.guide is not None and c.guide >= c.inspection:
                c.guide = None
            break
    m = tr.inspection
    if m is not None and m[0] > t and tr.ncg_may_emit(t):
        before = [x[0] for x in tr.milestones if x[0] < m[0] and x[1] != T.STRUCTURAL_INSPECTION]
        if before and max(before) < t:
            m[0] = t + 2 * MINUTE
            m[2] = {**m[2], "visit_id": visit_id, "joint_with_img": True}


_CHANNEL = Table([("phone", 0.4), ("email", 0.22), ("portal", 0.2), ("letter", 0.12), ("visit", 0.06)])


def contact(ctx: Ctx, a: Address, tr: Trajectory | None, t: int, with_org: int) -> None:
    """A contact moment with IMG or NCG, recorded through the portal or by the organisation."""
    r = ctx.r
    channel = _CHANNEL.pick(r())
    org = T.PORTAL if channel == "portal" else with_org
    if org == T.NCG and (tr is None or not tr.ncg_may_emit(t)):
        return
    a.emit(
        t,
        org,
        T.CONTACT,
        {"with_org": T.ORGS[with_org], "channel": channel, "initiated_by": "resident" if r() < 0.6 else "organisation"},
    )
