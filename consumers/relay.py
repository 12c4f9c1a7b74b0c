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
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Protocol

from consumers import failpoints
from consumers.logs import get_logger
from consumers.retry import run_retrying
from consumers.senders import ProcessSender, ProducerSender
from consumers.topics import EVENTS
from consumers.tracking import RelayTracking

DEFAULT_PAGE = 5_000
DEFAULT_WINDOW = 4  # pages in flight
ACK_TIMEOUT_S = 90.0  # above the producer's delivery timeout: its own error comes first


class RawLog(Protocol):
    """The one read the relay needs: stored events after a global position, ascending, gap-free
    (`domain.ports.EventLog.read_raw`, or the read side's faster `ledger.adapters.raw.RawReader`)."""

    def read_raw(self, after: int, limit: int) -> Sequence[tuple[int, bytes]]: ...


@dataclass
class RelayStats:
    """What one run of the relay did."""

    published: int = 0
    position: int = 0
    errors: int = 0
    started: float = field(default_factory=time.monotonic)

    def rate(self) -> float:
        return self.published / max(time.monotonic() - self.started, 1e-9)


@dataclass(eq=False)
class Relay:
    """Publishes every stored event to `topic`, in order, at least once.

    `probe`: raises when the brokers cannot be reached (checked before each producer session, so
    "connected" is said only when it is true); `give_up_after`: seconds of failing sessions after
    which `run` raises `consumers.retry.GaveUp` instead of retrying on.
    """

    log: RawLog
    tracking: RelayTracking
    producer_factory: Callable[[], Any]
    _: KW_ONLY
    topic: str = EVENTS
    page_size: int = DEFAULT_PAGE
    window: int = DEFAULT_WINDOW
    poll_interval: float = 0.2
    stop: threading.Event = field(default_factory=threading.Event)
    workers: int = 1
    probe: Callable[[], None] | None = None
    give_up_after: float | None = None
    logger: Any = field(init=False, default_factory=lambda: get_logger("relay"))
    stats: RelayStats = field(init=False, default_factory=RelayStats)
    _sender: Any = field(init=False, default=None)

    # -- running ---------------------------------------------------------------------------------
    def run(self, *, once: bool = False) -> RelayStats:
        """Relay until stopped (or, with `once`, until everything stored so far is acknowledged)."""
        self.logger.info("relay starting", topic=self.topic, position=self.tracking.position())
        try:
            run_retrying(
                lambda: self._run_session(once),
                name="relay",
                waiting_for="kafka or the store",
                logger=self.logger,
                stop=self.stop,
                on_error=lambda: self._close_sender(discard=True),
                stats=self.stats,
                context=lambda: {"position": self.stats.position},
                give_up_after=self.give_up_after,
            )
        finally:
            self._close_sender(discard=False)
        self.logger.info(
            "relay stopped", published=self.stats.published, position=self.stats.position, rate=round(self.stats.rate())
        )
        return self.stats

    def _run_session(self, once: bool) -> bool:
        """One producer session from the recorded position; True when drained (`once`)."""
        if self._sender is None:
            if self.probe is not None:
                self.probe()
            if self.workers > 1:
                self._sender = ProcessSender(self.producer_factory, self.topic, self.workers)
            else:
                self._sender = ProducerSender(self.producer_factory(), self.topic)
            self.logger.info("relay connected to kafka", topic=self.topic, workers=self.workers)
        sender = self._sender
        recorded = self.tracking.position()
        self.stats.position = recorded
        after = recorded
        inflight: deque[tuple[int, int, Any]] = deque()
        last_report = time.monotonic()
        while not self.stop.is_set():
            full = len(inflight) >= self.window
            page = [] if full else self.log.read_raw(after, self.page_size)
            if page:
                handle = sender.submit(page)
                after = page[-1][0]
                inflight.append((after, len(page), handle))
                failpoints.hit("relay.after_send_before_ack")
                continue
            if inflight:
                if not full:  # nothing more to read: push out what lingers
                    sender.flush(ACK_TIMEOUT_S)
                end, count, handle = inflight.popleft()
                sender.wait(handle, ACK_TIMEOUT_S)  # raises when anything of the page was not acknowledged
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

    # -- sender lifecycle ------------------------------------------------------------------------
    def _close_sender(self, *, discard: bool) -> None:
        """Close the producer(s); after an error (`discard`) without waiting: a new session re-sends
        from the recorded position."""
        sender, self._sender = self._sender, None
        if sender is not None:
            try:
                sender.close(discard)
            except Exception:  # noqa: BLE001 - it is being thrown away
                pass
