"""The projection store (`projections.store`) as the target of the Kafka consumers.

The store already writes its rows and named positions in one transaction; the consumers name
the position of each partition `kafka:<topic>:<partition>` (the next offset to read), so rows
and Kafka positions commit together. A Kafka-fed store lives in a location of its own
(`kafka_location`), never shared with the embedded projector that follows the log position.

An address's row is a pure fold of its whole history (`projections.projector.address_row`).
For incremental consumption the records name what changed: an event (address, streamposition)
not beyond the row's folded stream position is a re-delivery and is ignored; for the others
the address's stream up to the highest position seen is folded again (read with
`load_streams`, the event store's bulk stream read). A rebuild from Kafka needs no store at
all: it groups each partition's records by address and folds every address once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson

from projections.projector import address_row
from projections.store import KAFKA_PREFIX, ProjectionStore, StaleWrite

StreamLoader = Callable[[Sequence[str]], dict[str, list[bytes]]]
Positions = dict[tuple[str, int], int]
WRITE_ATTEMPTS = 5


def position_name(topic: str, partition: int) -> str:
    """The store's name for a partition's position."""
    return f"{KAFKA_PREFIX}{topic}:{partition}"


def partition_positions(named: dict[str, int], topic: str) -> dict[int, int]:
    """Partition -> next offset, from the store's named positions."""
    prefix = f"{KAFKA_PREFIX}{topic}:"
    return {int(name[len(prefix) :]): value for name, value in named.items() if name.startswith(prefix)}


class StoreSwapped(Exception):
    """A rebuilt store was swapped in: positions must be read again and partitions re-sought."""


class ProjectionStoreSink:
    """Applies batches of stored events from Kafka to the active store of a projection location."""

    def __init__(self, location: Any, load_streams: StreamLoader) -> None:
        self.location = location
        self.load_streams = load_streams
        self.store: ProjectionStore = location.open_active()
        self.active = location.active_id()

    def kafka_positions(self, topic: str) -> dict[int, int]:
        return partition_positions(self.store.positions(), topic)

    def check_swapped(self) -> None:
        """Reopen the active store if a rebuild was swapped in; raise `StoreSwapped` then."""
        active = self.location.active_id()
        if active != self.active:
            old, self.store = self.store, self.location.open_active()
            self.active = active
            old.close()
            raise StoreSwapped(f"projection store {active} was swapped in")

    def apply_kafka_batch(self, events: Sequence[dict[str, Any]], positions: Positions) -> int:
        """Fold the addresses these events moved forward; write rows and positions together."""
        self.check_swapped()
        reached: dict[str, int] = {}
        for event in events:
            subject, position = event["subject"], event["streamposition"]
            if position > reached.get(subject, 0):
                reached[subject] = position
        named = {position_name(t, p): offset for (t, p), offset in positions.items()}
        for _ in range(WRITE_ATTEMPTS):
            current = self.store.positions()
            folded = self.store.streampositions(list(reached))
            touched = {s: p for s, p in reached.items() if p > folded.get(s, 0)}
            streams = self.load_streams(list(touched)) if touched else {}
            rows = []
            for subject, last in touched.items():
                history = [e for e in map(orjson.loads, streams.get(subject, ())) if e["streamposition"] <= last]
                rows.append(address_row(subject, history))
            advance = {name: offset for name, offset in named.items() if offset > current.get(name, 0)}
            expected = {name: current.get(name, 0) for name in advance}
            try:
                self.store.write(rows, advance, expected=expected)
            except StaleWrite:
                continue  # another member moved these partitions on: recompute against its rows
            return sum(1 for e in events if e["streamposition"] > folded.get(e["subject"], 0))
        raise StaleWrite("the projection store kept moving under this consumer; retrying the batch")

    def close(self) -> None:
        self.store.close()


def rows_from_groups(groups: dict[str, dict[int, dict[str, Any]]]) -> list[Any]:
    """One row per address from its events grouped by stream position (duplicates already gone)."""
    return [address_row(subject, by_position.values(), corners=False) for subject, by_position in groups.items()]
