"""Presentation helpers shared by the text, Markdown and HTML renderers."""

from __future__ import annotations

from typing import Any

from replay.diff import for_people
from replay.words import key_data, value_text

LANE_TITLES = {"IMG": "IMG (damage)", "shared": "resident & coordination", "NCG": "NCG (strengthening)"}
FINDING_TITLES = {
    "no_coordinator_30d": "no coordinator within 30 days",
    "samenloop_without_offer_30d": "no offer of the integrated approach within 30 days of samenloop",
    "separate_inspections": "separate IMG and NCG inspections during samenloop",
    "claim_deferred_awaiting_strengthening": "claim deferred awaiting strengthening",
    "claim_over_term": "claim pending beyond its decision term",
    "aos_over_48h": "AOS not resolved within 48 hours",
    "referred_back_and_forth": "case referred back and forth",
    "information_not_shared": "information not shared while a basis existed",
}


def when(moment: str | None) -> str:
    """`2021-03-04T09:00:00.000000Z` as `2021-03-04 09:00 UTC`; a dash for none."""
    if not moment:
        return "—"
    return f"{moment[:10]} {moment[11:16]} UTC"


def days_text(days: float | None) -> str:
    """A duration in days, in words."""
    if days is None:
        return "—"
    if days < 2:
        return f"{days * 24:.1f} hours"
    return f"{days:.1f} days"


def plain(value: Any) -> str:
    """A view value in words."""
    if value is None:
        return "—"
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return "; ".join(plain(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {plain(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, str) and len(value) == 27 and value[10] == "T" and value.endswith("Z"):
        return when(value)
    return value_text("", value)


def change_text(change: dict[str, Any]) -> str:
    """One view change as `path: before → after`."""
    path = change["path"]
    if change["op"] == "added":
        return f"{path}: {plain(change['after'])}"
    if change["op"] == "removed":
        return f"{path}: {plain(change['before'])} → —"
    return f"{path}: {plain(change['before'])} → {plain(change['after'])}"


def people_changes(entry: dict[str, Any]) -> list[str]:
    """An entry's view changes without the ledger's bookkeeping, in words."""
    return [change_text(c) for c in for_people(entry["diff"])]


def event_title(entry: dict[str, Any]) -> str:
    """`schademelding (damage claim filed)`."""
    return f"{entry['dutch']} ({entry['english']})"


def amendment_lines(entry: dict[str, Any]) -> list[str]:
    """Lines describing the corrections / retractions of an entry, both versions."""
    lines = []
    for a in entry["amendments"]:
        who = f"{a['org']}" + (f" ({a['actor']})" if a.get("actor") else "")
        if a["kind"] == "retraction":
            lines.append(
                f"RETRACTED by {who}, registered {when(a['recordedtime'])} (stream #{a['streamposition']}): "
                f'"{a["reason"]}"; as recorded: {key_data(entry["name"], a["before"])}'
            )
        else:
            changed = ", ".join(a["changed"]) or "nothing"
            lines.append(
                f"CORRECTED by {who}, registered {when(a['recordedtime'])} (stream #{a['streamposition']}): "
                f'"{a["reason"]}"; changed {changed}: before {key_data(entry["name"], a["before"])}; '
                f"after {key_data(entry['name'], a['after'] or {})}"
            )
    return lines


def amends_line(entry: dict[str, Any]) -> str | None:
    """For a correction or retraction entry: what it amends, both versions."""
    target = entry.get("amends")
    if not target:
        return None
    head = f"amends stream #{target['streamposition']} {target['dutch'] or target['id']} of {when(target['time'])}"
    name = target["name"] or ""
    before = key_data(name, target["before"] or {})
    if entry["name"] == "EventRetracted":
        return f"{head}; that event no longer counts (as recorded: {before})"
    return f"{head}; before: {before}; after: {key_data(name, target['after'] or {})}"


def amend_notes(entry: dict[str, Any]) -> list[str]:
    """What an entry amends (`amends_line`) and how it was amended since (`amendment_lines`)."""
    line = amends_line(entry)
    return ([line] if line else []) + amendment_lines(entry)


def view_change(entry: dict[str, Any]) -> tuple[str | None, list[str]]:
    """An entry's effect on the view: `(note, [])` when there is nothing to list (the change
    is shown at the next event of the same moment, or there is none), else `(None, changes)`."""
    if entry["same_moment_as_next"]:
        return "view: same moment as the next event; the change is shown there", []
    changes = people_changes(entry)
    return (None, changes) if changes else ("view: no change", [])


def merged(report: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Timeline entries and findings (at the moment each arose) in one time order.

    Items are `(moment, "event"|"finding", item)`; a finding sorts after events of its moment.
    """
    items = [(e["time"], "event", e) for e in report["timeline"]]
    items += [(f["arose_at"], "finding", f) for f in report["findings"]]
    return sorted(items, key=lambda i: (i[0], i[1] == "finding"))


def address_line(report: dict[str, Any]) -> str:
    """The address's id with its registered postcode and number, when known."""
    view = report.get("view") or {}
    registered = (view.get("address") or {}).get("registered") or {}
    parts = [report["subject"]]
    if registered.get("postcode"):
        number = f"{registered.get('huisnummer', '')}{registered.get('huisletter', '')}"
        extra = f"-{registered['toevoeging']}" if registered.get("toevoeging") else ""
        parts.append(f"{registered['postcode']} {number}{extra}")
    return " · ".join(parts)


def view_lines(view: dict[str, Any] | None) -> list[tuple[str, list[str]]]:
    """The view as `(section, ["path: value", ...])`, without empty values."""
    if not view:
        return []
    from replay.diff import diff

    out: list[tuple[str, list[str]]] = []
    for section in ("address", "damage", "strengthening", "coordination", "resident", "attention", "ledger"):
        if section not in view:
            continue
        lines = [f"{c['path']}: {plain(c['after'])}" for c in diff({}, {section: view[section]})]
        out.append((section, lines))
    return out


def chain_line(report: dict[str, Any]) -> str:
    """The chain verification result in one sentence."""
    chain = report["chain"]
    text: str = chain["message"]
    if chain["head"]:
        text += f"; head #{chain['head']['streamposition']} {chain['head']['hash']}"
    return text


def checkpoint_line(report: dict[str, Any]) -> str | None:
    """Whether the address's events are included in the latest cosigned checkpoint (None when the
    report does not say: a replay from a bundle, or an API that leaves it out)."""
    cp = report.get("checkpoint")
    if not cp:
        return None
    if not cp.get("published"):
        return "not yet in a published checkpoint (no checkpoint made so far)"
    if "size" not in cp:
        return str(cp.get("message", "unknown"))
    signers = ", ".join(cp["signers"])
    if not cp["included"]:
        return (
            f"NOT included in the latest cosigned checkpoint (size {cp['size']}, {cp['made_at']}, "
            f"signed by {signers}): the stored events are not the ones the checkpoint covers"
        )
    later = cp["events"] - cp["events_included"]
    tail = f"; {later} later event(s) not yet checkpointed" if later else ""
    return (
        f"{cp['events_included']} event(s) included in the latest cosigned checkpoint: size {cp['size']}, "
        f"made {cp['made_at']}, signed by {signers}{tail}"
    )


def cutoff_line(report: dict[str, Any]) -> str:
    """The cut-offs in words."""
    c = report["cutoffs"]
    at = when(c["at"]) if c["at"] else "none (everything that happened)"
    known = when(c["known_at"]) if c["known_at"] else "none (everything registered)"
    return f"happened by (at): {at}; registered by (known at): {known}; open periods measured to {when(c['until'])}"


def plural(count: int, word: str) -> str:
    """`1 correction`, `2 corrections`."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def counts_line(report: dict[str, Any]) -> str:
    """How many events are shown, late, corrections, retractions."""
    c = report["counts"]
    return (
        f"{plural(len(report['timeline']), 'event')} ({c['late_registrations']} registered late, "
        f"{plural(c['corrections'], 'correction')}, {plural(c['retractions'], 'retraction')})"
    )


def no_findings_text(report: dict[str, Any]) -> str:
    """What to say when there are no findings."""
    if not report["chain"]["intact"]:
        return "None in the verified part of the history (before the break); the rest cannot be judged."
    return "None: every norm checked was met within the cut-offs."
