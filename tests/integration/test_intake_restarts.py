"""The intake resumes after every broker restart (issue 15 item 9): a broker killed with -9 and
started again on its data, twenty times, while the intake runs and submissions keep coming.

Each round: kill -9 the broker, start it again (deploy/kafka.sh returns once it is ready),
publish a chunk of submissions (as their organisations' principals), and time how long until the
intake has appended all of them. Afterwards every acknowledged submission is in the store exactly
once. The test prints the resume times; their p99 must stay within 30 s.
(`LEDGER_TEST_INTAKE_RESTARTS` sets the number of restarts; default 20.)
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from consumers.clients import KafkaEndpoint, make_producer
from consumers.topics import TopicNames
from tests.consumers.chaos import LedgerProcess, PrivateBroker, retry_port_in_use
from tests.consumers.kafka_support import (
    export,
    generated_history,
    inbound_record,
    ledger_env,
    principals,
    run_ledger,
    topic_for,
)

RESTARTS = int(os.environ.get("LEDGER_TEST_INTAKE_RESTARTS") or 20)
P99_LIMIT_S = 30.0
ROUND_TIMEOUT_S = 180.0


def _stored(home: Path) -> int:
    """Events in the store, read from its table (read-only; the intake keeps writing)."""
    connection = sqlite3.connect(f"file:{home / 'events.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        return int(connection.execute("SELECT COUNT(*) FROM stored_events").fetchone()[0])
    finally:
        connection.close()


def _publish(publishers: dict[str, KafkaEndpoint], names: TopicNames, chunk: list[dict[str, Any]]) -> None:
    """Send `chunk` and wait until Kafka acknowledged all of it (new producers: the broker just came back)."""
    producers = {org: make_producer(endpoint, f"restart-publisher-{org}") for org, endpoint in publishers.items()}
    try:
        futures = []
        for event in chunk:
            key, value, headers = inbound_record(event)
            futures.append(producers[event["org"]].send(topic_for(event, names), key=key, value=value, headers=headers))
        for future in futures:
            future.get(timeout=120)
    finally:
        for producer in producers.values():
            producer.close(timeout=10)


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def test_the_intake_resumes_after_every_broker_restart(private_broker: PrivateBroker, tmp_path: Path) -> None:
    broker = private_broker
    admin = broker.endpoint
    names = TopicNames("")
    home = tmp_path / "home"
    operator = ledger_env(home, admin)
    run_ledger(
        operator,
        "kafka",
        "init",
        "--partitions",
        "3",
        "--inbound-partitions",
        "3",
        "--credentials",
        str(tmp_path / "c"),
    )
    users = principals(admin, tmp_path / "c")
    publishers = {"IMG": users["img"], "NCG": users["ncg"], "PORTAL": users["portal"]}
    run_ledger(operator, "export")  # the store's tables exist before the intake opens it
    events = generated_history(60, seed=15)
    # Consecutive slices of the history: each address's events keep their order across rounds.
    rounds = RESTARTS + 1
    chunks = [events[len(events) * i // rounds : len(events) * (i + 1) // rounds] for i in range(rounds)]
    assert all(chunks)

    intake = LedgerProcess(
        "intake", ["intake", "--instance-id", "intake-1"], ledger_env(home, users["ledger"]), tmp_path
    )
    resumes: list[float] = []
    try:
        intake.start()
        _publish(publishers, names, chunks[0])
        expected = len(chunks[0])
        _wait_stored(home, expected, intake)
        for chunk in chunks[1:]:
            broker.kill9()
            retry_port_in_use(broker.start)  # back on its data and ready
            started = time.monotonic()
            _publish(publishers, names, chunk)
            expected += len(chunk)
            _wait_stored(home, expected, intake)
            resumes.append(time.monotonic() - started)
    finally:
        intake.stop()
    stored = export(operator)
    assert sorted(e["id"] for e in stored) == sorted(e["id"] for e in events), "lost or doubled submissions"
    p99 = _p99(resumes)
    print(
        f"\n{len(resumes)} broker restarts: intake resumed after each; resume s: median "
        f"{sorted(resumes)[len(resumes) // 2]:.1f}, p99 {p99:.1f}, max {max(resumes):.1f} "
        f"({', '.join(f'{r:.1f}' for r in resumes)})"
    )
    assert len(resumes) == RESTARTS
    assert p99 <= P99_LIMIT_S, f"p99 of the resume times {p99:.1f} s > {P99_LIMIT_S} s: {resumes}"


def _wait_stored(home: Path, expected: int, intake: LedgerProcess) -> None:
    deadline = time.monotonic() + ROUND_TIMEOUT_S
    while _stored(home) < expected:
        intake.check()  # the intake must ride out the restart, never exit
        assert time.monotonic() < deadline, f"the intake did not resume within {ROUND_TIMEOUT_S:.0f} s"
        time.sleep(0.1)  # polling the store's count, not synchronisation
