"""`domain.ports.EventLog` over either recorder's notification log."""

from __future__ import annotations

from typing import Any

import orjson
from eventsourcing.persistence import ApplicationRecorder


class RecorderEventLog:
    """`domain.ports.EventLog` over an application recorder's notification log."""

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def read_raw(self, after: int, limit: int) -> list[tuple[int, bytes]]:
        notes = self.recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)
        return [(n.id, n.state) for n in notes]

    def read_located(self, after: int, limit: int) -> list[tuple[int, str, bytes]]:
        """As `read_raw`, with the address each row is stored under (for `ledger verify`)."""
        notes = self.recorder.select_notifications(start=after, limit=limit, inclusive_of_start=False)
        return [(n.id, str(n.originator_id), n.state) for n in notes]

    def read(self, after: int, limit: int) -> list[tuple[int, dict[str, Any]]]:
        return [(pos, orjson.loads(body)) for pos, body in self.read_raw(after, limit)]

    def read_stream(self, subject: str) -> list[dict[str, Any]]:
        return [orjson.loads(body) for body in self.read_stream_raw(subject)]

    def read_stream_raw(self, subject: str) -> list[bytes]:
        """One address's stored bytes in stream order."""
        return [s.state for s in self.recorder.select_events(subject)]

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def head_hash(self, position: int) -> str | None:
        if position <= 0:
            return None
        rows = self.recorder.select_notifications(start=position, limit=1, stop=position)
        return str(orjson.loads(rows[0].state)["hash"]) if rows else None
