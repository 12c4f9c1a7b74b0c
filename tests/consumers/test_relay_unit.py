"""The relay records its position only after acknowledgement and re-sends after a failure."""

from __future__ import annotations

import threading

from kafka.partitioner.default import DefaultPartitioner

from consumers.binding import from_binary
from consumers.relay import Relay
from consumers.tracking import RelayTracking
from ledger.bootstrap import Ledger
from tests.consumers.fakes import PARTITIONS, Cluster, FakeProducer
from tests.consumers.history import history


def _fill(ledger: Ledger, addresses: int) -> int:
    for org in ("IMG", "NCG", "PORTAL"):
        events = [e for e in history(addresses) if e["org"] == org]
        ledger.service.append(events, org)
    return ledger.log.max_position()


def test_relay_publishes_everything_once_when_nothing_fails(ledger: Ledger) -> None:
    total = _fill(ledger, 40)
    sent: list = []
    tracking = RelayTracking(ledger.app.recorder, "relay:test")
    producer = FakeProducer(sent)
    stats = Relay(ledger.log, tracking, lambda: producer, page_size=7, window=3).run(once=True)
    assert stats.published == total and tracking.position() == total
    exported = [e for _, e in ledger.log.read(0, total)]
    assert [from_binary(v, h) for _, _, v, h in sent] == exported
    assert all(k == e["subject"].encode() for (_, k, _, _), e in zip(sent, exported, strict=True))
    # every record names its partition: the one kafka-python's default partitioner picks for its key
    cluster = Cluster(PARTITIONS)
    chosen = [DefaultPartitioner().partition("t", k, k, v, v, cluster) for _, k, v, _ in sent]
    assert producer.partitions == chosen
    assert len(set(chosen)) > 1


def test_a_failed_send_is_resent_and_the_position_never_passes_it(ledger: Ledger) -> None:
    total = _fill(ledger, 40)
    sent: list = []
    producers: list[FakeProducer] = []
    tracking = RelayTracking(ledger.app.recorder, "relay:test")

    def factory() -> FakeProducer:
        producer = FakeProducer(sent, fail_at=25 if not producers else None)
        producers.append(producer)
        return producer

    relay = Relay(ledger.log, tracking, factory, page_size=10, window=2, stop=threading.Event())
    stats = relay.run(once=True)
    assert len(producers) == 2 and producers[0].closed
    assert stats.errors == 1 and tracking.position() == total
    exported = [e for _, e in ledger.log.read(0, total)]
    seen = [from_binary(v, h) for _, _, v, h in sent]
    assert {e["id"] for e in seen} == {e["id"] for e in exported}  # nothing lost
    assert len(seen) > total  # the failed page was sent again (redelivery is allowed)
    # Per address, the first occurrence of each event is in stream order.
    firsts: dict[str, list[int]] = {}
    done: set[str] = set()
    for event in seen:
        if event["id"] not in done:
            done.add(event["id"])
            firsts.setdefault(event["subject"], []).append(event["streamposition"])
    assert all(p == sorted(p) for p in firsts.values())


def test_the_position_survives_a_restart(ledger: Ledger) -> None:
    total = _fill(ledger, 10)
    sent: list = []
    Relay(ledger.log, RelayTracking(ledger.app.recorder, "relay:t"), lambda: FakeProducer(sent)).run(once=True)
    again: list = []
    stats = Relay(ledger.log, RelayTracking(ledger.app.recorder, "relay:t"), lambda: FakeProducer(again)).run(once=True)
    assert stats.published == 0 and not again and len(sent) == total


def test_worker_processes_publish_everything_in_order_per_address(ledger: Ledger, tmp_path) -> None:
    import orjson

    from tests.consumers.fakes import FileProducer

    total = _fill(ledger, 40)
    path = str(tmp_path / "sent.jsonl")
    tracking = RelayTracking(ledger.app.recorder, "relay:workers")
    stats = Relay(ledger.log, tracking, lambda: FileProducer(path), page_size=9, window=3, workers=2).run(once=True)
    assert stats.published == total and tracking.position() == total
    sent = [orjson.loads(line) for line in open(path, "rb")]
    seen = [from_binary(value.encode(), [(k, v.encode()) for k, v in headers]) for _, _, value, headers in sent]
    exported = [e for _, e in ledger.log.read(0, total)]
    assert sorted(e["id"] for e in seen) == sorted(e["id"] for e in exported)
    per_address: dict[str, list[int]] = {}
    for event in seen:
        per_address.setdefault(event["subject"], []).append(event["streamposition"])
    assert all(p == list(range(1, len(p) + 1)) for p in per_address.values())


def test_a_failing_worker_fails_the_page_and_the_relay_starts_over(ledger: Ledger, tmp_path) -> None:
    from tests.consumers.fakes import FileProducer

    total = _fill(ledger, 20)
    first_subject = next(e for _, e in ledger.log.read(0, 1))["subject"].encode()
    path = str(tmp_path / "sent.jsonl")
    attempts = []

    def factory() -> FileProducer:
        attempts.append(1)
        # Worker processes call this; the parent counts sessions through the file's existence.
        broken = not (tmp_path / "second-session").exists()
        return FileProducer(path, frozenset({first_subject}) if broken else frozenset())

    tracking = RelayTracking(ledger.app.recorder, "relay:fail")
    relay = Relay(ledger.log, tracking, factory, page_size=10, workers=2)
    original = relay._close_sender

    def close_and_heal(*, discard: bool) -> None:
        (tmp_path / "second-session").touch()
        original(discard=discard)

    relay._close_sender = close_and_heal  # type: ignore[method-assign]
    stats = relay.run(once=True)
    assert stats.errors >= 1 and tracking.position() == total
