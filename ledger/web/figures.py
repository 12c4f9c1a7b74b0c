"""The dashboard's sections: each figure of `GET /metrics` and `GET /evaluation` as a table of
its numbers (every cell carries the JSON value it shows) and, where it has a shape, a chart."""

from __future__ import annotations

from typing import Any

from ledger.web.format import number, share
from ledger.web.i18n import LANGS, PHASES

TITLES: dict[str, tuple[str, str]] = {
    "G1": ("Adressen in het versterkingsprogramma", "Addresses in the strengthening programme"),
    "G2": ("Programma-adressen zonder schademelding", "Programme addresses without a claim"),
    "G3": ("Adressen met samenloop", "Addresses with samenloop"),
    "G4": ("Verdeling over de NCG-fasen", "Distribution over the NCG phases"),
    "G5": ("Op norm", "At the norm"),
    "G6": ("Schademeldingen per jaar", "Claims per year"),
    "G7": ("Openstaande schademeldingen", "Pending claims"),
    "G8": ("Gerealiseerde doorlooptijd", "Realised lead time"),
    "G9": ("Afwijzingen per jaar", "Rejection rate per year"),
    "G10": ("Bezwaren per jaar", "Objection rate per year"),
    "G11": ("Aangehouden in afwachting van versterking", "Deferred awaiting strengthening"),
    "G12": ("Trechter: samenloop → aanbod → akkoord → coördinator", "Funnel: samenloop → offer → agreed → coordinator"),
    "G13": ("Aandeel gezamenlijke opnames", "Share of joint visits"),
    "G14": ("Acuut onveilige situaties binnen 48 uur", "Acutely unsafe situations within 48 hours"),
    "G15": ("Te late registratie per organisatie", "Late registration per organisation"),
    "E1": ("Doorlooptijd per jaar: samenloop en overig", "Lead time per year: samenloop and other"),
    "E2": ("Bezoeken per adres", "Visits per address"),
    "E3": ("Van verzoek tot coördinator: voor en na de omslag", "Request to coordinator: before and after the pivot"),
    "E4": ("Aangehouden meldingen", "Deferred claims"),
    "E5": ("Conversie van outreach", "Outreach conversion"),
    "E6": (
        "Doorverwijzingen en klachten: voor en na de omslag",
        "Referrals and complaints: before and after the pivot",
    ),
}
WORDS: dict[str, tuple[str, str]] = {
    "before": ("voor", "before"),
    "after": ("na", "after"),
    "samenloop": ("samenloop", "samenloop"),
    "other": ("overig", "other"),
    "claims_filed_by_year": ("gemeld", "filed"),
    "claims_decided_by_year": ("besloten", "decided"),
    "samenloop_ever": ("ooit samenloop", "samenloop ever"),
    "offered": ("aanbod", "offered"),
    "agreed": ("akkoord", "agreed"),
    "coordinator_assigned": ("coördinator", "coordinator"),
    "median_days": ("mediaan (dagen)", "median (days)"),
    "p90_days": ("90e percentiel (dagen)", "90th percentile (days)"),
    "referrals_per_100": ("doorverwijzingen per 100", "referrals per 100"),
    "complaints_per_1000": ("klachten per 1.000", "complaints per 1,000"),
    "count": ("aantal", "count"),
    "total": ("totaal", "total"),
    "share": ("aandeel", "share"),
    "known_then": ("toen bekend", "known then"),
    "known_now": ("nu bekend", "known now"),
}


def _word(key: str, lang: str) -> str:
    pair = WORDS.get(key)
    return pair[LANGS.index(lang)] if pair else key.replace("_", " ")


def is_share(path: tuple[str, ...] | list[str]) -> bool:
    """Whether a figure's leaf is a share 0–1 (written as a percentage): a `share…` field, or a year of a rate."""
    return path[-1].startswith("share") or (len(path) > 1 and "rate" in path[-2])


def _text(path: tuple[str, ...], value: Any, lang: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, (int, float)) and is_share(path):
        return share(float(value), lang)
    if isinstance(value, (int, float)):
        return number(value, lang)
    return str(value)


def rows(figure: str, body: Any, lang: str) -> list[dict[str, Any]]:
    """Every leaf of a figure: its label, JSON path (dot-joined), raw value and text."""
    out: list[dict[str, Any]] = []

    def walk(path: tuple[str, ...], node: Any) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk((*path, key), child)
            return
        label = " · ".join(_word(p, lang) for p in path[1:]) or _word(path[0], lang)
        if figure == "G4":
            label = f"{path[-1]}: {PHASES[int(path[-1])][LANGS.index(lang)]}"
        out.append({"label": label, "path": ".".join((figure, *path)), "value": node, "text": _text(path, node, lang)})

    walk((), body)
    return out


def _years(series: dict[str, Any]) -> list[str]:
    return sorted(series)


def chart(figure: str, body: dict[str, Any], lang: str) -> dict[str, Any] | None:
    """A Chart.js configuration's data part for the figures that have a shape, else None."""
    w = lambda key: _word(key, lang)  # noqa: E731
    if figure == "G4":
        dist = body["phase_distribution"]
        return {"type": "bar", "labels": list(dist), "datasets": [{"label": w("count"), "data": list(dist.values())}]}
    if figure == "G6":
        years = sorted(set(body["claims_filed_by_year"]) | set(body["claims_decided_by_year"]))
        return {
            "type": "bar",
            "labels": years,
            "datasets": [{"label": w(k), "data": [body[k].get(y, 0) for y in years]} for k in body],
        }
    if figure in ("G9", "G10"):
        series = next(iter(body.values()))
        years = _years(series)
        return {
            "type": "line",
            "percent": True,
            "labels": years,
            "datasets": [{"label": w("share"), "data": [series[y] for y in years]}],
        }
    if figure == "G12":
        f = body["integrated_approach_funnel"]
        keys = ["samenloop_ever", "offered", "agreed", "coordinator_assigned"]
        return {
            "type": "bar",
            "labels": [w(k) for k in keys],
            "datasets": [{"label": w("count"), "data": [f[k] for k in keys]}],
        }
    if figure == "G15":
        per = body["late_registration_share"]
        return {
            "type": "bar",
            "percent": True,
            "labels": list(per),
            "datasets": [{"label": w("share"), "data": [v["share"] for v in per.values()]}],
        }
    if figure == "E1":
        lead = body["claim_lead_time"]
        years = sorted(set(lead["samenloop"]) | set(lead["other"]))
        return {
            "type": "line",
            "labels": years,
            "datasets": [
                {
                    "label": f"{w(group)}: {w('median_days')}",
                    "data": [lead[group].get(y, {}).get("median_days") for y in years],
                }
                for group in ("samenloop", "other")
            ],
        }
    if figure == "E3":
        periods = body["request_to_coordinator"]
        return {
            "type": "bar",
            "labels": [w("median_days")],
            "datasets": [{"label": w(p), "data": [periods[p]["median_days"]]} for p in periods],
        }
    if figure == "E6":
        periods = body["referrals_and_complaints"]
        keys = ["referrals_per_100", "complaints_per_1000"]
        return {
            "type": "bar",
            "labels": [w(k) for k in keys],
            "datasets": [{"label": w(p), "data": [periods[p][k] for k in keys]} for p in periods],
        }
    return None


def sections(metrics: dict[str, Any], evaluation: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The dashboard's sections in order G1–G15, E1–E6."""
    out = []
    for figures in (metrics, evaluation):
        for name, body in figures.items():
            if name == "provenance":
                continue
            out.append(
                {
                    "id": name,
                    "title": TITLES[name][LANGS.index(lang)],
                    "rows": rows(name, body, lang),
                    "chart": chart(name, body, lang),
                }
            )
    return out


OVER_TIME_IDS = "G3,G4,G7"  # the over-time page's figures: samenloop, phases, pending claims


def over_time(answer: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """The over-time page's sections, one per figure of a `GET /metrics/series` answer: a table of
    every leaf at each point as known then and as known now (cells carry the answer's JSON path
    below `points`), and a line chart of the leaves as known now (as known then too for a figure
    of one leaf)."""
    points = answer["points"]
    labels = [p["at"][:10] for p in points]
    out = []
    for figure in answer["ids"]:
        leaves = rows(figure, points[0]["known_now"][figure], lang) if points else []
        table = []
        for i, point in enumerate(points):
            then = rows(figure, point["known_then"][figure], lang)
            now = rows(figure, point["known_now"][figure], lang)
            cells = []
            for a, b in zip(then, now, strict=True):
                cells.append({**a, "path": f"{i}.known_then.{a['path']}"})
                cells.append({**b, "path": f"{i}.known_now.{b['path']}"})
            table.append({"label": labels[i], "cells": cells})
        datasets = [
            {
                "label": f"{leaf['label']} ({_word('known_now', lang)})",
                "data": [_leaf(p["known_now"], leaf["path"]) for p in points],
            }
            for leaf in leaves
        ]
        if len(leaves) == 1:
            path = leaves[0]["path"]
            datasets.append(
                {
                    "label": f"{leaves[0]['label']} ({_word('known_then', lang)})",
                    "data": [_leaf(p["known_then"], path) for p in points],
                }
            )
        chart = {
            "type": "line",
            "labels": labels,
            "datasets": datasets,
            "percent": bool(leaves) and is_share(leaves[0]["path"].split(".")),
        }
        out.append(
            {"id": figure, "title": TITLES[figure][LANGS.index(lang)], "leaves": leaves, "rows": table, "chart": chart}
        )
    return out


def _leaf(figures: dict[str, Any], path: str) -> Any:
    value: Any = figures
    for key in path.split("."):
        value = value[key]
    return value
