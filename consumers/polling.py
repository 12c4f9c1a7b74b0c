"""What the consuming loops share: "caught up?", idle bookkeeping and broker health while idle, and
the frame of a group member (`GroupMember`: its consumer, its poll loop, its retried run)."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from consumers.logs import get_logger

HEALTH_PROBE_S = 5.0  # while idle, ask the broker this often whether it is still there
UNASSIGNED_WARNING_S = 30.0  # a member without partitions says so this often
REJOIN_AFTER_S = 45.0  # ... and leaves and rejoins its group after this long, if its topics have partitions
PROBE_TIMEOUT_MS = 5_000


class StaleAssignment(ConnectionError):
    """The group gave this member no partition for long although its topics have some.

    Seen after a broker restart: kafka-python's group leader can compute an assignment while
    its view of the topic is empty, and keep it, because the metadata it compares with later
    looks unchanged. Every member then idles without partitions until one rejoins. Raised as a
    transient error, so the retry loop closes the consumer and joins the group anew.
    """


class Fenced(RuntimeError):
    """Another member of the group joined with this member's static `--instance-id` and took its
    place (Kafka's FencedInstanceIdError). The fenced member is outside the group: its commits fail
    and it never rejoins, so carrying on would append or project with nobody's offsets. Two running
    instances with one id are a deployment error; the loops stop with this error (not transient),
    and the process exits non-zero with its message.
    """


def is_fenced(exc: BaseException) -> bool:
    """Whether `exc` is (or was caused by) the client's FencedInstanceIdError."""
    kafka_errors = sys.modules.get("kafka.errors")
    if kafka_errors is None:
        return False
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kafka_errors.FencedInstanceIdError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def fenced_error(component: str, consumer: Any) -> Fenced:
    """The `Fenced` error of a loop whose consumer was fenced, naming its group and instance id."""
    config = getattr(consumer, "config", None) or {}
    group, instance_id = config.get("group_id"), config.get("group_instance_id")
    return Fenced(
        f"{component} was fenced: another member of group {group} joined with --instance-id {instance_id} "
        "and took this member's place; stopping (give every running instance its own --instance-id)"
    )


def raise_if_fenced(exc: BaseException, component: str, consumer: Any) -> None:
    """Raise `Fenced` (from `exc`) when `exc` is the client's fencing error; else return."""
    if is_fenced(exc):
        raise fenced_error(component, consumer) from exc


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
    unassigned_since: float | None = None
    last_unassigned_warning: float = 0.0

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

    def unassigned_warning(self, consumer: Any, every: float = UNASSIGNED_WARNING_S) -> float | None:
        """Seconds the consumer has had no partition, once per `every` seconds of that; else None.

        A group member that gets nothing (the group still forming, a coordinator that does not
        answer, more members than partitions) would otherwise wait without a word.
        """
        now = time.monotonic()
        if consumer.assignment():
            self.unassigned_since = None
            return None
        if self.unassigned_since is None:
            self.unassigned_since = self.last_unassigned_warning = now
            return None
        if now - self.last_unassigned_warning < every:
            return None
        self.last_unassigned_warning = now
        return now - self.unassigned_since

    def check_assignment(self, consumer: Any, topics: list[str], after: float | None = None) -> None:
        """Raise `StaleAssignment` when the consumer has had no partition for `after` seconds
        while the topics it subscribes have partitions (so that some member should own them).

        With more members than partitions an idle member is normal; it then rejoins every
        `after` seconds, which costs the group one rebalance each time (docs/kafka.md).
        """
        if consumer.assignment():
            self.unassigned_since = None
            return
        now = time.monotonic()
        if self.unassigned_since is None:
            self.unassigned_since = self.last_unassigned_warning = now
            return
        waited = now - self.unassigned_since
        if waited < (REJOIN_AFTER_S if after is None else after):
            return
        if any(consumer.partitions_for_topic(topic) for topic in topics):
            raise StaleAssignment(
                f"no partition assigned for {waited:.0f} s although {', '.join(topics)} have partitions; "
                "leaving and rejoining the group"
            )


def idle_turn(
    idle: Idle, consumer: Any, *, once: bool, max_idle: float | None, name: str, topics: list[str], logger: Any
) -> bool:
    """What a consuming loop does after an empty poll: True when it is done (`once` and caught up,
    or idle for `max_idle` seconds); else probe the broker, warn while no partition is assigned,
    and raise `StaleAssignment` when that has lasted too long although the topics have partitions."""
    if max_idle is not None and idle.seconds() >= max_idle:
        return True
    if once and caught_up(consumer):
        return True
    idle.probe(consumer)
    waited = idle.unassigned_warning(consumer)
    if waited is not None:
        logger.warning(f"{name} has no partitions assigned", waited_s=round(waited))
    idle.check_assignment(consumer, topics)
    return False


def rewind(consumer: Any, polled: dict[Any, list[Any]]) -> None:
    """Seek back to the first record of each partition of a poll, so it is read again after a retry
    (nothing of it was committed)."""
    for tp, records in polled.items():
        consumer.seek(tp, records[0].offset)


def run_member(
    name: str,
    session: Callable[[], bool],
    *,
    consumer: Callable[[], Any],
    waiting_for: str,
    logger: Any,
    stop: Any,
    stats: Any,
    on_error: Callable[[], None],
    close: Callable[[], None],
) -> None:
    """A group member's loop: `session` under `run_retrying` (transient errors retried with
    backoff), the client's fencing error turned into `Fenced` (the loop stops), `close` at the end.
    `consumer` gives the member's current consumer (None between sessions)."""
    from consumers.retry import run_retrying

    def guarded() -> bool:
        before = consumer()
        try:
            return session()
        except Exception as exc:
            raise_if_fenced(exc, name, consumer() or before)
            raise

    try:
        run_retrying(
            guarded, name=name, waiting_for=waiting_for, logger=logger, stop=stop, on_error=on_error, stats=stats
        )
    finally:
        close()


StatsT = TypeVar("StatsT")


class GroupMember(Generic[StatsT]):
    """The frame of a consumer-group member (the intake, the projection consumer).

    `run` runs sessions under `run_member`; a session joins with `_join` and polls with
    `_poll_loop`, which hands every non-empty poll to `_handle` (a poll whose handling failed is
    read again after the retry) and then to `_handled`. Subclasses set `name` and `waiting_for`.
    """

    name: str  # in log lines and errors, and the logger's component: "intake", "consume"
    waiting_for: str  # what a retried error waits for, in the log line

    def __init__(
        self,
        consumer_factory: Callable[[], Any],
        stats: StatsT,
        stop: threading.Event | None,
        rebalancing_factory: Callable[[], Any] | None,
        observe: Callable[[Any], None] | None,
    ) -> None:
        self.consumer_factory = consumer_factory
        # A consumer without the static instance id, for rejoining after a stale assignment
        # (`StaleAssignment`): a static member's rejoin gets its old assignment back without a
        # rebalance; a dynamic member's join makes the leader assign anew.
        self.rebalancing_factory = rebalancing_factory
        # Called with the Kafka consumer after each poll (the operators' metrics read its lag).
        self.observe = observe
        self.stop = stop or threading.Event()
        self.stats = stats
        self.logger = get_logger(self.name)
        self._stale = False
        self._consumer: Any = None

    def run(self, *, once: bool = False, max_idle: float | None = None) -> StatsT:
        """Consume until stopped; with `once`, until caught up (or idle for `max_idle` seconds)."""
        self.logger.info(f"{self.name} starting", **self._started())
        run_member(
            self.name,
            lambda: self._session(once, max_idle),
            consumer=lambda: self._consumer,
            waiting_for=self.waiting_for,
            logger=self.logger,
            stop=self.stop,
            stats=self.stats,
            on_error=lambda: self._close(clean=False),
            close=lambda: self._close(clean=True),
        )
        self.logger.info(f"{self.name} stopped", **vars(self.stats))
        return self.stats

    def _join(self, topics: list[str], listener: Callable[[Any], Any], **fields: Any) -> Any:
        """The member's consumer, subscribed to `topics` with `listener(consumer)`; a new one after an
        error closed the last, without the static instance id after a stale assignment."""
        if self._consumer is None:
            factory = self.rebalancing_factory if self._stale and self.rebalancing_factory else self.consumer_factory
            consumer = factory()
            consumer.subscribe(topics, listener=listener(consumer))
            self._consumer = consumer
            self.logger.info(f"{self.name} connected to kafka", **fields)
        return self._consumer

    def _poll_loop(self, consumer: Any, topics: list[str], *, once: bool, max_idle: float | None, **poll: Any) -> bool:
        """Poll (with `poll` as the poll's arguments) and handle until stopped; True when done (`once`)."""
        idle = Idle()
        while not self.stop.is_set():
            polled = consumer.poll(timeout_ms=500, **poll)
            if self.observe is not None:
                self.observe(consumer)
            if not polled:
                try:
                    if idle_turn(
                        idle, consumer, once=once, max_idle=max_idle, name=self.name, topics=topics, logger=self.logger
                    ):
                        return True
                except StaleAssignment:
                    self._stale = True  # the next session joins without the static instance id
                    raise
                self._idle(consumer)
                continue
            idle.busy()
            try:
                handled = self._handle(consumer, polled)
            except Exception:
                rewind(consumer, polled)  # read this poll again after the retry
                raise
            self._handled(consumer, polled, handled)
        return False

    def _started(self) -> dict[str, Any]:
        """The fields of the "starting" log line."""
        return {}

    def _session(self, once: bool, max_idle: float | None) -> bool:
        raise NotImplementedError

    def _handle(self, consumer: Any, polled: dict[Any, list[Any]]) -> Any:
        """Process one poll; what it returns goes to `_handled`."""
        raise NotImplementedError

    def _handled(self, consumer: Any, polled: dict[Any, list[Any]], handled: Any) -> None:
        """After a poll was processed (commit its offsets)."""

    def _idle(self, consumer: Any) -> None:
        """After an empty poll that did not end the session."""

    def _close(self, *, clean: bool) -> None:
        raise NotImplementedError
