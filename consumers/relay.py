"""The relay: the store's notification log -> `ledger.events` (DESIGN §1.3, research-reliability §2.5).

It reads pages of stored events after its recorded position (the library's gap-free
notification order), publishes each as a CloudEvents binary-mode record keyed by address,
and records a page's last position only after Kafka acknowledged every record of that page
and of every page before it. Several pages may be in flight at once. A crash or a Kafka error
re-sends from the recorded position: records can appear twice on the topic, never go missing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from consumers import failpoints
from consumers.binding import stored_to_binary
from consumers.logs import get_logger
from consumers.retry import Backoff
from consumers.topics import EVENTS
from consumers.tracking import RelayTracking
from domain.ports import EventLog

DEFAULT_PAGE = 5_000
DEFAULT_WINDOW = 4  # pages in flight
ACK_TIMEOUT_S = 90.0  # above the producer's delivery timeout: its own error comes first


@dataclass
class RelayStats:
    """What one run of the relay did."""

    published: int = 0
    position: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        return self.published / max(time.monotonic() - self.started, 1e-9)


class Relay:
    """Publishes every stored event to `topic`, in order, at least once."""

    def __init__(
        self,
        log: EventLog,
        tracking: RelayTracking,
        producer_factory: Callable[[], Any],
        *,
        topic: str = EVENTS,
        page_size: int = DEFAULT_PAGE,
        window: int = DEFAULT_WINDOW,
        poll_interval: float = 0.2,
        stop: threading.Event | None = None,
    ) -> None:
        self.log = log
        self.tracking = tracking
        self.producer_factory = producer_factory
        self.topic = topic
        self.page_size = page_size
        self.window = window
        self.poll_interval = poll_interval
        self.stop = stop or threading.Event()
        self.logger = get_logger("relay")
        self.stats = RelayStats()
        self._producer: Any = None

    # -- running ---------------------------------------------------------------------------------
    def run(self, *, once: bool = False) -> RelayStats:
        """Relay until stopped (or, with `once`, until everything stored so far is acknowledged)."""
        backoff = Backoff(stop=self.stop)
        self.logger.info("relay starting", topic=self.topic, position=self.tracking.position())
        try:
            while not self.stop.is_set():
                try:
                    drained = self._run_session(once)
                except Exception as exc:  # noqa: BLE001 - Kafka or store trouble: wait, reconnect, resend
                    self.stats.errors += 1
                    delay = backoff.next_delay()
                    self.logger.warning(
                        "relay waiting for kafka or the store, will retry",
                        error=f"{type(exc).__name__}: {exc}",
                        retry_in_s=round(delay, 2),
                        position=self.stats.position,
                    )
                    self._discard_producer()
                    self.stop.wait(delay)
                    continue
                backoff.reset()
                if drained:
                    break
        finally:
            self._close_producer()
        self.logger.info(
            "relay stopped", published=self.stats.published, position=self.stats.position, rate=round(self.stats.rate())
        )
        return self.stats

    def _run_session(self, once: bool) -> bool:
        """One producer session from the recorded position; True when drained (`once`)."""
        if self._producer is None:
            self._producer = self.producer_factory()
            self.logger.info("relay connected to kafka", topic=self.topic)
        producer = self._producer
        recorded = self.tracking.position()
        self.stats.position = recorded
        after = recorded
        inflight: deque[tuple[int, int, list[Any]]] = deque()
        last_report = time.monotonic()
        while not self.stop.is_set():
            full = len(inflight) >= self.window
            page = [] if full else self.log.read_raw(after, self.page_size)
            if page:
                send = producer.send
                topic = self.topic
                futures = []
                for _position, body in page:
                    key, value, headers = stored_to_binary(body)
                    futures.append(send(topic, value=value, key=key, headers=headers))
                after = page[-1][0]
                inflight.append((after, len(page), futures))
                failpoints.hit("relay.after_send_before_ack")
                continue
            if inflight:
                if not full:  # nothing more to read: push out what lingers
                    producer.flush(timeout=ACK_TIMEOUT_S)
                end, count, futures = inflight.popleft()
                for future in futures:
                    future.get(timeout=ACK_TIMEOUT_S)  # raises the delivery error, if any
                failpoints.hit("relay.after_ack_before_save")
                recorded = self.tracking.save(end)
                self.stats.published += count
                self.stats.position = recorded
                now = time.monotonic()
                if now - last_report >= 5.0:
                    last_report = now
                    self.logger.info("relay progress", position=recorded, published=self.stats.published)
                continue
            if once:
                return True
            self.stop.wait(self.poll_interval)
        return False

    # -- producer lifecycle ----------------------------------------------------------------------
    def _discard_producer(self) -> None:
        """Drop the producer after an error: a new session re-sends from the recorded position."""
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass

    def _close_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=10)
            except Exception:  # noqa: BLE001
                pass
