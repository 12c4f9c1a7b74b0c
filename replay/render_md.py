"""The report as Markdown, for a complaint file."""

from __future__ import annotations

from typing import Any

from projections.backfills import describe
from replay.present import (
    address_line,
    amend_notes,
    chain_line,
    checkpoint_line,
    counts_line,
    cutoff_line,
    days_text,
    event_title,
    merged,
    no_findings_text,
    view_change,
    view_lines,
    when,
)


def safe(text: str) -> str:
    """Free text (a correction's reason) that Markdown must not read as HTML."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def cell(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def render_md(report: dict[str, Any]) -> str:
    """Summary, findings table, timeline, view, provenance."""
    chain = report["chain"]
    out = [
        f"# Case history — address {address_line(report)}",
        "",
        f"- **Cut-offs:** {cutoff_line(report)}",
        f"- **Hash chain:** {'✅' if chain['intact'] else '❌'} {chain_line(report)}",
        *([f"- **Checkpoint:** {checkpoint_line(report)}"] if checkpoint_line(report) else []),
        f"- **Events shown:** {counts_line(report)}",
        f"- **Findings:** {len(report['findings'])}",
        "",
        "## Findings",
        "",
    ]
    if report["findings"]:
        out += [
            "| # | finding | arose | period | duration | norm | responsible |",
            "|---|---|---|---|---|---|---|",
        ]
        for i, f in enumerate(report["findings"], start=1):
            period = f"{when(f['start'])} → {when(f['end']) if f['end'] else 'ongoing'}"
            out.append(
                f"| {i} | {cell(f['title'])} | {when(f['arose_at'])} | {period} | {days_text(f['days'])} | "
                f"{days_text(f['norm_days'])} | {f['responsible']} |"
            )
        out.append("")
        for i, f in enumerate(report["findings"], start=1):
            out.append(f"{i}. `{f['code']}` — {f['detail']}")
    else:
        out.append(no_findings_text(report))
    out += [
        "",
        "## Timeline",
        "",
        "Valid-time order. *Happened* is when it happened, *registered* when the ledger learned it.",
        "",
    ]
    number = {id(f): i for i, f in enumerate(report["findings"], start=1)}
    for _, kind, item in merged(report):
        if kind == "finding":
            out += [f"> ⚠️ **Finding {number[id(item)]}** arises {when(item['arose_at'])}: {item['title']}", ""]
            continue
        e = item
        status = "" if e["status"] == "valid" else f" — **{e['status']}**"
        out.append(f"### {e['seq']}. {event_title(e)}{status}")
        out.append("")
        actor = f" ({e['actor']})" if e["actor"] else ""
        out.append(
            f"- happened {when(e['time'])}; registered {when(e['recordedtime'])}; "
            f"**{e['org']}**{actor}; stream #{e['streamposition']}"
        )
        if e["summary"]:
            out.append(f"- {e['summary']}")
        if e["late"]:
            out.append(f"- ⏱ **registered late:** {days_text(e['delay_days'])} after it happened")
        out.extend(f"- {safe(line)}" for line in amend_notes(e))
        note, changes = view_change(e)
        out.append(f"- {note}" if note else "- view changes:")
        out.extend(f"  - `{c}`" for c in changes)
        out.append("")
    out += ["## Joint case view at the cut-offs", "", "The numbers `ledger case` gives for the same cut-offs.", ""]
    for section, lines in view_lines(report["view"]):
        out.append(f"**{section}**")
        out.append("")
        out.extend(f"- `{cell(line)}`" for line in lines or ["—"])
        out.append("")
    if "bundle" in report:
        b = report["bundle"]
        out += ["## Evidence bundle", "", f"- {'intact' if b['ok'] else '**not intact**'}; seal `{b['seal']}`"]
        out.extend(f"- problem: {p}" for p in b["problems"])
        out.append("")
    p = report["provenance"]
    head = f"#{p['chain_head']['streamposition']} `{p['chain_head']['hash']}`" if p["chain_head"] else "—"
    out += [
        "## Provenance",
        "",
        f"- generated {p['generated_at']} from the {p['source']}",
        f"- events read {p['events_read']}, verified {p['events_verified']}; chain head {head}",
        f"- cut-offs: at `{p['cutoffs']['at']}`, known at `{p['cutoffs']['known_at']}`; now `{p['now']}`",
        f"- store position {p['store']['position']}, head hash `{p['store']['head_hash']}`",
        f"- code {p['code']['package']} {p['code']['version']}, git `{p['code']['git_commit']}`",
        f"- reproduce: `{p['reproduce']}`",
    ]
    out.extend(f"- **backfill**: {line}" for line in describe(p.get("backfills", [])))
    out.append("")
    return "\n".join(out)
