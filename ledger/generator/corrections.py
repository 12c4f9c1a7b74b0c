"""Rare corrections and retractions of an organisation's own earlier events (rule R8).

Only fields no other event depends on are corrected, and only events nothing depends on are
retracted, so the amended history still satisfies R2-R7.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.generator import catalogue as T
from ledger.generator import params as P
from ledger.generator.context import Ctx

Rng = Callable[[], float]
_CHANNELS = ("online", "phone", "paper", "representative")
_CONTACT_CHANNELS = ("visit", "phone", "letter", "email", "portal")
_METHODS = ("typology", "practice", "npr_calculation")
_REASONS = (
    "typefout in de registratie hersteld",
    "gegevens gecorrigeerd na controle",
    "verkeerde waarde overgenomen uit het bronsysteem",
    "registratie aangevuld na navraag bij de bewoner",
)
_RETRACT_REASONS = (
    "dubbel geregistreerd",
    "geregistreerd bij het verkeerde adres",
    "registratie ten onrechte aangemaakt",
)
RETRACTABLE = frozenset({T.CONTACT, T.CASE_GUIDE, T.RESIDENT_GUIDE, T.INFO_SHARED, T.OUTREACH, T.COMPLAINT})


def _other(r: Rng, values: tuple[str, ...], current: str) -> str:
    choices = [v for v in values if v != current]
    return choices[int(r() * len(choices))]


def _fix_registration(r: Rng, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "huisnummer": data["huisnummer"] + 1 + int(r() * 3)}


def _fix_claim(r: Rng, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "channel": _other(r, _CHANNELS, data["channel"])}


def _fix_receipt(r: Rng, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "decision_term_days": 365 if data["decision_term_days"] != 365 else 182}


def _fix_report(r: Rng, data: dict[str, Any]) -> dict[str, Any]:
    amount = data["assessed_amount_cents"] * (80 + int(r() * 41)) // 100 // 100 * 100
    return {**data, "assessed_amount_cents": amount}


def _fix_contact(r: Rng, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "channel": _other(r, _CONTACT_CHANNELS, data["channel"])}


def _fix_assessment(r: Rng, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "method": _other(r, _METHODS, data["method"])}


def _fix_local_plan(r: Rng, data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "lpa_year": min(2035, data["lpa_year"] + 1)}


CORRECTABLE: dict[int, Callable[[Rng, dict[str, Any]], dict[str, Any]]] = {
    T.ADDRESS_REGISTERED: _fix_registration,
    T.CLAIM_FILED: _fix_claim,
    T.RECEIPT: _fix_receipt,
    T.ADVISORY_REPORT: _fix_report,
    T.CONTACT: _fix_contact,
    T.ASSESSMENT: _fix_assessment,
    T.LOCAL_PLAN: _fix_local_plan,
}


def amend(ctx: Ctx, events: list[list[Any]], ncg_ok: Callable[[int], bool]) -> list[list[Any]]:
    """Corrections and retractions for some of `events` (sorted, with ids); returns new events.

    `events` rows are `[time, org, code, data, corr, actor, id]`; `ncg_ok(t)` tells whether
    NCG may still record something for this address at `t`.
    """
    r = ctx.r
    out: list[list[Any]] = []
    rate = P.CORRECTION_RATE + P.RETRACTION_RATE
    for e in events:
        if r() >= rate:
            continue
        t, org, code = e[0], e[1], e[2]
        retract = code in RETRACTABLE and (code not in CORRECTABLE or r() < 0.5)
        if not retract and code not in CORRECTABLE:
            continue
        when = ctx.after(t, 0.05, 60)
        if when >= ctx.end or (org == T.NCG and not ncg_ok(when)):
            continue
        if retract:
            data = {"retracts": e[6], "reason": _RETRACT_REASONS[int(r() * len(_RETRACT_REASONS))]}
            out.append([when, org, T.EVENT_RETRACTED, data, None, e[5], None])
        else:
            new = CORRECTABLE[code](r, e[3])
            data = {"corrects": e[6], "data": new, "reason": _REASONS[int(r() * len(_REASONS))]}
            out.append([when, org, T.EVENT_CORRECTED, data, None, e[5], None])
    return out
