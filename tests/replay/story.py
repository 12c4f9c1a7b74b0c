"""Hand-built address histories for the replay tests, appended through the real store.

Synthetic ids and pseudonyms only. Times are written short (`2022-03-01` or
`2022-03-01T09:00`) and mean UTC.
"""

from __future__ import annotations

import uuid
from typing import Any

from domain.catalogue import BY_NAME
from ledger.bootstrap import Ledger
from tests.factories import EXAMPLE_DATA, event
from tests.projections.builder import ts

NAMESPACE = uuid.UUID("2b0f6a3e-7f47-4c51-9b0e-5a1d3c2e8f90")
DEFAULT_ORG = {"ledger": "IMG", "img": "IMG", "ncg": "NCG", "resident": "PORTAL", "coordination": "IMG"}


class Story:
    """One address's events; `store` imports them in the order they were registered."""

    def __init__(self, n: int) -> None:
        self.subject = f"001420{n:010d}"
        self.events: list[dict[str, Any]] = []

    def add(self, name: str, time: str, *, org: str | None = None, recorded: str | None = None, **data: Any) -> str:
        """Append an event of type `name` (EXAMPLE_DATA overridden by `data`); return its id."""
        entry = BY_NAME[name]
        event_id = str(uuid.uuid5(NAMESPACE, f"{self.subject}:{len(self.events)}"))
        self.events.append(
            event(
                name,
                entry.group,
                {**EXAMPLE_DATA[name], **data},
                address=self.subject,
                org=org or DEFAULT_ORG[entry.group],
                time=ts(time),
                recordedtime=ts(recorded or time),
                event_id=event_id,
            )
        )
        return event_id

    def term_corrected_then_decided(self, time: str, receipt: int, reason: str = "termijn hersteld") -> None:
        """Claim C-1's decision term corrected to 30 days at `time` (an EventCorrected of the receipt
        confirmation at index `receipt`), then the claim decided on 2021-07-01."""
        self.add(
            "EventCorrected",
            time,
            corrects=self.events[receipt]["id"],
            data={"claim_id": "C-1", "decision_term_days": 30},
            reason=reason,
        )
        self.add("ClaimDecided", "2021-07-01", claim_ids=["C-1"])

    def store(self, ledger: Ledger) -> None:
        """Import the events in registration order (`recordedtime`, then the order they were
        added); every one must be accepted."""
        ordered = sorted(self.events, key=lambda e: e["recordedtime"])
        results = ledger.service.append(ordered, None, importing=True)
        problems = [(r.line, r.code, r.message) for r in results if r.result != "accepted"]
        assert not problems, problems
