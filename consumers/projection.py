"""Kafka-fed projections (`ledger consume`): `ledger.events` -> the projection store, exactly-once in effect.

A consumer group shares the partitions of `ledger.events` between instances. Each poll's
records are decoded back into stored events and handed to the projection store in one call,
which writes the projection rows *and* the next offset of every partition in the same
database transaction. On every assignment the consumer seeks each partition to the offset the
store holds (never to Kafka's committed offset; the group's offsets are committed afterwards
for lag monitoring only). Records seen again after a crash, a rebalance or a relay re-send are
recognised by (address, streamposition) in the store and ignored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from consumers import failpoints
from consumers.binding import from_binary
from consumers.polling import GroupMember, raise_if_fenced
from consumers.sink import StoreSwapped
from consumers.topics import EVENTS

Positions = dict[tuple[str, int], int]


class KafkaProjectionSink(Protocol):
    """What the consumer needs from a projection store."""

    def kafka_positions(self, topic: str) -> dict[int, int]:
        """Partition -> next offset to read, as committed with the rows (safe to call from any thread)."""
        ...

    def apply_kafka_batch(self, events: Sequence[dict[str, Any]], positions: Positions) -> int:
        """In one transaction: apply the events not applied before (by address and streamposition)
        and store the positions (never moving one backwards). Returns how many were applied."""
        ...

    def check_swapped(self) -> None:
        """Raise `StoreSwapped` when a rebuilt store was swapped in since the last look."""
        ...


@dataclass
class ConsumeStats:
    records: int = 0
    applied: int = 0
    batches: int = 0
    errors: int = 0
    rebalances: int = 0


def records_to_batch(polled: dict[Any, list[Any]]) -> tuple[list[dict[str, Any]], Positions]:
    """A poll's records as stored events (partition order kept) and the next offset per partition."""
    events: list[dict[str, Any]] = []
    positions: Positions = {}
    for tp, records in polled.items():
        events.extend(from_binary(r.value, r.headers) for r in records)
        positions[(tp.topic, tp.partition)] = records[-1].offset + 1
    return events, positions


def seek_to_stored(consumer: Any, sink: KafkaProjectionSink, topic: str, partitions: Any) -> None:
    """Position each partition at the offset the store holds (the beginning when it holds none)."""
    stored = sink.kafka_positions(topic)
    for tp in partitions:
        offset = stored.get(tp.partition)
        if offset is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, offset)


def _listener(consumer: Any, sink: KafkaProjectionSink, topic: str, stats: ConsumeStats, logger: Any) -> Any:
    from kafka import ConsumerRebalanceListener

    class SeekToStoredPositions(ConsumerRebalanceListener):
        """On assignment, continue each partition where the projection store says it is."""

        def on_partitions_revoked(self, revoked: Any) -> None:
            pass  # positions are stored with every batch; nothing is pending here

        def on_partitions_assigned(self, assigned: Any) -> None:
            stats.rebalances += 1
            seek_to_stored(consumer, sink, topic, assigned)
            logger.info("consume assigned partitions", partitions=sorted(tp.partition for tp in assigned))

    return SeekToStoredPositions()


class ProjectionConsumer(GroupMember[ConsumeStats]):
    """Feeds one projection store from `ledger.events` as a member of a consumer group."""

    name = "consume"
    waiting_for = "kafka or the projection store"

    def __init__(
        self,
        sink: KafkaProjectionSink,
        consumer_factory: Callable[[], Any],
        *,
        topic: str = EVENTS,
        stop: threading.Event | None = None,
        max_records: int = 5_000,
        rebalancing_factory: Callable[[], Any] | None = None,
        observe: Callable[[Any], None] | None = None,
    ) -> None:
        super().__init__(consumer_factory, ConsumeStats(), stop, rebalancing_factory, observe)
        self.sink = sink
        self.topic = topic
        self.max_records = max_records

    def _started(self) -> dict[str, Any]:
        return {"topic": self.topic}

    def _session(self, once: bool, max_idle: float | None) -> bool:
        consumer = self._join(
            [self.topic],
            lambda consumer: _listener(consumer, self.sink, self.topic, self.stats, self.logger),
            topic=self.topic,
        )
        return self._poll_loop(consumer, [self.topic], once=once, max_idle=max_idle, max_records=self.max_records)

    def _idle(self, consumer: Any) -> None:
        try:
            self.sink.check_swapped()
        except StoreSwapped:
            seek_to_stored(consumer, self.sink, self.topic, consumer.assignment())

    def _handle(self, consumer: Any, polled: dict[Any, list[Any]]) -> tuple[int, int, Positions] | None:
        """Apply one poll's events with their positions; None when the store was swapped meanwhile."""
        events, positions = records_to_batch(polled)
        failpoints.hit("consume.before_apply")
        try:
            applied = self.sink.apply_kafka_batch(events, positions)
        except StoreSwapped:
            self.logger.info("consume continues on a rebuilt projection store")
            seek_to_stored(consumer, self.sink, self.topic, consumer.assignment())
            return None
        return len(events), applied, positions

    def _handled(self, consumer: Any, polled: dict[Any, list[Any]], handled: tuple[int, int, Positions] | None) -> None:
        if handled is None:
            return
        records, applied, positions = handled
        self.stats.records += records
        self.stats.applied += applied
        self.stats.batches += 1
        failpoints.hit("consume.after_apply_before_commit")
        self._commit_for_monitoring(consumer, positions)

    def _commit_for_monitoring(self, consumer: Any, positions: Positions) -> None:
        """Tell the group how far we are (lag tools read it); the store's positions stay authoritative."""
        from kafka.structs import OffsetAndMetadata, TopicPartition

        try:
            consumer.commit({TopicPartition(t, p): OffsetAndMetadata(o, "", -1) for (t, p), o in positions.items()})
        except Exception as exc:  # noqa: BLE001 - harmless: positions are in the store
            raise_if_fenced(exc, "consume", consumer)  # ... but a fenced member is outside the group for good
            self.logger.debug("consume could not commit group offsets", error=str(exc))

    def _close(self, *, clean: bool = True) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close(autocommit=False)
            except Exception:  # noqa: BLE001
                pass
