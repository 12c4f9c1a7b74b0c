"""`ledger rebuild --from kafka`: a fresh projection store from the beginning of `ledger.events`.

The partitions are assigned directly (no consumer group: a rebuild must not take partitions
from the running consumers), read from their beginning up to the end offsets seen at the
start, and applied batch by batch with their positions. The result holds, per partition, the
offset it got to, so `ledger consume` continues from there once the new store is swapped in.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consumers.logs import get_logger
from consumers.projection import KafkaProjectionSink, records_to_batch
from consumers.topics import EVENTS

POLL_TIMEOUT_MS = 1_000


@dataclass
class RebuildStats:
    records: int = 0
    applied: int = 0
    partitions: int = 0
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def rate(self) -> float:
        return self.records / max(self.seconds, 1e-9)


def rebuild_from_kafka(
    sink: KafkaProjectionSink,
    consumer_factory: Callable[[], Any],
    *,
    topic: str = EVENTS,
    max_records: int = 20_000,
    timeout_s: float = 3_600.0,
    on_batch: Callable[[int], None] | None = None,
) -> RebuildStats:
    """Read `topic` from the beginning into `sink`; return what was done.

    `consumer_factory` must give a consumer without a group (`group_id=None`). Raises
    `TimeoutError` when the topic cannot be read to its end within `timeout_s`.
    """
    from kafka.structs import TopicPartition

    logger = get_logger("rebuild")
    stats = RebuildStats()
    consumer = consumer_factory()
    try:
        partitions = consumer.partitions_for_topic(topic)
        if not partitions:
            raise RuntimeError(f"topic {topic} does not exist (run `ledger kafka init`)")
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        stats.partitions = len(tps)
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        begins = consumer.beginning_offsets(tps)
        remaining = {tp for tp in tps if ends[tp] > begins[tp]}
        logger.info("rebuild reading", topic=topic, partitions=len(tps), records=sum(ends[t] - begins[t] for t in tps))
        deadline = time.monotonic() + timeout_s
        while remaining:
            if time.monotonic() > deadline:
                raise TimeoutError(f"rebuild did not reach the end of {topic} within {timeout_s:.0f} s")
            polled = consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=max_records)
            if not polled:
                continue
            events, positions = records_to_batch(polled)
            stats.applied += sink.apply_kafka_batch(events, positions)
            stats.records += len(events)
            for (t, p), offset in positions.items():
                tp = TopicPartition(t, p)
                if offset >= ends[tp]:
                    remaining.discard(tp)
            if on_batch is not None:
                on_batch(len(events))
    finally:
        consumer.close(autocommit=False)
    stats.seconds = time.monotonic() - stats.started
    logger.info("rebuild read the topic", records=stats.records, applied=stats.applied, rate=round(stats.rate()))
    return stats
