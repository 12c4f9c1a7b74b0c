"""Readable rich renderings of the read side's documents (the `--json` output is the contract's)."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from projections.backfills import describe

DASH = "–"

# Without a terminal (a pipe, a file) rich would assume 80 columns and cut cells to `physi…`;
# there the console is this wide, and every cell folds rather than being cut, so no value is lost.
PIPE_WIDTH = 200


def console(*, stderr: bool = False) -> Console:
    """The console for people's output: the terminal's width, or PIPE_WIDTH when not a terminal."""
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return probe
    return Console(stderr=stderr, width=PIPE_WIDTH)


def column(t: Table, header: str, **kwargs: Any) -> None:
    """Add a column that never truncates: values wrap (fold) when the width runs out, never `…`."""
    kwargs.setdefault("overflow", "fold")
    t.add_column(header, **kwargs)


def fmt(value: Any) -> str:
    """A figure for people: shares as percentages, days with one decimal, null as a dash."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def pct(value: float | None) -> str:
    return DASH if value is None else f"{value * 100:.1f} %"


def day(value: str | None) -> str:
    return DASH if not value else value[:10]


def euro(cents: int | None) -> str:
    return DASH if cents is None else f"€ {cents / 100:,.2f}"


def provenance_line(p: dict[str, Any]) -> Text:
    cut = []
    if p.get("at"):
        cut.append(f"at {p['at']}")
    if p.get("known_at"):
        cut.append(f"known at {p['known_at']}")
    if p.get("pivot"):
        cut.append(f"pivot {day(p['pivot'])}")
    head = (p.get("head_hash") or "")[:12]
    behind = f", {p['behind']:,} events behind the store" if p.get("behind") else ""
    fed = p.get("projections") or {}
    where = f" of {fed['fed_by']}" if fed.get("fed_by") else ""
    at = f"position {p['position']:,}" if p["position"] is not None else f"{fed.get('events', 0):,} events consumed"
    text = (
        f"{', '.join(cut) or 'latest'} · {p['events']:,} events from the {p.get('source', 'projection')}{where}"
        f" · {at} (head {head or DASH}){behind} · now {p['now'][:19]}Z"
    )
    if p.get("backfills"):
        warning = "\n".join(f"⚠ {line}" for line in describe(p["backfills"]))
        return Text.assemble((text, "dim"), "\n", (warning, "yellow"))
    return Text(text, style="dim")


# -- case -----------------------------------------------------------------------------------
def case_renderable(view: dict[str, Any]) -> RenderableType:
    address = view["address"]
    reg = address.get("registered") or {}
    title = address["subject"]
    if reg:
        title += f"  {reg.get('postcode', '')} {reg.get('huisnummer', '')}{reg.get('huisletter', '') or ''}"
    parts: list[RenderableType] = [_damage(view["damage"]), _strengthening(view["strengthening"])]
    parts.append(_coordination(view["coordination"], view["resident"]))
    parts.append(_attention(view["attention"]))
    ledger = view["ledger"]
    parts.append(
        Text(
            f"ledger: {ledger['events']:,} events, last #{ledger['streamposition']:,} "
            f"({(ledger['hash'] or '')[:12]}) at {day(ledger['time'])}",
            style="dim",
        )
    )
    if "provenance" in view:
        parts.append(provenance_line(view["provenance"]))
    return Panel(Group(*parts), title=f"[bold]{title}[/bold]", title_align="left", expand=False)


def _damage(d: dict[str, Any]) -> RenderableType:
    table = Table(title="Damage (IMG)", title_justify="left", expand=False, box=None, padding=(0, 1))
    column(table, "claim", min_width=15)
    column(table, "type")
    column(table, "status")
    column(table, "filed", min_width=10)
    column(table, "decided", min_width=10)
    column(table, "outcome")
    column(table, "amount", justify="right", min_width=11)
    for c in d["claims"]:
        table.add_row(
            c["claim_id"],
            fmt(c["claim_type"]),
            c["status"] + (" (NCG)" if c.get("deferred_reason") == "awaiting_strengthening" else ""),
            day(c["filed_at"]),
            day(c["decided_at"]),
            fmt(c["outcome"]),
            euro(c["amount_cents"]),
        )
    if not d["claims"]:
        table.add_row("no claims", "", "", "", "", "", "")
    summary = Text(
        f"awarded {euro(d['awarded_cents'])} · paid {euro(d['paid_cents'])} · "
        f"open objections {len(d['open_objections'])} · AOS reports {len(d['aos_reports'])} "
        f"({sum(1 for a in d['aos_reports'] if a['status'] == 'open')} open)"
    )
    return Group(table, summary)


def _strengthening(s: dict[str, Any]) -> RenderableType:
    if not s["in_programme"] and not s["milestones"]:
        return Text("Strengthening (NCG): not in the programme")
    lines = [
        f"Strengthening (NCG): {'in the programme' if s['in_programme'] else 'out of the programme'}"
        f" · phase {fmt(s['phase'])}"
        + (f" · closed ({s['closed_reason']})" if s["closed_reason"] else "")
        + (f" · stalled since {day(s['stalled_since'])}" if s["stalled"] else "")
    ]
    if s["milestones"]:
        lines.append("  " + " → ".join(f"{k.replace('_', ' ')} {day(v)}" for k, v in s["milestones"].items()))
    return Text("\n".join(lines))


def _coordination(c: dict[str, Any], r: dict[str, Any]) -> RenderableType:
    ia = c["integrated_approach"]
    coordinator = c["coordinator"]
    lines = [
        f"Coordination: samenloop {'since ' + day(c['samenloop_since']) if c['samenloop'] else 'no'}"
        f" · visits {c['visits']:,} (joint {len(c['joint_visits']):,}) · referrals {len(c['referrals']):,}"
        f" · consent {'active' if c['consent_active'] else 'none'}",
        f"  integrated approach: requested {day(ia['requested_at'])}, offered {day(ia['offered_at'])},"
        f" agreed {day(ia['agreed_at'])}"
        + (f" ({', '.join(ia['components'])})" if ia["components"] else "")
        + (f", declined {day(ia['declined_at'])}" if ia["declined_at"] else ""),
        "  coordinator: "
        + (
            f"{coordinator['coordinator_ref']} ({coordinator['lead_org']}) since {day(coordinator['assigned_at'])}"
            if coordinator
            else DASH
        ),
        "Resident: contacts "
        + (", ".join(f"{org} {v['count']}" for org, v in r["contacts"].items()) or DASH)
        + f" · complaints {len(r['complaints'])}",
    ]
    return Text("\n".join(lines))


def _attention(items: list[dict[str, Any]]) -> RenderableType:
    if not items:
        return Text("Attention: nothing open", style="green")
    lines = ["Attention:"] + [
        f"  • {a['code'].replace('_', ' ')}{' ' + a['ref'] if a.get('ref') else ''} since {day(a['since'])}"
        for a in items
    ]
    return Text("\n".join(lines), style="yellow")


# -- worklist -------------------------------------------------------------------------------
def worklist_renderable(w: dict[str, Any]) -> RenderableType:
    """One page of the worklist: a table of points, then where the page is and the provenance."""
    table = Table(title="Worklist (most urgent first)", title_justify="left")
    for header in ("address", "code", "ref", "since", "age (days)", "who acts", "municipality"):
        column(table, header, justify="right" if header == "age (days)" else "left")
    for i in w["items"]:
        table.add_row(
            i["subject"],
            i["code"].replace("_", " "),
            i["ref"] or DASH,
            day(i["since"]),
            f"{i['age_days']:,.1f}",
            ", ".join(i["organisations"]),
            i["municipality"],
        )
    where = f"page {w['page']} of {w['pages']:,} · {w['total']:,} open point{'' if w['total'] == 1 else 's'}"
    return Group(table, Text(where), provenance_line(w["provenance"]))


# -- metrics --------------------------------------------------------------------------------
def metrics_renderable(m: dict[str, Any]) -> RenderableType:
    table = Table(title="Governance metrics", title_justify="left")
    column(table, "id")
    column(table, "figure")
    column(table, "value", justify="right")
    g = m
    table.add_row("G1", "programme addresses", fmt(g["G1"]["programme_addresses"]))
    g2 = g["G2"]["programme_without_claim"]
    table.add_row("G2", "programme addresses without a claim", f"{fmt(g2['count'])} ({pct(g2['share'])})")
    table.add_row("G3", "addresses in samenloop", fmt(g["G3"]["samenloop_addresses"]))
    phases = g["G4"]["phase_distribution"]
    table.add_row("G4", "programme addresses by NCG phase 1–6", " / ".join(fmt(phases[p]) for p in sorted(phases)))
    g5 = g["G5"]["op_norm"]
    reasons = ", ".join(f"{r} {fmt(v['count'])}" for r, v in g5["by_reason"].items())
    table.add_row("G5", "op norm (closed)", f"{fmt(g5['count'])} ({pct(g5['share'])}): {reasons}")
    g6 = g["G6"]
    table.add_row("G6", "claims filed by year", _years(g6["claims_filed_by_year"], fmt))
    table.add_row("", "claims decided by year", _years(g6["claims_decided_by_year"], fmt))
    g7 = g["G7"]
    table.add_row(
        "G7", "pending claims (over 730 days)", f"{fmt(g7['pending_claims'])} ({fmt(g7['pending_claims_over_730d'])})"
    )
    g8 = g["G8"]["realised_lead_time"]
    table.add_row(
        "G8",
        f"realised lead time (last {fmt(g8['decisions'])} decisions)",
        f"median {fmt(g8['median_days'])} days, {pct(g8['share_within_182d'])} within 182 days",
    )
    table.add_row("G9", "rejection rate by year", _years(g["G9"]["rejection_rate_by_year"], pct))
    table.add_row("G10", "objection rate by year", _years(g["G10"]["objection_rate_by_year"], pct))
    g11 = g["G11"]["deferred_awaiting_strengthening"]
    table.add_row(
        "G11",
        "deferred awaiting strengthening",
        f"{fmt(g11['count'])}, median {fmt(g11['median_days'])} days",
    )
    f = g["G12"]["integrated_approach_funnel"]
    table.add_row(
        "G12",
        "integrated approach: samenloop → offered → agreed → coordinator",
        f"{fmt(f['samenloop_ever'])} → {fmt(f['offered'])} → {fmt(f['agreed'])} → {fmt(f['coordinator_assigned'])}"
        f"; median {fmt(f['median_days_samenloop_to_coordinator'])} days to a coordinator",
    )
    g13 = g["G13"]["joint_visit_share"]
    table.add_row("G13", "samenloop addresses with a joint visit", f"{fmt(g13['count'])} ({pct(g13['share'])})")
    g14 = g["G14"]["aos_within_48h"]
    table.add_row(
        "G14", "AOS resolved within 48 hours", f"{fmt(g14['count'])} of {fmt(g14['total'])} ({pct(g14['share'])})"
    )
    late = g["G15"]["late_registration_share"]
    table.add_row(
        "G15", "registered more than 30 days late", ", ".join(f"{o} {pct(v['share'])}" for o, v in late.items()) or DASH
    )
    return Group(table, provenance_line(m["provenance"]))


def series_renderable(s: dict[str, Any]) -> RenderableType:
    """`ledger metrics --series`: one row per point and figure, as known then and as known now."""
    import orjson

    p = s["provenance"]
    table = Table(title=f"G figures by {p['step']}, {day(p['from'])} – {day(p['to'])}", title_justify="left")
    column(table, "point")
    column(table, "id")
    column(table, "as known then")
    column(table, "as known now")
    for point in s["points"]:
        for figure in s["ids"]:
            then, now = (orjson.dumps(point[k][figure]).decode() for k in ("known_then", "known_now"))
            table.add_row(day(point["at"]), figure, then, now if now != then else "=")
    line = Text(f"{p['points']} points; position {p['position']:,}, head {p['head_hash'] or '-'}", style="dim")
    return Group(table, line)


def _years(values: dict[str, Any], show: Any) -> str:
    return " · ".join(f"{y}: {show(v)}" for y, v in values.items()) or DASH


# -- evaluation -----------------------------------------------------------------------------
def evaluation_renderable(e: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = []
    e1 = Table(title="E1 claim lead time (days): decided in samenloop vs other", title_justify="left")
    for col in ("year", "samenloop claims", "median", "p90", "other claims", "median", "p90"):
        column(e1, col, justify="right")
    lead = e["E1"]["claim_lead_time"]
    for year in sorted(set(lead["samenloop"]) | set(lead["other"])):
        s = lead["samenloop"].get(year, {})
        o = lead["other"].get(year, {})
        e1.add_row(
            year,
            fmt(s.get("claims")),
            fmt(s.get("median_days")),
            fmt(s.get("p90_days")),
            fmt(o.get("claims")),
            fmt(o.get("median_days")),
            fmt(o.get("p90_days")),
        )
    parts.append(e1)
    pivot = day(e["provenance"].get("pivot"))
    rest = Table(title=f"E2–E6 (before / after {pivot})", title_justify="left")
    column(rest, "id")
    column(rest, "figure")
    column(rest, "value", justify="right")
    v = e["E2"]["visits_per_address"]
    for group in ("agreed", "not_agreed"):
        g = v[group]
        rest.add_row(
            "E2" if group == "agreed" else "",
            f"visits per samenloop address, integrated approach {group.replace('_', ' ')}",
            f"{fmt(g['addresses'])} addresses, mean {fmt(g['mean'])}, median {fmt(g['median'])}",
        )
    for period in ("before", "after"):
        r = e["E3"]["request_to_coordinator"][period]
        rest.add_row(
            "E3" if period == "before" else "",
            f"request → coordinator, {period}",
            f"{fmt(r['assigned'])}/{fmt(r['requests'])}: median {fmt(r['median_days'])}, p90 {fmt(r['p90_days'])} days,"
            f" {pct(r['share_within_30d'])} within 30 days",
        )
    d = e["E4"]["deferred_awaiting_strengthening"]
    rest.add_row(
        "E4",
        "deferred awaiting strengthening",
        f"{fmt(d['claims'])} claims, {fmt(d['deferrals'])} deferrals, median {fmt(d['median_days'])} days",
    )
    o = e["E5"]["outreach_conversion"]
    rest.add_row("E5", "outreach → claim within 90 days", f"{fmt(o['count'])} of {fmt(o['total'])} ({pct(o['share'])})")
    for period in ("before", "after"):
        x = e["E6"]["referrals_and_complaints"][period]
        rest.add_row(
            "E6" if period == "before" else "",
            f"referrals per 100 samenloop / complaints per 1,000 addresses, {period}",
            f"{fmt(x['referrals_per_100'])} / {fmt(x['complaints_per_1000'])}",
        )
    parts.append(rest)
    parts.append(provenance_line(e["provenance"]))
    return Group(*parts)


def print_renderable(renderable: RenderableType) -> None:
    console().print(renderable)
