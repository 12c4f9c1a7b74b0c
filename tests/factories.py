"""Valid publisher-form events for tests (no personal data: pseudonyms and synthetic ids only)."""

from __future__ import annotations

import uuid
from typing import Any

SOURCES = {"IMG": "urn:nl:img:schadesysteem", "NCG": "urn:nl:ncg:versterking", "PORTAL": "urn:nl:portal:bewoners"}


def subject(n: int, gemeente: str = "0014") -> str:
    """A synthetic BAG nummeraanduiding id."""
    return f"{gemeente}20{n:010d}"


def event(
    name: str,
    group: str,
    data: dict[str, Any],
    *,
    address: str,
    org: str = "IMG",
    time: str = "2021-03-01T09:00:00Z",
    recordedtime: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A structured-mode CloudEvent of a catalogue type."""
    out: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": SOURCES[org],
        "type": f"nl.groningen.{group}.{name}.v1",
        "subject": address,
        "time": time,
        "org": org,
        "data": data,
    }
    if recordedtime is not None:
        out["recordedtime"] = recordedtime
    return out


def claim_filed(address: str, claim_id: str, **kw: Any) -> dict[str, Any]:
    data = {"claim_id": claim_id, "claim_type": "physical", "route": "maatwerk", "channel": "online"}
    return event("DamageClaimFiled", "img", data, address=address, **kw)


def receipt(address: str, claim_id: str, days: int = 182, **kw: Any) -> dict[str, Any]:
    return event(
        "ClaimReceiptConfirmed", "img", {"claim_id": claim_id, "decision_term_days": days}, address=address, **kw
    )


def decided(address: str, decision_id: str, claim_ids: list[str], amount: int = 100_00, **kw: Any) -> dict[str, Any]:
    data = {
        "decision_id": decision_id,
        "claim_ids": claim_ids,
        "outcome": "granted",
        "amount_cents": amount,
        "scheme": "maatwerk",
    }
    return event("ClaimDecided", "img", data, address=address, **kw)


def added_to_programme(address: str, **kw: Any) -> dict[str, Any]:
    kw.setdefault("org", "NCG")
    return event(
        "AddressAddedToProgramme", "ncg", {"programme_ref": "P-1", "basis": "risk_estimate"}, address=address, **kw
    )
