"""A member fenced by another with its static `--instance-id` stops loudly (issue 15, item 7).

Kafka's FencedInstanceIdError means another running instance took this member's place in its
group: the fenced one is outside the group for good (its commits fail, it never rejoins). The
intake and the projection consumer must neither carry on appending/projecting nor retry with the
same id (which would fence the other one in turn): the loop raises `Fenced`, which no retry cures.
"""

from __future__ import annotations

from typing import Any

import pytest
from kafka.errors import CommitFailedError, FencedInstanceIdError

from consumers.intake import Intake
from consumers.polling import Fenced
from consumers.projection import ProjectionConsumer
from consumers.retry import is_transient
from ledger.bootstrap import Ledger
from tests.consumers.fakes import TP, FakeProducer, Record
from tests.consumers.history import address_history


class FencedConsumer:
    """A consumer with one poll of records whose commit fails with `error`."""

    def __init__(self, records: dict[Any, list[Any]], error: Exception) -> None:
        self.config = {"group_id": "p.ledger-intake", "group_instance_id": "intake-1"}
        self.polls = [records]
        self.error = error
        self.commits = 0
        self.closed = False

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        pass

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[Any, list[Any]]:
        return self.polls.pop(0) if self.polls else {}

    def commit(self, offsets: Any) -> None:
        self.commits += 1
        raise self.error

    def assignment(self) -> set[Any]:
        return set()

    def close(self, autocommit: bool = False) -> None:
        self.closed = True


def _records(topic: str, events: list[dict]) -> list[Record]:
    from consumers.binding import to_binary

    return [Record(topic, 0, offset, *to_binary(event)) for offset, event in enumerate(events)]


def test_fencing_is_not_transient_but_an_ordinary_commit_failure_is() -> None:
    assert not is_transient(FencedInstanceIdError())
    assert is_transient(CommitFailedError("rebalanced"))


def test_a_fenced_intake_stops_with_fenced_instead_of_appending_on(ledger: Ledger) -> None:
    events = [e for e in address_history(1) if e["org"] == "IMG"][:2]
    consumers: list[FencedConsumer] = []

    def factory() -> FencedConsumer:
        consumers.append(
            FencedConsumer(
                {TP("ledger.inbound.img", 0): _records("ledger.inbound.img", events)}, FencedInstanceIdError()
            )
        )
        return consumers[-1]

    intake = Intake(lambda items, org: ledger.service.append(items, org), factory, lambda: FakeProducer([]))
    with pytest.raises(Fenced, match=r"group p\.ledger-intake .*--instance-id intake-1"):
        intake.run(max_idle=5)
    assert len(consumers) == 1, "a fenced member must not rejoin (it would fence the other one)"
    assert consumers[0].commits == 1 and consumers[0].closed
    assert intake.stats.errors == 0


def test_an_ordinary_commit_failure_lets_the_intake_go_on(ledger: Ledger) -> None:
    events = [e for e in address_history(1) if e["org"] == "IMG"][:2]
    consumer = FencedConsumer(
        {TP("ledger.inbound.img", 0): _records("ledger.inbound.img", events)}, CommitFailedError("rebalanced")
    )
    intake = Intake(lambda items, org: ledger.service.append(items, org), lambda: consumer, lambda: FakeProducer([]))
    stats = intake.run(max_idle=0.5)
    assert stats.accepted == 2 and consumer.commits == 1


class Sink:
    def __init__(self) -> None:
        self.applied = 0

    def kafka_positions(self, topic: str) -> dict[int, int]:
        return {}

    def apply_kafka_batch(self, events: Any, positions: Any) -> int:
        self.applied += len(events)
        return len(events)

    def check_swapped(self) -> None:
        pass  # one store, never rebuilt


def test_a_fenced_projection_consumer_stops_with_fenced() -> None:
    from consumers.binding import to_binary

    stored = {**address_history(1)[0], "recordedtime": "2024-01-01T00:00:00.000000Z", "streamposition": 1}
    records = {TP("ledger.events", 0): [Record("ledger.events", 0, 0, *to_binary(stored))]}
    consumers: list[FencedConsumer] = []

    def factory() -> FencedConsumer:
        consumers.append(FencedConsumer(records, FencedInstanceIdError()))
        return consumers[-1]

    sink = Sink()
    with pytest.raises(Fenced, match="consume was fenced"):
        ProjectionConsumer(sink, factory).run(max_idle=5)
    assert len(consumers) == 1 and sink.applied == 1
