"""The relay's position, kept in the event store's own database with the library's tracking recorder.

`eventsourcing`'s single-row tracking upsert (`... WHERE notification_id < new`) refuses to go
backwards, so a stale relay can never move the position back. The relay writes it only after
Kafka acknowledged every record up to that position.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder

RELAY_TRACKING_TABLE = "ledger_relay_tracking"  # PostgreSQL; SQLite's recorder always uses "tracking"


class RelayTracking:
    """How far the relay got: the last global position Kafka acknowledged, per tracked name."""

    def __init__(self, application_recorder: Any, name: str) -> None:
        datastore = application_recorder.datastore
        self.recorder: TrackingRecorder
        if isinstance(datastore, SQLiteDatastore):
            self.recorder = SQLiteTrackingRecorder(datastore)
        elif isinstance(datastore, PostgresDatastore):
            self.recorder = PostgresTrackingRecorder(datastore, tracking_table_name=RELAY_TRACKING_TABLE)
        else:  # pragma: no cover - the ledger is wired with SQLite or PostgreSQL only
            raise TypeError(f"no tracking recorder for {type(datastore).__name__}")
        self.recorder.create_table()  # type: ignore[attr-defined]
        self.name = name

    def position(self) -> int:
        """The last acknowledged global position (0 when nothing was relayed yet)."""
        return self.recorder.max_tracking_id(self.name) or 0

    def save(self, position: int) -> int:
        """Record `position`; return the recorded position (higher if another relay got further)."""
        try:
            self.recorder.insert_tracking(Tracking(self.name, position))
        except IntegrityError:
            return self.position()  # not ahead of what is recorded: keep the recorded position
        return position
