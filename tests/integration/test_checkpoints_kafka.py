"""A published checkpoint goes to the Kafka topic ledger.checkpoints (a real broker)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from kafka import TopicPartition

from consumers.clients import KafkaEndpoint, make_consumer
from ledger.checkpoints import TOPIC, kafka_sender, make_checkpoint
from tests.domain.support import open_test_ledger
from tests.trust.support import history
from tests.trust.witnessing import Keys, WitnessProcess


def test_checkpoint_sent_to_kafka(
    kafka_bootstrap: KafkaEndpoint, tmp_path: Path, keys: Keys, witnesses: list[WitnessProcess]
) -> None:
    ledger = open_test_ledger(tmp_path)
    try:
        history(ledger, 2)
        settings = replace(
            ledger.settings,
            kafka=kafka_bootstrap.servers,
            kafka_protocol=kafka_bootstrap.protocol,
            kafka_user=kafka_bootstrap.username,
            kafka_password=kafka_bootstrap.password,
        )
        made = make_checkpoint(
            ledger, keys.ledger, [w.url for w in witnesses], keys.trust, kafka=kafka_sender(settings)
        )
        assert made.published and not made.problems, made.problems
    finally:
        ledger.close()
    consumer = make_consumer(kafka_bootstrap, "test-checkpoints", None)
    try:
        partition = TopicPartition(TOPIC, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        found = False
        end = time.monotonic() + 60
        while not found and time.monotonic() < end:
            for records in consumer.poll(timeout_ms=500).values():
                found = found or any(r.value == made.note.encode() for r in records)
        assert found, "the checkpoint did not reach ledger.checkpoints"
    finally:
        consumer.close()
