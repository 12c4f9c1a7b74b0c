"""The ledger on the `eventsourcing` library: one stream per address, stored as canonical JSON.

The library's Application, EventStore and recorders give optimistic concurrency (a unique
(address, position) pair), the gap-free notification log and the SQLite / PostgreSQL
adapters. The mapper stores each event as its canonical JSON with the chain attributes, so
readers decode a stored event with one `orjson.loads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from eventsourcing.application import Application
from eventsourcing.persistence import Mapper, StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from domain.ports import StreamIndex

TOPIC = "ledger:CloudEvent.v1"


@dataclass(frozen=True, slots=True)
class LedgerRecord:
    """A stored event as the library sees it: the address, its position and the canonical body."""

    originator_id: str
    originator_version: int
    body: bytes

    @property
    def timestamp(self) -> datetime:
        return datetime.fromisoformat(orjson.loads(self.body)["recordedtime"])


class LedgerMapper(Mapper[str]):
    """Maps `LedgerRecord` to and from the library's `StoredEvent` without re-encoding."""

    def __init__(self, transcoder: Transcoder, compressor: Any = None, cipher: Any = None) -> None:
        super().__init__(transcoder, compressor, cipher)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        record = cast(LedgerRecord, domain_event)
        return StoredEvent(
            originator_id=record.originator_id,
            originator_version=record.originator_version,
            topic=TOPIC,
            state=record.body,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        return LedgerRecord(str(stored_event.originator_id), stored_event.originator_version, stored_event.state)


class LedgerApplication(Application[str]):
    """The event store of the ledger. Configure persistence through `env` (see `ledger.bootstrap`)."""

    name = "ledger"
    is_snapshotting_enabled = False
    env = {"ORIGINATOR_ID_TYPE": "text", "MAPPER_TOPIC": get_topic(LedgerMapper)}

    @property
    def index(self) -> StreamIndex:
        """The recorder's bulk look-ups (the ledger's recorders implement `StreamIndex`)."""
        return cast(StreamIndex, self.recorder)

    def store(self, records: Sequence[LedgerRecord], id_rows: Sequence[tuple[str, str, int, str]]) -> None:
        """Write records and their id-index rows in one transaction (IntegrityError on conflict)."""
        self.events.put(records, id_index=id_rows)
