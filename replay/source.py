"""Reading one address from the event store (the system of record) for a replay."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.bootstrap import Ledger
from replay.chain import decode_rows
from replay.history import Event


@dataclass(frozen=True, slots=True)
class StoreRead:
    """An address's stored events as read, and where the store stood at that moment."""

    events: list[Event]
    store_position: int
    store_head_hash: str | None


def read_address(ledger: Ledger, subject: str) -> StoreRead:
    """The address's stored events in stream order (undecodable rows kept as placeholders).

    The store's last global position and its hash are read first, so the provenance never
    claims a head later than the events the replay saw.
    """
    position = ledger.log.max_position()
    try:
        head = ledger.log.head_hash(position) if position else None
    except (ValueError, KeyError, TypeError):  # the global head row itself is damaged
        head = None
    bodies = ledger.app.index.load_streams([subject]).get(subject, [])
    return StoreRead(decode_rows(bodies), position, head)
