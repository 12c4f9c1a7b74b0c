"""The report as plain text for a terminal."""

from __future__ import annotations

from typing import Any

from projections.backfills import describe
from replay.present import (
    address_line,
    amend_notes,
    chain_line,
    checkpoint_line,
    cutoff_line,
    days_text,
    event_title,
    merged,
    no_findings_text,
    view_change,
    view_lines,
    when,
)


def _finding_lines(number: int, f: dict[str, Any]) -> list[str]:
    period = f"{when(f['start'])} → {when(f['end']) if f['end'] else 'ongoing'}"
    norm = f" (norm {days_text(f['norm_days'])})" if f["norm_days"] is not None else ""
    return [
        f"{number:>3}. {f['title']}  [{f['code']}]",
        f"     arose {when(f['arose_at'])}; period {period}: {days_text(f['days'])}{norm}; "
        f"responsible: {f['responsible']}",
        f"     {f['detail']}",
    ]


def render_text(report: dict[str, Any]) -> str:
    """Header, chain, timeline with view changes and findings in time order, view, findings, provenance."""
    out = [
        f"LEDGER REPLAY — address {address_line(report)}",
        f"Cut-offs: {cutoff_line(report)}",
        f"Chain: {chain_line(report)}",
        *([f"Checkpoint: {checkpoint_line(report)}"] if checkpoint_line(report) else []),
        "",
        f"TIMELINE — {len(report['timeline'])} events in valid-time order; "
        "happened = valid time, registered = transaction time",
    ]
    counts = report["counts"]
    if counts["recorded_after_known_at"] or counts["happened_after_at"]:
        out.append(
            f"(not shown: {counts['recorded_after_known_at']} registered after the known-at cut-off, "
            f"{counts['happened_after_at']} happened after the at cut-off)"
        )
    number = {id(f): i for i, f in enumerate(report["findings"], start=1)}
    for _, kind, item in merged(report):
        out.append("")
        if kind == "finding":
            out.append(f"  !! FINDING {number[id(item)]} arises {when(item['arose_at'])}: {item['title']}")
            continue
        e = item
        status = "" if e["status"] == "valid" else f" [{e['status'].upper()}]"
        out.append(f"#{e['seq']:<3} {event_title(e)}{status}")
        out.append(
            f"     happened {when(e['time'])} · registered {when(e['recordedtime'])} · {e['org']}"
            + (f" ({e['actor']})" if e["actor"] else "")
            + f" · lane {e['lane']} · stream #{e['streamposition']}"
        )
        if e["summary"]:
            out.append(f"     {e['summary']}")
        if e["late"]:
            out.append(f"     LATE: registered {days_text(e['delay_days'])} after it happened")
        out.extend(f"     {line}" for line in amend_notes(e))
        note, changes = view_change(e)
        out.append(f"     {note}" if note else "     view: " + changes[0])
        out.extend(f"           {c}" for c in changes[1:])
    out += ["", "VIEW AT THE CUT-OFFS (the numbers `ledger case` gives for them)"]
    for section, lines in view_lines(report["view"]):
        out.append(f"  {section}")
        out.extend(f"    {line}" for line in lines or ["—"])
    out += ["", f"FINDINGS — {len(report['findings'])}"]
    for i, f in enumerate(report["findings"], start=1):
        out.extend(_finding_lines(i, f))
    if not report["findings"]:
        out.append(f"  {no_findings_text(report)}")
    if "bundle" in report:
        b = report["bundle"]
        out += ["", "BUNDLE", f"  {'intact' if b['ok'] else 'NOT intact'}; seal {b['seal']}"]
        out.extend(f"  problem: {p}" for p in b["problems"])
    p = report["provenance"]
    out += [
        "",
        "PROVENANCE",
        f"  generated {p['generated_at']} from the {p['source']}",
        f"  events read {p['events_read']}, verified {p['events_verified']}; chain head "
        + (f"#{p['chain_head']['streamposition']} {p['chain_head']['hash']}" if p["chain_head"] else "—"),
        f"  cut-offs at={p['cutoffs']['at']} known_at={p['cutoffs']['known_at']}; now {p['now']}",
        f"  store position {p['store']['position']}, head hash {p['store']['head_hash']}",
        f"  code {p['code']['package']} {p['code']['version']}, git {p['code']['git_commit']}"
        + (" (uncommitted changes)" if p["code"].get("git_dirty") else ""),
        f"  reproduce: {p['reproduce']}",
    ]
    out.extend(f"  BACKFILL: {line}" for line in describe(p.get("backfills", [])))
    return "\n".join(out) + "\n"
