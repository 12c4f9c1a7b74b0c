"""The Kafka-fed projection sink: rows and partition positions together, re-deliveries ignored."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from consumers.sink import ProjectionStoreSink, StoreSwapped, partition_positions, position_name
from ledger.adapters.raw import RawReader
from ledger.bootstrap import Ledger
from projections.rebuild import rebuild
from projections.store.sqlite import SQLiteLocation
from tests.consumers.history import history
from tests.consumers.kafka_support import store_rows

PARTITIONS = 4


def _fill(ledger: Ledger, addresses: int) -> list[dict]:
    for org in ("IMG", "NCG", "PORTAL"):
        ledger.service.append([e for e in history(addresses, seed=5) if e["org"] == org], org)
    return [e for _, e in ledger.log.read(0, 100_000)]


def _partitioned(events: list[dict]) -> dict[int, list[dict]]:
    """What the relay would put on each partition (a stand-in for murmur2: stable per address)."""
    out: dict[int, list[dict]] = {p: [] for p in range(PARTITIONS)}
    for event in events:
        out[int(event["subject"]) % PARTITIONS].append(event)
    return out


def _reference(ledger: Ledger, folder: Path) -> dict:
    location = SQLiteLocation(folder)
    reader = RawReader(ledger)
    try:
        rebuild(location, reader, ledger.app.index.load_streams, ledger.log.max_position)
    finally:
        reader.close()
    return store_rows(location)


def test_positions_are_named_per_topic_and_partition() -> None:
    named = {position_name("ledger.events", 3): 17, position_name("x.ledger.events", 3): 5, "log": 9}
    assert partition_positions(named, "ledger.events") == {3: 17}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_redelivered_and_resent_records_give_the_same_rows_as_a_rebuild(
    ledger: Ledger, tmp_path: Path, seed: int
) -> None:
    events = _fill(ledger, 30)
    rnd = random.Random(seed)
    location = SQLiteLocation(tmp_path / "kafka")
    sink = ProjectionStoreSink(location, ledger.app.index.load_streams)
    # Each partition's log holds every event, plus relay re-sends of earlier stretches.
    logs = {}
    for p, evs in _partitioned(events).items():
        log = list(evs)
        for _ in range(2):
            if log:
                start = rnd.randrange(len(log))
                log[start:start] = log[max(0, start - rnd.randrange(1, 6)) : start]  # re-sent stretch
        logs[p] = log
    offsets = dict.fromkeys(logs, 0)
    while any(offsets[p] < len(logs[p]) for p in logs):
        batch, positions = [], {}
        for p in logs:
            take = rnd.randrange(0, 6)
            chunk = logs[p][offsets[p] : offsets[p] + take]
            if not chunk:
                continue
            batch.extend(chunk)
            offsets[p] += len(chunk)
            positions[("ledger.events", p)] = offsets[p]
            if rnd.random() < 0.2:  # a crash before the next commit: the same records come again
                batch.extend(chunk)
        sink.apply_kafka_batch(batch, positions)
    assert sink.kafka_positions("ledger.events") == {p: len(log) for p, log in logs.items() if log}
    sink.close()
    assert store_rows(location) == _reference(ledger, tmp_path / "reference")


def test_positions_never_move_backwards(ledger: Ledger, tmp_path: Path) -> None:
    events = _fill(ledger, 5)
    sink = ProjectionStoreSink(SQLiteLocation(tmp_path / "kafka"), ledger.app.index.load_streams)
    assert sink.apply_kafka_batch(events, {("ledger.events", 0): 40}) == len(events)
    assert sink.apply_kafka_batch(events[:3], {("ledger.events", 0): 12}) == 0  # a zombie's old batch
    assert sink.kafka_positions("ledger.events") == {0: 40}
    sink.close()


def test_a_swapped_in_store_is_noticed(ledger: Ledger, tmp_path: Path) -> None:
    events = _fill(ledger, 5)
    location = SQLiteLocation(tmp_path / "kafka")
    sink = ProjectionStoreSink(location, ledger.app.index.load_streams)
    sink.apply_kafka_batch(events, {("ledger.events", 0): 10})
    fresh = location.open_rebuild()
    fresh.write([], {position_name("ledger.events", 0): 3})
    fresh.close()
    location.swap()
    with pytest.raises(StoreSwapped):
        sink.apply_kafka_batch(events, {("ledger.events", 0): 11})
    assert sink.kafka_positions("ledger.events") == {0: 3}
    sink.close()
