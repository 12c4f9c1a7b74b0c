"""Test doubles for kafka-python objects: records, topic-partitions, a producer with scripted failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

PARTITIONS = 12  # what the fake producers report for every topic


class TP(NamedTuple):
    topic: str
    partition: int


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class Cluster:
    """What kafka-python's DefaultPartitioner asks of the cluster metadata (one topic, "t")."""

    def __init__(self, partitions: int) -> None:
        self.partitions = set(range(partitions))

    def topics(self) -> set[str]:
        return {"t"}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions


class Future:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> Any:
        if self.error is not None:
            raise self.error
        return None


class DoneFuture(Future):
    """A future that is already resolved (what a worker process polls with `is_done`)."""

    is_done = True

    def failed(self) -> bool:
        return self.error is not None

    @property
    def exception(self) -> Exception | None:
        return self.error


class Sent(NamedTuple):
    """One `send` call's record."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]
    partition: int | None


class _Producer:
    """What the relay and the intake call on a producer; `_keep` does the sending."""

    closed = False

    def partitions_for(self, topic: str) -> set[int]:
        return set(range(PARTITIONS))

    def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: Any = None,
        partition: int | None = None,
    ) -> Future:
        return self._keep(Sent(topic, key, value, list(headers or []), partition))

    def _keep(self, record: Sent) -> Future:
        raise NotImplementedError

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


class FakeProducer(_Producer):
    """Records what was sent; `fail_at` makes the n-th send's future fail (the record is not kept)."""

    def __init__(
        self, sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]], fail_at: int | None = None
    ) -> None:
        self.sent = sent
        self.fail_at = fail_at
        self.count = 0
        self.partitions: list[int | None] = []  # the explicit partition of each kept record

    def _keep(self, record: Sent) -> Future:
        self.count += 1
        if self.fail_at is not None and self.count == self.fail_at:
            return Future(TimeoutError("broker went away"))
        self.sent.append(record[:4])
        self.partitions.append(record.partition)
        return Future(None)


class FileProducer(_Producer):
    """Appends what is sent to a file, so records sent from worker processes can be inspected;
    `fail_on` makes sends whose key is in it fail."""

    def __init__(self, path: str, fail_on: frozenset[bytes] = frozenset()) -> None:
        self.path = path
        self.fail_on = fail_on

    def _keep(self, record: Sent) -> DoneFuture:
        if record.key in self.fail_on:
            return DoneFuture(TimeoutError("not acknowledged"))
        import orjson

        with open(self.path, "ab") as out:
            out.write(
                orjson.dumps(
                    [
                        record.topic,
                        record.key.decode() if record.key else None,
                        record.value.decode() if record.value else None,
                        [(k, v.decode()) for k, v in record.headers],
                    ]
                )
                + b"\n"
            )
        return DoneFuture(None)
