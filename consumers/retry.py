"""Waiting for Kafka (or the store) to come back: capped exponential backoff with jitter."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays 0.2 s, 0.4 s, ... up to `cap`, with ±20 % jitter; `reset()` after a success."""

    initial: float = 0.2
    cap: float = 10.0
    attempt: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def next_delay(self) -> float:
        delay = min(self.cap, self.initial * (2**self.attempt))
        self.attempt += 1
        return delay * random.uniform(0.8, 1.2)

    def wait(self) -> float:
        """Sleep the next delay (returns early when `stop` is set); return the delay."""
        delay = self.next_delay()
        self.stop.wait(delay)
        return delay

    def reset(self) -> None:
        self.attempt = 0
