"""On a real broker: personal data never stays on Kafka (contract §2).

A record rejected as `personal_data` reaches `ledger.rejections` without its payload, and the
inbound and rejection topics keep records for a bounded time (default 30 days; `ledger.events`
forever), also when `ledger kafka init` finds them with infinite retention.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from consumers.asyncapi import asyncapi_document
from consumers.clients import KafkaEndpoint, make_admin, make_producer
from consumers.intake import H_CODE, H_OFFSET, H_PARTITION, H_RESULT, H_SHA256, H_TOPIC, H_WITHHELD
from consumers.topics import TopicNames
from tests.consumers.kafka_support import delete_topics, inbound_record, ledger_env, read_topic_confluent, run_ledger
from tests.factories import event, subject

BSN = "111222333"  # nine digits passing the eleven-test
DAY_MS = 86_400_000


def _retention(bootstrap: str, topics: list[str], key: str = "retention.ms") -> dict[str, str]:
    """A config of each topic as the broker describes it (its effective value)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    admin = make_admin(bootstrap, "ledger-tests-describe")
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t, {key: None}) for t in topics], config_filter="all"
        )
    finally:
        admin.close()
    return {t: described["topic"][t][key]["value"] for t in topics}


@pytest.fixture
def names(kafka_bootstrap: KafkaEndpoint) -> Iterator[TopicNames]:
    names = TopicNames(f"r{uuid.uuid4().hex[:8]}.")
    yield names
    delete_topics(kafka_bootstrap, names)


def _init(env: dict[str, str], *extra: str) -> str:
    return run_ledger(env, "kafka", "init", "--partitions", "1", "--inbound-partitions", "1", *extra).stdout.decode()


def test_a_bsn_is_rejected_and_reaches_ledger_rejections_without_its_payload(
    kafka_bootstrap: KafkaEndpoint, names: TopicNames, tmp_path: Path
) -> None:
    env = ledger_env(tmp_path, kafka_bootstrap, names.prefix)
    _init(env)
    address = subject(77)
    in_data = event(
        "ConsentToDataExchangeGiven", "resident", {"party_ref": BSN, "scope": "both"}, address=address, org="IMG"
    )
    in_actor = dict(
        event("ConsentToDataExchangeGiven", "resident", {"party_ref": "p-1", "scope": "both"}, address=address),
        actor=BSN,
    )
    structured = event(
        "ConsentToDataExchangeGiven", "resident", {"party_ref": BSN, "scope": "ncg_to_img"}, address=address, org="NCG"
    )
    sent: list[tuple[str, bytes, Any]] = []
    producer = make_producer(kafka_bootstrap, "rejections-publisher")
    try:
        for topic, evt, mode in (
            (names.prefix + "ledger.inbound.img", in_data, False),
            (names.prefix + "ledger.inbound.img", in_actor, False),
            (names.prefix + "ledger.inbound.ncg", structured, True),
        ):
            key, value, headers = inbound_record(evt, structured=mode)
            assert BSN.encode() in value + b"".join(v for _, v in headers)
            meta = producer.send(topic, value=value, key=key, headers=headers).get(timeout=60)
            sent.append((topic, value, meta))
    finally:
        producer.close()

    run_ledger(env, "intake", "--once", "--max-idle", "30")

    rejections = read_topic_confluent(kafka_bootstrap, names.rejections)
    assert len(rejections) == len(sent)
    message = asyncapi_document()["components"]["messages"]["PersonalDataRejection"]
    by_offset = {(dict(r["headers"])[H_TOPIC].decode(), int(dict(r["headers"])[H_OFFSET])): r for r in rejections}
    for topic, value, meta in sent:
        record = by_offset[(topic, meta.offset)]
        everything = b"".join(
            [record["key"] or b"", record["value"] or b"", *(k.encode() + v for k, v in record["headers"])]
        )
        assert BSN.encode() not in everything, f"the BSN is on {names.rejections}: {record}"
        assert not record["value"], "the payload must be withheld"
        assert not any(k.startswith("ce_") or k == "content-type" for k, _ in record["headers"])
        headers = dict(record["headers"])
        assert headers[H_CODE] == b"personal_data" and headers[H_WITHHELD] == b"true"
        assert int(headers[H_PARTITION]) == meta.partition
        assert headers[H_SHA256].decode() == hashlib.sha256(value).hexdigest()
        body = orjson.loads(headers[H_RESULT])
        assert body["result"] == "rejected" and body["code"] == "personal_data"
        assert body["message"] and body["path"] in ("$.data.party_ref", "$.actor")
        assert (body["topic"], body["partition"], body["offset"]) == (topic, meta.partition, meta.offset)
        assert body["sha256"] == hashlib.sha256(value).hexdigest()
        assert record["key"] == address.encode()  # the address (a BAG id) is kept: not personal data
        plain = {k: v.decode() for k, v in record["headers"]}
        plain[H_TOPIC] = plain[H_TOPIC].removeprefix(names.prefix)  # the document names the unprefixed topics
        jsonschema.Draft7Validator(message["headers"]).validate(plain)
    assert not run_ledger(env, "export").stdout.strip()  # nothing was appended


def test_init_bounds_the_inbound_and_rejection_topics_to_30_days_by_default(
    kafka_bootstrap: KafkaEndpoint, names: TopicNames, tmp_path: Path
) -> None:
    env = ledger_env(tmp_path, kafka_bootstrap, names.prefix)
    _init(env)
    retention = _retention(kafka_bootstrap, list(names.all))
    assert retention[names.events] == "-1"
    for topic in [*names.inbound, names.rejections]:
        assert retention[topic] == str(30 * DAY_MS), topic


def test_the_retention_follows_the_setting_and_the_option(
    kafka_bootstrap: KafkaEndpoint, names: TopicNames, tmp_path: Path
) -> None:
    env = dict(ledger_env(tmp_path, kafka_bootstrap, names.prefix), LEDGER_KAFKA_RETENTION_DAYS="7")
    _init(env)
    bounded = [*names.inbound, names.rejections]
    retention = _retention(kafka_bootstrap, list(names.all))
    assert retention[names.events] == "-1"
    assert {retention[t] for t in bounded} == {str(7 * DAY_MS)}
    out = _init(env, "--retention-days", "3")  # the option wins over the environment, on existing topics too
    assert "4 altered" in out, out
    retention = _retention(kafka_bootstrap, list(names.all))
    assert retention[names.events] == "-1"
    assert {retention[t] for t in bounded} == {str(3 * DAY_MS)}


def test_init_alters_existing_topics_that_keep_records_forever(
    kafka_bootstrap: KafkaEndpoint, names: TopicNames, tmp_path: Path
) -> None:
    admin = make_admin(kafka_bootstrap, "ledger-tests-precreate")
    try:
        admin.create_topics(
            {
                topic: {
                    "num_partitions": 1,
                    "replication_factor": 1,
                    "configs": {"retention.ms": "-1", "cleanup.policy": "delete", "max.message.bytes": "2000000"},
                }
                for topic in names.all
            },
            timeout_ms=60_000,
        )
        admin.wait_for_topics(list(names.all), timeout_ms=60_000)
    finally:
        admin.close()
    assert set(_retention(kafka_bootstrap, list(names.all)).values()) == {"-1"}

    env = ledger_env(tmp_path, kafka_bootstrap, names.prefix)
    out = _init(env)
    assert "1 created, 5 already there, 4 altered" in out, out  # ledger.checkpoints is new
    retention = _retention(kafka_bootstrap, list(names.all))
    assert retention[names.events] == "-1"
    for topic in [*names.inbound, names.rejections]:
        assert retention[topic] == str(30 * DAY_MS), topic
    # Only the retention was changed: the topics' other settings are as they were.
    assert set(_retention(kafka_bootstrap, list(names.all), "max.message.bytes").values()) == {"2000000"}
    again = _init(env)
    assert "0 altered" in again, again
