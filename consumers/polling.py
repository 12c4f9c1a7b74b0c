"""What the consuming loops share: "caught up?", idle bookkeeping and broker health while idle."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

HEALTH_PROBE_S = 5.0  # while idle, ask the broker this often whether it is still there
PROBE_TIMEOUT_MS = 5_000


def caught_up(consumer: Any) -> bool:
    """Whether the consumer has partitions and has read each of them to its end."""
    assigned = consumer.assignment()
    if not assigned:
        return False
    ends = consumer.end_offsets(list(assigned), timeout_ms=PROBE_TIMEOUT_MS)
    return all(consumer.position(tp, timeout_ms=PROBE_TIMEOUT_MS) >= ends[tp] for tp in assigned)


@dataclass
class Idle:
    """Tracks how long a loop has had no records; probes the broker while it is idle.

    The probe (end offsets of the assignment, or the topic list without one) raises the
    client's error when the broker is gone, so the loop logs it and backs off instead of
    spinning silently.
    """

    since: float = field(default_factory=time.monotonic)
    last_probe: float = field(default_factory=time.monotonic)

    def busy(self) -> None:
        self.since = time.monotonic()

    def seconds(self) -> float:
        return time.monotonic() - self.since

    def probe(self, consumer: Any) -> None:
        now = time.monotonic()
        if now - self.last_probe < HEALTH_PROBE_S:
            return
        self.last_probe = now
        assigned = consumer.assignment()
        if assigned:
            consumer.end_offsets(list(assigned), timeout_ms=PROBE_TIMEOUT_MS)
        else:
            consumer.topics()
