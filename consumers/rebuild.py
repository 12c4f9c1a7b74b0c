"""`ledger rebuild --from kafka`: a fresh projection store from the beginning of `ledger.events`.

The rebuild writes into the location's rebuild store while the active store keeps serving, and
swaps it in at the end. It reads one partition at a time, straight from its beginning to the
end offset seen at the start (assigned directly: no consumer group, so the running consumers
keep their partitions), groups the records by address (re-sends collapse on the stream
position) and folds every address once: addresses never span partitions, so a partition's
rows are complete when the partition is. Each partition's rows are written with its position
(`kafka:<topic>:<partition>`), so `ledger consume` continues from there after the swap, and a
killed rebuild resumes with the partitions it had not finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consumers.binding import from_binary
from consumers.logs import get_logger
from consumers.sink import partition_positions, position_name, rows_from_groups
from consumers.topics import EVENTS

POLL_TIMEOUT_MS = 1_000
ROWS_PER_WRITE = 2_000


@dataclass
class RebuildStats:
    records: int = 0
    addresses: int = 0
    partitions: int = 0
    skipped: int = 0  # partitions finished by an earlier, interrupted run
    started: float = field(default_factory=time.monotonic)
    seconds: float = 0.0

    def rate(self) -> float:
        return self.records / max(self.seconds, 1e-9)


def read_partition(consumer: Any, tp: Any, end: int, deadline: float) -> tuple[dict[str, dict[int, Any]], int]:
    """Every event of one partition up to `end`, grouped by address and stream position."""
    consumer.assign([tp])
    consumer.seek_to_beginning(tp)
    groups: dict[str, dict[int, Any]] = {}
    count = 0
    position = consumer.position(tp)
    while position < end:
        if time.monotonic() > deadline:
            raise TimeoutError(f"rebuild did not reach offset {end} of {tp.topic}/{tp.partition} in time")
        for records in consumer.poll(timeout_ms=POLL_TIMEOUT_MS).values():
            for record in records:
                if record.offset >= end:
                    break
                event = from_binary(record.value, record.headers)
                by_position = groups.get(event["subject"])
                if by_position is None:
                    by_position = groups[event["subject"]] = {}
                by_position[event["streamposition"]] = event
                count += 1
            position = records[-1].offset + 1
    return groups, count


def rebuild_partitions(
    location: Any,
    consumer_factory: Callable[[], Any],
    topic: str,
    partitions: list[int],
    timeout_s: float,
    on_partition: Callable[[int, int], None] | None = None,
) -> tuple[int, int, int]:
    """Rebuild the given partitions into the location's rebuild store; (records, addresses, skipped)."""
    from kafka.structs import TopicPartition

    deadline = time.monotonic() + timeout_s
    store = location.open_rebuild()
    consumer = consumer_factory()
    records = addresses = skipped = 0
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        ends = consumer.end_offsets(tps)
        done = partition_positions(store.positions(), topic)
        for tp in tps:
            if tp.partition in done and done[tp.partition] >= ends[tp]:
                skipped += 1
                continue
            groups, count = read_partition(consumer, tp, ends[tp], deadline)
            rows = rows_from_groups(groups)
            name = position_name(topic, tp.partition)
            if not rows:
                store.write([], {name: ends[tp]})
            for start in range(0, len(rows), ROWS_PER_WRITE):
                last = start + ROWS_PER_WRITE >= len(rows)
                store.write(rows[start : start + ROWS_PER_WRITE], {name: ends[tp]} if last else {})
            records += count
            addresses += len(rows)
            if on_partition is not None:
                on_partition(tp.partition, count)
    finally:
        consumer.close(autocommit=False)
        store.close()
    return records, addresses, skipped


def _in_processes(
    location: Any, consumer_factory: Callable[[], Any], topic: str, shares: list[list[int]], timeout_s: float
) -> list[tuple[int, int, int]]:
    """Run `rebuild_partitions` for each share in a forked process (fork: nothing is pickled going in)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    jobs = []
    for share in shares:
        receive, send = context.Pipe(duplex=False)

        def work(share: list[int] = share, send: Any = send) -> None:
            from consumers.tuning import die_with_parent

            die_with_parent()
            try:
                send.send(("ok", rebuild_partitions(location, consumer_factory, topic, share, timeout_s)))
            except BaseException as exc:  # noqa: BLE001 - reported to the parent
                send.send(("error", f"{type(exc).__name__}: {exc}"))

        process = context.Process(target=work, name=f"rebuild-{share[0]}", daemon=True)
        process.start()
        send.close()
        jobs.append((process, receive))
    results: list[Any] = []
    errors: list[Any] = []
    for process, receive in jobs:
        try:
            kind, value = receive.recv()
        except EOFError:
            kind, value = "error", f"worker {process.name} died"
        process.join()
        (results if kind == "ok" else errors).append(value)
    if errors:
        raise RuntimeError("rebuild worker failed: " + "; ".join(map(str, errors)))
    return results


def rebuild_from_kafka(
    location: Any,
    consumer_factory: Callable[[], Any],
    *,
    topic: str = EVENTS,
    swap: bool = True,
    timeout_s: float = 3_600.0,
    workers: int = 1,
    on_partition: Callable[[int, int], None] | None = None,
) -> RebuildStats:
    """Rebuild `location`'s projections from `topic` (see the module doc); return what was done.

    `consumer_factory` must give a consumer without a group (`group_id=None`). With `workers` > 1
    the partitions are shared out over that many processes (addresses never span partitions, so
    they work independently; the store serialises their writes). `on_partition(partition,
    records)` is called after each partition is written (in-process only).
    """
    logger = get_logger("rebuild")
    stats = RebuildStats()
    probe = consumer_factory()
    try:
        partitions = sorted(probe.partitions_for_topic(topic) or ())
    finally:
        probe.close(autocommit=False)
    if not partitions:
        raise RuntimeError(f"topic {topic} does not exist (run `ledger kafka init`)")
    stats.partitions = len(partitions)
    location.open_rebuild().close()  # one process decides which rebuild store the workers share
    logger.info("rebuild reading", topic=topic, partitions=len(partitions), workers=workers)
    if workers <= 1:
        results = [rebuild_partitions(location, consumer_factory, topic, partitions, timeout_s, on_partition)]
    else:
        shares = [partitions[w::workers] for w in range(workers) if partitions[w::workers]]
        results = _in_processes(location, consumer_factory, topic, shares, timeout_s)
    for records, addresses, skipped in results:
        stats.records += records
        stats.addresses += addresses
        stats.skipped += skipped
    store = location.open_rebuild()
    try:
        store.finish_bulk()
    finally:
        store.close()
    if swap:
        location.swap()
    stats.seconds = time.monotonic() - stats.started
    logger.info(
        "rebuild done", records=stats.records, addresses=stats.addresses, rate=round(stats.rate()), swapped=swap
    )
    return stats
