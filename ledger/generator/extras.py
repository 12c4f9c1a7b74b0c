"""Referrals, complaints and contact moments around an address's claims and trajectory."""

from __future__ import annotations

from ledger.generator import catalogue as T
from ledger.generator import params as P
from ledger.generator.address import Address
from ledger.generator.claims import PHYSICAL, Claim
from ledger.generator.context import Ctx, Table
from ledger.generator.coordination import contact
from ledger.generator.ncg import Trajectory
from ledger.generator.timeline import DAY, d, year_of_day

_IMG_REFERRAL = Table([("safety_concern", 0.6), ("wrong_organisation", 0.25), ("other", 0.15)])
_PROGRAMME_SIZE = 27_500.0  # programme addresses at full scale, for per-address complaint rates


_VOLUME = {
    y: P.PHYSICAL_FILED.at(d(y + 1)) - P.PHYSICAL_FILED.at(d(y - 1)) for y in range(2018, 2061)
}  # physical claims filed in this and the previous year: those a complaint can be about


def _year_volume(year: int) -> float:
    return _VOLUME.get(year) or _VOLUME[2030]


def _ombudsman(year: int) -> float:
    table = P.OMBUDSMAN_PER_YEAR
    return table.get(year, table[max(table)] if year > max(table) else table[min(table)])


def simulate(ctx: Ctx, a: Address, tr: Trajectory | None, claims: list[Claim]) -> None:
    end = ctx.end
    for c in claims:
        stop = c.pending_until(end)
        _claim_extras(ctx, a, tr, c, stop)
    if tr is not None:
        _programme_extras(ctx, a, tr)


def _claim_extras(ctx: Ctx, a: Address, tr: Trajectory | None, c: Claim, stop: int) -> None:
    r = ctx.r
    if c.kind == PHYSICAL and r() < P.REFERRAL_IMG_SHARE * (3.0 if tr is not None else 1.0):
        t = ctx.after(c.inspection or c.receipt, 0, 20)
        a.emit(t, T.IMG, T.REFERRED, {"from_org": "IMG", "to_org": "NCG", "reason": _IMG_REFERRAL.pick(r())})
    for _ in range(ctx.poisson(P.CONTACTS_PER_CLAIM)):
        t = c.filed + int(r() * (stop + 30 * DAY - c.filed))
        contact(ctx, a, tr, ctx.later(c.filed, ctx.anytime(t / DAY)), T.IMG)
    if c.kind == PHYSICAL:
        t = ctx.after(c.filed, 30, 500)
        year = year_of_day(t // DAY)
        if r() < 1.8 * _ombudsman(year) / _year_volume(year):
            against = "both" if tr is not None and r() < 0.2 else "IMG"
            _complaint(ctx, a, tr, t, against, "ombudsman")
        if r() < P.ORG_COMPLAINTS_PER_YEAR * 0.75 / 38_000:
            against = "both" if tr is not None and r() < 0.15 else "IMG"
            _complaint(ctx, a, tr, ctx.after(c.filed, 20, 400), against, "organisation")


def _programme_extras(ctx: Ctx, a: Address, tr: Trajectory) -> None:
    r = ctx.r
    end = ctx.end
    stop = min(x for x in (tr.closed, tr.removed, end) if x is not None)
    if tr.started is not None and r() < P.REFERRAL_NCG_SHARE:
        until = tr.completed or stop
        t = ctx.later(tr.started, tr.started + int((until - tr.started) * ctx.uniform(0.1, 0.9)))
        if tr.ncg_may_emit(t):
            a.emit(t, T.NCG, T.REFERRED, {"from_org": "NCG", "to_org": "IMG", "reason": "damage_in_strengthening"})
    elif r() < 0.01:
        t = ctx.after(tr.added, 30, 900)
        if tr.ncg_may_emit(t):
            a.emit(
                t,
                T.NCG,
                T.REFERRED,
                {"from_org": "NCG", "to_org": "IMG", "reason": "wrong_organisation" if r() < 0.5 else "other"},
            )
    years = (stop - tr.added) / (365.25 * DAY)
    for _ in range(ctx.poisson(P.CONTACTS_PER_PROGRAMME_YEAR * years)):
        t = tr.added + int(r() * (stop - tr.added))
        contact(ctx, a, tr, ctx.later(tr.added, ctx.office(t / DAY)), T.NCG)
    first = year_of_day(tr.added // DAY)
    last = year_of_day((stop - 1) // DAY)
    for year in range(first, last + 1):
        t = ctx.later(tr.added, ctx.office(d(year) + r() * 365))
        if t >= stop:
            continue
        if r() < 0.2 * _ombudsman(year) / _PROGRAMME_SIZE:
            _complaint(ctx, a, tr, t, "both" if r() < 0.2 else "NCG", "ombudsman")
        if r() < P.ORG_COMPLAINTS_PER_YEAR * 0.25 / _PROGRAMME_SIZE:
            _complaint(ctx, a, tr, t, "both" if r() < 0.2 else "NCG", "organisation")


def _complaint(ctx: Ctx, a: Address, tr: Trajectory | None, t: int, against: str, forum: str) -> None:
    """A complaint, registered through the portal or by the organisation concerned."""
    r = ctx.r
    if forum == "organisation" and r() < 0.5:
        org = T.PORTAL
    elif against == "NCG" and tr is not None and tr.ncg_may_emit(t):
        org = T.NCG
    elif against == "NCG":
        org = T.PORTAL
    else:
        org = T.IMG
    a.emit(t, org, T.COMPLAINT, {"complaint_id": ctx.ref("KL"), "against": against, "forum": forum})
