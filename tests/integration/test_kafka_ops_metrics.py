"""On a real broker: the operators' metrics of `relay`, `intake` and `consume` (issue 15, item 5).

Each role runs with its own `--ops-port` (and `LEDGER_OPS_PORT` for one of them); a history is
published on the inbound topics while the test scrapes every port and parses the text with
prometheus-client's parser: the names are there and the values move — appends counted by result
and rejections by code, the relay's position reaching the store head with no lag left, the
consumer lag per partition, the Kafka-fed projections' positions.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from consumers.clients import KafkaEndpoint
from consumers.topics import TopicNames
from tests.consumers.chaos import LedgerProcess, wait_for
from tests.consumers.history import address_history
from tests.consumers.kafka_support import delete_topics, ledger_env, publish_inbound, run_ledger
from tests.ledger.test_ops_metrics import scrape, value
from tests.serving import free_port


@pytest.fixture
def names(kafka_bootstrap: KafkaEndpoint) -> Iterator[TopicNames]:
    names = TopicNames(f"m{uuid.uuid4().hex[:8]}.")
    yield names
    delete_topics(kafka_bootstrap, names)


def _scraped(port: int) -> dict:
    try:
        return scrape(port)
    except Exception:  # noqa: BLE001 - not listening yet
        return {}


def test_relay_intake_and_consume_expose_metrics_that_move(
    kafka_bootstrap: KafkaEndpoint, names: TopicNames, tmp_path: Path
) -> None:
    env = ledger_env(tmp_path, kafka_bootstrap, names.prefix)
    run_ledger(env, "kafka", "init", "--partitions", "2", "--inbound-partitions", "1")
    ports = {role: free_port() for role in ("intake", "relay", "consume")}
    processes = {
        "intake": LedgerProcess("intake", ["intake", "--ops-port", str(ports["intake"])], env, tmp_path),
        "relay": LedgerProcess(
            "relay", ["relay", "--workers", "1"], {**env, "LEDGER_OPS_PORT": str(ports["relay"])}, tmp_path
        ),
        "consume": LedgerProcess("consume", ["consume", "--ops-port", str(ports["consume"])], env, tmp_path),
    }
    for process in processes.values():
        process.start()
    try:
        for role, port in ports.items():
            wait_for(lambda port=port: "ledger_up" in _scraped(port), 60, f"{role} answers on its ops port")
        first = [e for n in range(1, 4) for e in address_history(n)]
        bad = dict(first[0], id=str(uuid.uuid4()), data={"claim_id": "X"})  # schema_invalid
        publish_inbound(kafka_bootstrap, names, [*first, bad])

        def intake_counted() -> bool:
            processes["intake"].check()
            m = _scraped(ports["intake"])
            return value(m, "ledger_appends_total", door="kafka", result="accepted") == len(first)

        wait_for(intake_counted, 120, "the intake counted every accepted event")
        wait_for(lambda: "ledger_consumer_lag_records" in _scraped(ports["intake"]), 30, "the intake's lag")
        intake = scrape(ports["intake"])
        assert value(intake, "ledger_rejections_total", door="kafka", code="schema_invalid") >= 1
        assert value(intake, "ledger_append_duration_seconds_count", door="kafka") >= 1
        assert "ledger_consumer_lag_records" in intake and "ledger_store_head" in intake

        def relayed() -> bool:
            processes["relay"].check()
            m = _scraped(ports["relay"])
            return value(m, "ledger_relay_position") == len(first) == value(m, "ledger_store_head")

        wait_for(relayed, 120, "the relay's position reached the store head")
        relay = scrape(ports["relay"])
        assert value(relay, "ledger_relay_lag_events") == 0 and value(relay, "ledger_relay_lag_seconds") == 0

        def projected(total: int) -> bool:
            processes["consume"].check()
            m = _scraped(ports["consume"])
            return value(m, "ledger_projection_position") == total and "ledger_consumer_lag_records" in m

        wait_for(lambda: projected(len(first)), 120, "the Kafka-fed projections hold every record")
        consume = scrape(ports["consume"])
        assert set(dict(k)["partition"] for k in consume["ledger_projection_position"]) <= {"0", "1"}
        assert value(consume, "ledger_consumer_lag_records") == 0

        # More events: every figure moves on.
        more = [e for n in range(4, 6) for e in address_history(n)]
        publish_inbound(kafka_bootstrap, names, more)
        total = len(first) + len(more)
        wait_for(
            lambda: value(_scraped(ports["intake"]), "ledger_appends_total", result="accepted") == total,
            120,
            "the intake counted the new events",
        )
        wait_for(lambda: value(_scraped(ports["relay"]), "ledger_relay_position") == total, 120, "relay moved on")
        wait_for(lambda: projected(total), 120, "the projections moved on")
        for process in processes.values():
            process.check()
    finally:
        for process in processes.values():
            process.stop()
