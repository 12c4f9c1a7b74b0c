"""How the relay hands records to Kafka: one producer in-process, or producers in worker processes.

kafka-python builds every record in Python (with `consumers.fastrecords`, still some 20-25 µs
of CPU for a ledger record with its thirteen `ce_*` headers), so one process tops out near
30,000 records/s. `ProcessSender` spreads the records over worker processes, each with its own
idempotent producer; every address always goes to the same worker, so its events keep their
order. A page counts as acknowledged when every worker acknowledged its share; any failure
fails the page, and the relay then starts over from its recorded position with fresh senders.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import zlib
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import Any

from consumers.binding import stored_to_binary
from consumers.clients import keyed_partition
from consumers.retry import is_transient
from consumers.tuning import die_with_parent
from projections.projector import subject_of

Page = list[tuple[int, bytes]]
MAX_CACHED_KEYS = 500_000  # addresses whose partition is remembered (some 75 MB at most)


class SendFailed(ConnectionError):
    """Kafka did not acknowledge a record of the page (or a worker died): the relay starts over."""


class SenderBroken(Exception):
    """A sender process failed with an error that retrying cannot cure (see `consumers.retry`)."""


class ProducerSender:
    """One kafka-python producer in this process.

    Each record goes out with an explicit partition, chosen once per address exactly as the
    default partitioner would (`consumers.clients.keyed_partition`) and remembered, so the
    producer does not hash the key again for every record.
    """

    def __init__(self, producer: Any, topic: str) -> None:
        self.producer = producer
        self.topic = topic
        self._partitions: list[int] | None = None
        self._partition_of: dict[bytes, int] = {}

    def submit(self, page: Page) -> Any:
        return self.send_bodies([body for _, body in page])

    def send_bodies(self, bodies: list[bytes]) -> list[Any]:
        send, topic = self.producer.send, self.topic
        if self._partitions is None:
            self._partitions = sorted(self.producer.partitions_for(topic))
        partitions, partition_of = self._partitions, self._partition_of
        if len(partition_of) > MAX_CACHED_KEYS:
            partition_of.clear()
        futures: list[Any] = []
        append = futures.append
        for body in bodies:
            key, value, headers = stored_to_binary(body)
            partition = partition_of.get(key)
            if partition is None:
                partition = partition_of[key] = keyed_partition(key, partitions)
            append(send(topic, value=value, key=key, headers=headers, partition=partition))
        return futures

    def wait(self, handle: Any, timeout: float) -> None:
        for future in handle:
            future.get(timeout=timeout)  # raises the delivery error, if any

    def flush(self, timeout: float) -> None:
        self.producer.flush(timeout=timeout)

    def close(self, discard: bool) -> None:
        self.producer.close(timeout=0 if discard else 10)


def _worker(
    conn: Connection, index: int, producer_factory: Callable[[], Any], topic: str, inherited: list[Connection]
) -> None:
    """A worker process: send the shares it gets, report each page once all its records are acked."""
    die_with_parent()
    for other in inherited:  # the relay's ends of the pipes, copied by fork: keep only our own end open
        other.close()
    try:
        producer = producer_factory()
        sender = ProducerSender(producer, topic)
        pending: deque[tuple[int, list[Any], int]] = deque()  # page, futures, first not-done index
        while True:
            if conn.poll(0.002 if pending else None):
                message = conn.recv()
                if message[0] == "page":
                    pending.append((message[1], sender.send_bodies(message[2]), 0))
                elif message[0] == "flush":
                    producer.flush(timeout=message[1])
                else:  # "stop"
                    producer.close(timeout=0 if message[1] else 10)
                    return
            while pending:
                page, futures, first = pending[0]
                while first < len(futures) and futures[first].is_done:
                    first += 1
                if first < len(futures):
                    pending[0] = (page, futures, first)
                    break
                pending.popleft()
                error = next((f.exception for f in futures if f.failed()), None)
                conn.send(("failed", page, index, repr(error)) if error else ("acked", page, index, ""))
    except (EOFError, BrokenPipeError, KeyboardInterrupt):
        pass  # the relay is gone: so are we
    except BaseException as exc:  # noqa: BLE001 - reported to the relay, which decides
        try:
            kind = "failed" if is_transient(exc) else "broken"
            conn.send((kind, -1, index, f"{type(exc).__name__}: {exc}"))
        except Exception:  # noqa: BLE001
            pass
    finally:
        os._exit(0)


class ProcessSender:
    """Records spread over `workers` processes by address; see the module doc."""

    def __init__(self, producer_factory: Callable[[], Any], topic: str, workers: int) -> None:
        context = multiprocessing.get_context("fork")
        self.conns: list[Connection] = []
        self.processes: list[Any] = []
        for index in range(workers):
            parent, child = context.Pipe(duplex=True)
            process = context.Process(
                target=_worker,
                args=(child, index, producer_factory, topic, [*self.conns, parent]),
                name=f"relay-sender-{index}",
                daemon=True,
            )
            process.start()
            child.close()
            self.conns.append(parent)
            self.processes.append(process)
        self.next_page = 0
        self.waiting: dict[int, set[int]] = {}

    def submit(self, page: Page) -> int:
        workers = len(self.conns)
        shares: list[list[bytes]] = [[] for _ in range(workers)]
        crc = zlib.crc32
        for _, body in page:
            shares[crc(subject_of(body).encode()) % workers].append(body)
        number = self.next_page
        self.next_page += 1
        waiting = set()
        for index, share in enumerate(shares):
            if share:
                self.conns[index].send(("page", number, share))
                waiting.add(index)
        self.waiting[number] = waiting
        return number

    def wait(self, handle: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.waiting.get(handle):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SendFailed(f"page {handle} not acknowledged within {timeout:.0f} s")
            for conn in wait(self.conns, timeout=remaining):
                try:
                    kind, page, index, error = conn.recv()  # type: ignore[union-attr,call-arg]
                except EOFError:
                    raise SendFailed("a relay sender process died") from None
                if kind == "failed":
                    raise SendFailed(f"sender {index}: {error}")
                if kind == "broken":
                    raise SenderBroken(f"sender {index}: {error}")
                self.waiting.get(page, set()).discard(index)
        self.waiting.pop(handle, None)

    def flush(self, timeout: float) -> None:
        for conn in self.conns:
            conn.send(("flush", timeout))

    def close(self, discard: bool) -> None:
        for conn in self.conns:
            try:
                conn.send(("stop", discard))
            except (BrokenPipeError, OSError):
                pass
        for process in self.processes:
            process.join(timeout=0.5 if discard else 15)
            if process.is_alive():
                process.kill()
                process.join(timeout=5)
        for conn in self.conns:
            conn.close()
