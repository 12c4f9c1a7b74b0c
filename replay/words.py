"""An event in plain words: its Dutch term, English name and key data."""

from __future__ import annotations

import re
from typing import Any

from domain.catalogue import BY_NAME

LABELS = {
    "claim_id": "claim",
    "claim_ids": "claims",
    "decision_id": "decision",
    "decision_term_days": "decision term (days)",
    "guide_ref": "guide",
    "coordinator_ref": "coordinator",
    "party_ref": "party",
    "owner_ref": "owner",
    "joint_with_ncg": "joint with NCG",
    "joint_with_img": "joint with IMG",
    "from_org": "from",
    "to_org": "to",
    "lpa_year": "local plan year",
    "aos_id": "AOS",
    "objection_id": "objection",
    "offer_id": "offer",
    "visit_id": "visit",
    "inspection_id": "inspection",
    "report_id": "report",
    "assessment_id": "assessment",
    "advice_ref": "advice",
    "decision_ref": "decision",
    "programme_ref": "programme",
    "complaint_id": "complaint",
    "campaign_ref": "campaign",
    "corrects": "corrects event",
    "retracts": "retracts event",
}


def euro(cents: int) -> str:
    """Integer cents as `€ 1,234.56`."""
    return f"€ {cents // 100:,}.{cents % 100:02d}"


def value_text(key: str, value: Any) -> str:
    """One data value in words."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if key.endswith("_cents") and isinstance(value, int):
        return euro(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "{" + "; ".join(f"{k}: {value_text(k, v)}" for k, v in value.items()) + "}"
    return str(value)


def label(key: str) -> str:
    """A data field's name in words."""
    return LABELS.get(key, key.replace("_cents", "").replace("_", " "))


def key_data(name: str, data: dict[str, Any]) -> str:
    """The payload as `label value · label value` in the catalogue's field order."""
    entry = BY_NAME.get(name)
    order = list(entry.model.model_fields) if entry else []
    keys = [k for k in order if k in data] + sorted(k for k in data if k not in order)
    return " · ".join(f"{label(k)} {value_text(k, data[k])}" for k in keys if k != "data")


def terms(name: str) -> tuple[str, str]:
    """The Dutch term and the English name of an event type (the name itself when unknown)."""
    entry = BY_NAME.get(name)
    return (entry.dutch, entry.english) if entry else (name, name)


def lane(group: str, org: str) -> str:
    """The timeline lane: IMG, NCG, or `shared` (resident and coordination events between them)."""
    if group in ("img", "ncg"):
        return group.upper()
    if group == "ledger" and org in ("IMG", "NCG"):
        return org
    return "shared"


def changed_fields(before: dict[str, Any], after: dict[str, Any] | None) -> list[str]:
    """The payload fields a correction changed (added, removed or altered)."""
    if after is None:
        return []
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


SECTION_WORDS = {
    "damage": "damage (IMG)",
    "strengthening": "strengthening (NCG)",
    "coordination": "coordination",
    "resident": "resident",
    "address": "address",
    "ledger": "ledger",
}


def path_words(path: str) -> str:
    """A view path in words: `damage.claims[C-1].status` as `damage (IMG) › claim C-1 › status`."""
    words = []
    for depth, part in enumerate(re.findall(r"[^.\[\]]+(?:\[[^\]]*\])?", path)):
        keyed = re.fullmatch(r"([^\[]+)\[(.*)\]", part)
        if keyed:
            name = label(keyed.group(1))
            words.append(f"{name[:-1] if name.endswith('s') else name} {keyed.group(2)}")
        elif depth == 0:
            words.append(SECTION_WORDS.get(part, label(part)))
        else:
            words.append(label(part).replace(" at", "").strip() if part.endswith("_at") else label(part))
    return " › ".join(words)
