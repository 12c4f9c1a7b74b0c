"""The one retry loop of the relay, the intake and the projection consumer (consumers.retry)."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError as StoreOperationalError
from kafka import errors as kafka_errors

from consumers.retry import is_transient, run_retrying


@dataclass
class Stats:
    errors: int = 0


class Log:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def warning(self, message: str, **fields: Any) -> None:
        self.lines.append(("warning", message, fields))

    def error(self, message: str, **fields: Any) -> None:
        self.lines.append(("error", message, fields))


@pytest.mark.parametrize(
    "exc",
    [
        kafka_errors.KafkaConnectionError("down"),
        kafka_errors.KafkaTimeoutError(),
        kafka_errors.CommitFailedError(),
        kafka_errors.BrokerNotAvailableError(),
        ConnectionResetError(),
        TimeoutError("not acknowledged"),
        BrokenPipeError(),
        StoreOperationalError("server closed the connection"),
        sqlite3.OperationalError("database is locked"),
    ],
)
def test_kafka_network_and_store_trouble_is_transient(exc: Exception) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        TypeError("unsupported operand"),
        KeyError("subject"),
        AttributeError("'NoneType' object has no attribute 'send'"),
        AssertionError(),
        ValueError("bad"),
        kafka_errors.TopicAuthorizationFailedError(),
        kafka_errors.SaslAuthenticationFailedError(),
        sqlite3.IntegrityError("UNIQUE constraint failed"),
    ],
)
def test_programming_and_authorisation_errors_are_not(exc: Exception) -> None:
    assert not is_transient(exc)


def _loop(outcomes: list[Exception | bool], **options: Any) -> tuple[Stats, Log, list[str], threading.Event]:
    """Run the retry loop over sessions that raise or return `outcomes` in turn (`options`: more
    keywords of `run_retrying`, e.g. `give_up_after` and a `clock`)."""
    stats, log, closed, stop = Stats(), Log(), [], threading.Event()

    def session() -> bool:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    run_retrying(
        session,
        name="relay",
        waiting_for="kafka",
        logger=log,
        stop=stop,
        on_error=lambda: closed.append("closed"),
        stats=stats,
        context=lambda: {"position": 7},
        **options,
    )
    return stats, log, closed, stop


def test_a_transient_error_is_logged_closed_and_retried_until_done() -> None:
    stats, log, closed, _ = _loop([kafka_errors.KafkaConnectionError("broker away"), False, True])
    assert stats.errors == 1
    assert closed == ["closed"]
    ((level, message, fields),) = log.lines
    assert (level, message) == ("warning", "relay cannot reach the Kafka brokers, will retry")
    assert fields["error"].startswith("KafkaConnectionError: ") and "broker away" in fields["error"]
    assert fields["position"] == 7 and fields["retry_in_s"] > 0


def test_a_programming_error_crashes_loudly_at_once() -> None:
    outcomes: list[Exception | bool] = [TypeError("bug"), True]
    with pytest.raises(TypeError, match="bug"):
        _loop(outcomes)
    assert outcomes == [True], "the session was not started again"


def test_a_set_stop_ends_the_loop_without_a_session() -> None:
    stop = threading.Event()
    stop.set()
    called: list[int] = []
    run_retrying(
        lambda: bool(called.append(1)),
        name="intake",
        waiting_for="kafka",
        logger=Log(),
        stop=stop,
        on_error=lambda: None,
        stats=Stats(),
    )
    assert called == []


def test_a_bounded_wait_gives_up_with_the_last_error() -> None:
    from consumers.retry import GaveUp

    times = iter([0.0, 30.0, 61.0])
    outcomes: list[Exception | bool] = [
        kafka_errors.KafkaTimeoutError("Unable to bootstrap from [127.0.0.1:9]") for _ in range(3)
    ]
    with pytest.raises(GaveUp, match="relay gave up after 61 s waiting for kafka: KafkaTimeoutError") as raised:
        _loop(outcomes, give_up_after=60, clock=lambda: next(times))
    assert isinstance(raised.value.last, kafka_errors.KafkaTimeoutError)
    assert outcomes == []  # three sessions, each failed, then no more


def test_the_outage_is_named_and_each_failed_session_closed() -> None:
    times = iter([0.0, 30.0])
    outcomes: list[Exception | bool] = [kafka_errors.KafkaConnectionError(), kafka_errors.KafkaConnectionError(), True]
    stats, log, closed, _ = _loop(outcomes, give_up_after=60, clock=lambda: next(times))
    assert stats.errors == 2 and closed == ["closed"] * 2
    assert [m for _, m, _ in log.lines] == ["relay cannot reach the Kafka brokers, will retry"] * 2


def test_a_success_restarts_the_bounded_wait() -> None:
    times = iter([0.0, 100.0])  # failures at 0 and 100 s, a good session between them
    outcomes: list[Exception | bool] = [
        kafka_errors.KafkaConnectionError(),
        False,
        kafka_errors.KafkaConnectionError(),
        True,
    ]
    stats, *_ = _loop(outcomes, give_up_after=60, clock=lambda: next(times))
    assert outcomes == [] and stats.errors == 2
