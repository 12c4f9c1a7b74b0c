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


class Future:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> Any:
        if self.error is not None:
            raise self.error
        return None


class FakeProducer:
    """Records what was sent; `fail_at` makes the n-th send's future fail (the record is not kept)."""

    def __init__(
        self, sent: list[tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]]]], fail_at: int | None = None
    ) -> None:
        self.sent = sent
        self.fail_at = fail_at
        self.count = 0
        self.closed = False
        self.partitions: list[int | None] = []  # the explicit partition of each kept record

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
        self.count += 1
        if self.fail_at is not None and self.count == self.fail_at:
            return Future(TimeoutError("broker went away"))
        self.sent.append((topic, key, value, list(headers or [])))
        self.partitions.append(partition)
        return Future(None)

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


class DoneFuture(Future):
    """A future that is already resolved (what a worker process polls with `is_done`)."""

    is_done = True

    def failed(self) -> bool:
        return self.error is not None

    @property
    def exception(self) -> Exception | None:
        return self.error


class FileProducer:
    """Appends what is sent to a file, so records sent from worker processes can be inspected;
    `fail_on` makes sends whose key is in it fail."""

    def __init__(self, path: str, fail_on: frozenset[bytes] = frozenset()) -> None:
        self.path = path
        self.fail_on = fail_on

    def partitions_for(self, topic: str) -> set[int]:
        return set(range(PARTITIONS))

    def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        headers: Any = None,
        partition: int | None = None,
    ) -> DoneFuture:
        if key in self.fail_on:
            return DoneFuture(TimeoutError("not acknowledged"))
        import orjson

        with open(self.path, "ab") as out:
            out.write(
                orjson.dumps(
                    [
                        topic,
                        key.decode() if key else None,
                        value.decode() if value else None,
                        [(k, v.decode()) for k, v in headers or []],
                    ]
                )
                + b"\n"
            )
        return DoneFuture(None)

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass
