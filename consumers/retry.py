"""Waiting for Kafka (or the store) to come back: capped exponential backoff with jitter, and the
one retry loop of the relay, the intake and the projection consumer."""

from __future__ import annotations

import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


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


def is_transient(exc: BaseException) -> bool:
    """True for trouble that waiting can cure: Kafka, the network, a database that is away or busy.

    A programming error (TypeError, KeyError, a failed assertion …) is not: retrying it forever
    would hide a bug behind a log line. Authorisation failures are not either: they need an
    operator, and so does a member fenced by another with its instance id. Modules are looked up
    only when loaded, since an error of a module nobody imported cannot occur.
    """
    kafka_errors = sys.modules.get("kafka.errors")
    if kafka_errors is not None and isinstance(exc, kafka_errors.KafkaError):
        # Fenced: another member took this static member's place; rejoining with the same id would
        # fence that one in turn (consumers.polling.Fenced).
        return not isinstance(
            exc,
            kafka_errors.AuthorizationError
            | kafka_errors.SaslAuthenticationFailedError
            | kafka_errors.FencedInstanceIdError,
        )
    if isinstance(exc, OSError):  # ConnectionError, TimeoutError, BrokenPipeError, …
        return True
    for module, names in _TRANSIENT_STORE_ERRORS:
        loaded = sys.modules.get(module)
        if loaded is not None and isinstance(exc, tuple(getattr(loaded, n) for n in names)):
            return True
    return False


_TRANSIENT_STORE_ERRORS = (
    ("eventsourcing.persistence", ("OperationalError", "InterfaceError")),
    ("sqlite3", ("OperationalError",)),
    ("psycopg", ("OperationalError", "InterfaceError")),
)


class GaveUp(Exception):
    """`run_retrying` waited its `give_up_after` seconds without one session getting anywhere."""

    def __init__(self, name: str, waiting_for: str, seconds: float, last: BaseException) -> None:
        super().__init__(f"{name} gave up after {seconds:.0f} s waiting for {waiting_for}: {_describe(last)}")
        self.last = last


def unreachable(exc: BaseException) -> bool:
    """True when the error says that no broker answered (bootstrap failed, connection refused or broken)."""
    errors = sys.modules.get("kafka.errors")
    if errors is not None and isinstance(exc, errors.KafkaConnectionError | errors.MetadataEmptyBrokerList):
        return True
    if errors is not None and isinstance(exc, errors.KafkaTimeoutError):
        return "bootstrap" in str(exc).lower() or "metadata" in str(exc).lower()
    return isinstance(exc, ConnectionError)


class ErrorCount(Protocol):
    """The loop's statistics: how many errors it retried."""

    errors: int


def run_retrying(
    session: Callable[[], bool],
    *,
    name: str,
    waiting_for: str,
    logger: Any,
    stop: threading.Event,
    on_error: Callable[[], None],
    stats: ErrorCount,
    context: Callable[[], dict[str, Any]] | None = None,
    give_up_after: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Run `session` until it returns True (done) or `stop` is set.

    A transient error (`is_transient`) is logged, `on_error` closes what the session held, and
    the session starts again after a capped, jittered backoff; any other error is logged and
    raised, so that a bug stops the process loudly instead of looping. With `give_up_after`,
    transient errors that go on for that many seconds without a successful session raise
    `GaveUp` (batch runs, `--once`: a bounded wait instead of waiting forever).
    """
    backoff = Backoff(stop=stop)
    failing_since: float | None = None
    while not stop.is_set():
        try:
            done = session()
        except Exception as exc:
            if not is_transient(exc):
                logger.error(f"{name} stopped by an error that retrying cannot cure", error=_describe(exc))
                raise
            stats.errors += 1
            now = clock()
            failing_since = now if failing_since is None else failing_since
            if give_up_after is not None and now - failing_since >= give_up_after:
                on_error()
                raise GaveUp(name, waiting_for, now - failing_since, exc) from exc
            delay = backoff.next_delay()
            what = "cannot reach the Kafka brokers" if unreachable(exc) else f"waiting for {waiting_for}"
            logger.warning(
                f"{name} {what}, will retry",
                error=_describe(exc),
                retry_in_s=round(delay, 2),
                **(context() if context is not None else {}),
            )
            on_error()
            stop.wait(delay)
            continue
        backoff.reset()
        failing_since = None
        if done:
            return


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
