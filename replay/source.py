"""Reading one address from the event store (the system of record) for a replay."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from domain.ports import EventLog, StreamIndex
from projections.backfills import BackfillRecords
from replay.chain import decode_rows
from replay.history import Event


class ReplayStore(Protocol):
    """What a replay reads: the event log, its stream index and the record of backfills.

    The composition root (`ledger/`) hands one over, e.g. a `StorePorts`; the replay never
    imports it.
    """

    @property
    def log(self) -> EventLog: ...

    @property
    def index(self) -> StreamIndex: ...

    @property
    def imports(self) -> BackfillRecords: ...


@dataclass(frozen=True, slots=True)
class StorePorts:
    """A `ReplayStore` made of its three ports (what the composition root hands the replay)."""

    log: EventLog
    index: StreamIndex
    imports: BackfillRecords


@dataclass(frozen=True, slots=True)
class StoreRead:
    """An address's stored events as read, and where the store stood at that moment."""

    events: list[Event]
    store_position: int
    store_head_hash: str | None


def read_address(store: ReplayStore, subject: str) -> StoreRead:
    """The address's stored events in stream order (undecodable rows kept as placeholders).

    The store's last global position and its hash are read first, so the provenance never
    claims a head later than the events the replay saw.
    """
    position = store.log.max_position()
    try:
        head = store.log.head_hash(position) if position else None
    except (ValueError, KeyError, TypeError):  # the global head row itself is damaged
        head = None
    bodies = store.index.load_streams([subject]).get(subject, [])
    return StoreRead(decode_rows(bodies), position, head)
