"""Hand-made, valid event histories for the Kafka tests (no dependency on the generator)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

NAMESPACE = uuid.UUID("6f1c1a52-2f38-4c38-9d34-0d6b0b9f7a11")
START = datetime(2021, 1, 4, 9, 0, tzinfo=UTC)


def subject(n: int) -> str:
    """A BAG nummeraanduiding id (`^\\d{4}20\\d{10}$`) for address number n."""
    return f"0014{20}{n:010d}"


def _time(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _event(seed: int, n: int, step: int, org: str, group: str, name: str, t: datetime, data: dict[str, Any]) -> dict:
    event_id = str(uuid.uuid5(NAMESPACE, f"{seed}:{n}:{step}"))
    source = {"IMG": "urn:nl:img:schadesysteem", "NCG": "urn:nl:ncg:versterking", "PORTAL": "urn:nl:portal"}[org]
    return {
        "specversion": "1.0",
        "id": event_id,
        "source": source,
        "type": f"nl.groningen.{group}.{name}.v1",
        "subject": subject(n),
        "time": _time(t),
        "org": org,
        "actor": f"{org.lower()}-medewerker-{n % 17}",
        "data": data,
    }


def address_history(n: int, seed: int = 1) -> list[dict[str, Any]]:
    """A valid sequence of events for address `n`: IMG claim work, NCG programme work, portal contact.

    The organisations' parts are independent of each other (no rule of one depends on an event
    of the other), so they stay valid when the three inbound topics interleave differently.
    """
    rnd = random.Random(seed * 1_000_003 + n)
    event = partial(_event, seed, n)  # (step, org, group, name, time, data)
    t = START + timedelta(days=rnd.randrange(0, 900), minutes=rnd.randrange(0, 600))
    registered = {"postcode": f"{9700 + n % 200}AB", "huisnummer": 1 + n % 300, "gemeentecode": "0014"}
    out = [event(0, "IMG", "ledger", "AddressRegistered", t, registered)]
    step = 1
    for c in range(1 + rnd.randrange(2)):
        t += timedelta(days=rnd.randrange(1, 30))
        claim = f"C-{n}-{c}"
        filed = {"claim_id": claim, "claim_type": "physical", "route": "maatwerk", "channel": "online"}
        out.append(event(step, "IMG", "img", "DamageClaimFiled", t, filed))
        t += timedelta(days=rnd.randrange(1, 10))
        out.append(
            event(step + 1, "IMG", "img", "ClaimReceiptConfirmed", t, {"claim_id": claim, "decision_term_days": 182})
        )
        step += 2
    if rnd.random() < 0.5:
        t += timedelta(days=rnd.randrange(1, 60))
        added = {"programme_ref": f"P-{n}", "basis": "risk_estimate"}
        out.append(event(step, "NCG", "ncg", "AddressAddedToProgramme", t, added))
        t += timedelta(days=rnd.randrange(1, 60))
        out.append(event(step + 1, "NCG", "ncg", "AddressIncludedInLocalPlan", t, {"lpa_year": 2022}))
        step += 2
    if rnd.random() < 0.3:
        t += timedelta(days=rnd.randrange(1, 60))
        contact = {"with_org": "IMG", "channel": "portal", "initiated_by": "resident"}
        out.append(event(step, "PORTAL", "resident", "ContactMade", t, contact))
    return out


def history(addresses: int, seed: int = 1, first: int = 1) -> list[dict[str, Any]]:
    """Events of `addresses` addresses, interleaved across addresses, each address in its own order."""
    per = [address_history(first + i, seed) for i in range(addresses)]
    rnd = random.Random(seed)
    cursors = [0] * len(per)
    live = list(range(len(per)))
    out: list[dict[str, Any]] = []
    while live:
        i = rnd.choice(live)
        out.append(per[i][cursors[i]])
        cursors[i] += 1
        if cursors[i] == len(per[i]):
            live.remove(i)
    return out
