"""The report as one self-contained HTML page: inline CSS, no scripts, no fetches.

A two-lane timeline (IMG left, NCG right, resident and coordination events between them),
findings marked at the moment they arose, readable on screen and printable (print CSS).
"""

from __future__ import annotations

from html import escape
from typing import Any

from projections.backfills import describe
from replay.axis import axis_svg
from replay.present import (
    LANE_TITLES,
    address_line,
    amend_notes,
    chain_line,
    checkpoint_line,
    counts_line,
    cutoff_line,
    days_text,
    merged,
    no_findings_text,
    view_change,
    view_lines,
    when,
)
from replay.words import path_words

LANES = ("IMG", "shared", "NCG")

CSS = """
:root{--img:#1f5fa8;--ncg:#a8581f;--shared:#4d6b3c;--bad:#b3261e;--ink:#1b1b1b;--muted:#5f6368;--line:#d0d4da}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);
margin:0 auto;max-width:1200px;padding:1.5rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.2rem;border-bottom:2px solid var(--line);padding-bottom:.2rem;
margin-top:2rem}
.muted{color:var(--muted)}code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.85em;
word-break:break-all}
.chain{padding:.6rem .8rem;border-radius:6px;margin:.8rem 0;font-weight:600;overflow-wrap:anywhere}
.chain.ok{background:#e6f4ea;border:1px solid #34a853}.chain.broken{background:#fce8e6;border:2px solid var(--bad)}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:.5rem 0}dl.meta dt{font-weight:600}
dl.meta dd{margin:0}
ol.findings{padding-left:1.4rem}ol.findings li{margin:.5rem 0;padding:.4rem .6rem;border-left:4px solid var(--bad);
background:#fdf3f2}
.finding-title{font-weight:700}
.lanes-head,.step{display:grid;grid-template-columns:8.5rem 1fr 1fr 1fr;gap:0 .6rem}
.lanes-head{position:sticky;top:0;background:#fff;border-bottom:2px solid var(--line);font-weight:700;padding:.3rem 0;
z-index:1}
.lanes-head .IMG{color:var(--img)}.lanes-head .NCG{color:var(--ncg)}.lanes-head .shared{color:var(--shared)}
ol.timeline{list-style:none;margin:0;padding:0}
.step{padding:.3rem 0;border-bottom:1px dashed #eceef1}
.when{font-size:.85em;color:var(--muted)}.when b{color:var(--ink);font-weight:600}
.lane{border-left:1px solid #eceef1;min-height:1rem}
.card{border:1px solid var(--line);border-left-width:5px;border-radius:5px;padding:.4rem .55rem;background:#fff}
.card.IMG{border-left-color:var(--img)}.card.NCG{border-left-color:var(--ncg)}.card.shared{border-left-color:var(--shared)}
.card h3{font-size:.95rem;margin:0}.card .en{font-weight:400;color:var(--muted)}
.card p{margin:.2rem 0}.card ul{margin:.2rem 0;padding-left:1.1rem;font-size:.85em}
.card.retracted h3{text-decoration:line-through}.badge{display:inline-block;font-size:.72rem;font-weight:700;
padding:0 .35rem;border-radius:3px;margin-left:.3rem;vertical-align:middle}
.badge.late{background:#fff4d6;border:1px solid #e0a800}.badge.corrected{background:#e8f0fe;border:1px solid #4285f4}
.badge.retracted{background:#fce8e6;border:1px solid var(--bad)}
.amend{background:#f6f8fb;border-radius:4px;padding:.25rem .4rem;font-size:.85em;margin:.25rem 0}
.marker{display:grid;grid-template-columns:8.5rem 1fr;gap:0 .6rem;padding:.35rem 0;color:var(--bad);font-weight:600}
.marker .bar{border:1px solid var(--bad);background:#fdf3f2;border-radius:4px;padding:.2rem .5rem}
table{border-collapse:collapse;width:100%;font-size:.9em}td,th{border:1px solid var(--line);padding:.2rem .4rem;
text-align:left;vertical-align:top}
.view-section{break-inside:avoid}
svg.axis{width:100%;height:auto;display:block}.axis-figure{margin:.5rem 0 1rem}
@media (max-width:700px){
 body{padding:.75rem}
 .lanes-head{display:none}
 .step,.marker{grid-template-columns:1fr}
 .step .lane:empty{display:none}
 .lane{border-left:0}
 table{table-layout:fixed}td{overflow-wrap:anywhere}
 dl.meta{grid-template-columns:1fr}
}
@media print{
 body{max-width:none;padding:0;font-size:9pt}
 *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
 .lanes-head{position:static}
 .step,.card,.marker,ol.findings li{break-inside:avoid}
 h2{break-after:avoid}
 .lanes-head,.step{grid-template-columns:6.5rem 1fr 1fr 1fr}
 @page{size:A4 landscape;margin:12mm}
}
"""


def _e(text: Any) -> str:
    return escape(str(text), quote=True)


def _card(entry: dict[str, Any]) -> str:
    badges = ""
    if entry["late"]:
        badges += f'<span class="badge late">registered {days_text(entry["delay_days"])} late</span>'
    if entry["status"] != "valid":
        badges += f'<span class="badge {entry["status"]}">{entry["status"]}</span>'
    actor = f" · {_e(entry['actor'])}" if entry["actor"] else ""
    parts = [
        f'<article class="card {entry["lane"]} {entry["status"]}" id="event-{entry["seq"]}">',
        f'<h3>{entry["seq"]}. {_e(entry["dutch"])} <span class="en">({_e(entry["english"])})</span>{badges}</h3>',
        f'<p class="muted">{_e(entry["org"])}{actor} · stream #{entry["streamposition"]}</p>',
    ]
    if entry["summary"]:
        parts.append(f"<p>{_e(entry['summary'])}</p>")
    parts.extend(f'<p class="amend">{_e(a)}</p>' for a in amend_notes(entry))
    note, changes = view_change(entry)
    listed = "".join(f"<li>{_e(_in_words(c))}</li>" for c in changes)
    parts.append(f'<p class="muted">{_e(note)}</p>' if note else f"<ul>{listed}</ul>")
    parts.append("</article>")
    return "".join(parts)


def _in_words(change: str) -> str:
    """`damage.claims[C-1].status: a → b` as `damage (IMG) › claim C-1 › status: a → b`."""
    path, _, rest = change.partition(": ")
    return f"{path_words(path)}: {rest}"


def _step(entry: dict[str, Any]) -> str:
    cells = [
        f'<div class="when"><b>{_e(when(entry["time"]))}</b><br>registered {_e(when(entry["recordedtime"]))}</div>'
    ]
    for lane in LANES:
        cells.append(f'<div class="lane">{_card(entry) if entry["lane"] == lane else ""}</div>')
    return f'<li class="step">{"".join(cells)}</li>'


def _marker(number: int, finding: dict[str, Any]) -> str:
    return (
        f'<li class="marker"><div class="when">{_e(when(finding["arose_at"]))}</div>'
        f'<div class="bar">⚠ <a href="#finding-{number}">Finding {number}</a> arises: {_e(finding["title"])}</div></li>'
    )


def _findings(report: dict[str, Any]) -> str:
    if not report["findings"]:
        return f'<p id="no-findings">{_e(no_findings_text(report))}</p>'
    items = []
    for i, f in enumerate(report["findings"], start=1):
        period = f"{when(f['start'])} → {when(f['end']) if f['end'] else 'ongoing'}"
        norm = f"; norm {days_text(f['norm_days'])}" if f["norm_days"] is not None else ""
        items.append(
            f'<li class="finding" id="finding-{i}"><span class="finding-title">{_e(f["title"])}</span> '
            f"<code>{_e(f['code'])}</code><br>arose {_e(when(f['arose_at']))}; {_e(period)}: "
            f"<b>{_e(days_text(f['days']))}</b>{_e(norm)}; responsible: {_e(f['responsible'])}"
            f"<br>{_e(f['detail'])}</li>"
        )
    return '<ol class="findings">' + "".join(items) + "</ol>"


def _view(report: dict[str, Any]) -> str:
    out = []
    for section, lines in view_lines(report["view"]):
        rows = "".join(
            f"<tr><td><code>{_e(path)}</code></td><td>{_e(value)}</td></tr>"
            for path, _, value in (line.partition(": ") for line in lines)
        )
        out.append(
            f'<div class="view-section"><h3>{_e(section)}</h3>'
            + (f"<table>{rows}</table>" if rows else "<p>—</p>")
            + "</div>"
        )
    return "".join(out) or "<p>—</p>"


def _provenance(report: dict[str, Any]) -> str:
    p = report["provenance"]
    head = f"#{p['chain_head']['streamposition']} {p['chain_head']['hash']}" if p["chain_head"] else "—"
    rows = [
        ("generated", f"{p['generated_at']} from the {p['source']}"),
        ("events", f"read {p['events_read']}, verified {p['events_verified']}"),
        ("chain head", head),
        ("cut-offs", f"at={p['cutoffs']['at']} known_at={p['cutoffs']['known_at']}; now {p['now']}"),
        ("store", f"position {p['store']['position']}, head hash {p['store']['head_hash']}"),
        ("code", f"{p['code']['package']} {p['code']['version']}, git {p['code']['git_commit']}"),
        ("reproduce", p["reproduce"]),
    ]
    rows.extend(("backfill", line) for line in describe(p.get("backfills", [])))
    if "bundle" in report:
        b = report["bundle"]
        rows.append(
            ("bundle", f"{'intact' if b['ok'] else 'NOT intact'}; seal {b['seal']}; " + "; ".join(b["problems"]))
        )
    return '<dl class="meta">' + "".join(f"<dt>{_e(k)}</dt><dd class='mono'>{_e(v)}</dd>" for k, v in rows) + "</dl>"


def _checkpoint_div(report: dict[str, Any]) -> str:
    line = checkpoint_line(report)
    return f'<div class="chain" id="checkpoint">{_e(line)}</div>' if line else ""


def render_html(report: dict[str, Any]) -> str:
    """The whole page."""
    chain = report["chain"]
    number = {id(f): i for i, f in enumerate(report["findings"], start=1)}
    steps = "".join(
        _marker(number[id(item)], item) if kind == "finding" else _step(item) for _, kind, item in merged(report)
    )
    counts = report["counts"]
    hidden = ""
    if counts["recorded_after_known_at"] or counts["happened_after_at"]:
        hidden = (
            f'<p class="muted">Not shown: {counts["recorded_after_known_at"]} events registered after the known-at '
            f"cut-off, {counts['happened_after_at']} that happened after the at cut-off.</p>"
        )
    head = "".join(f'<div class="{lane}">{_e(LANE_TITLES[lane])}</div>' for lane in LANES)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Case history {_e(report['subject'])}</title><style>{CSS}</style></head><body>"
        f"<header><h1>Case history — address {_e(address_line(report))}</h1>"
        f'<div class="chain {"ok" if chain["intact"] else "broken"}" id="chain">{_e(chain_line(report))}</div>'
        f"{_checkpoint_div(report)}"
        f'<dl class="meta"><dt>cut-offs</dt><dd>{_e(cutoff_line(report))}</dd>'
        f"<dt>events shown</dt><dd>{_e(counts_line(report))}</dd>"
        f"<dt>findings</dt><dd>{len(report['findings'])}</dd></dl></header>"
        f'<section id="findings"><h2>Findings</h2>{_findings(report)}</section>'
        f'<section id="timeline"><h2>Timeline</h2><p class="muted">Valid-time order; the bold time is when it '
        f"happened, below it when the ledger registered it.</p>{hidden}"
        f'<figure class="axis-figure">{axis_svg(report)}<figcaption class="muted">To scale: each dot an event '
        f"(numbered as in the steps below), each red mark a finding; grey stretches are more than 180 days "
        f"without an event."
        f"</figcaption></figure>"
        f'<div class="lanes-head"><div>time</div>{head}</div><ol class="timeline">{steps}</ol></section>'
        f'<section id="view"><h2>Joint case view at the cut-offs</h2><p class="muted">The numbers '
        f"<code>ledger case</code> gives for the same cut-offs.</p>{_view(report)}</section>"
        f'<section id="provenance"><h2>Provenance</h2>{_provenance(report)}</section>'
        "</body></html>\n"
    )
