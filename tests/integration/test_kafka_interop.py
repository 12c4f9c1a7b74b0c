"""Interoperability on a real broker: inbound topics -> intake -> store -> relay -> `ledger.events`,
read back with independent clients (confluent-kafka / librdkafka and kcat) and checked against
`ledger export`, the JSON Schemas and the AsyncAPI document."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from consumers.asyncapi import asyncapi_document
from consumers.clients import KafkaEndpoint, make_producer
from consumers.intake import H_CODE, H_RESULT
from consumers.topics import TopicNames
from domain.catalogue import CATALOGUE
from domain.schemas import SCHEMA_DIR
from projections.store.sqlite import SQLiteLocation
from tests.consumers.kafka_support import (
    decode_independently,
    delete_topics,
    export,
    generated_history,
    inbound_record,
    ledger_env,
    read_topic_confluent,
    read_topic_kcat,
    reference_rows,
    run_ledger,
    store_rows,
    topic_for,
)

BAD_RECORDS = 3


@pytest.fixture(scope="module")
def flow(kafka_bootstrap: KafkaEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One history through the whole Kafka path, on topics of its own (a unique prefix)."""
    home = tmp_path_factory.mktemp("interop")
    names = TopicNames(f"t{uuid.uuid4().hex[:8]}.")
    env = ledger_env(home, kafka_bootstrap, names.prefix)
    init = run_ledger(env, "kafka", "init", "--partitions", "6", "--inbound-partitions", "3").stdout.decode()
    assert "6 created" in init, init
    again = run_ledger(env, "kafka", "init").stdout.decode()
    assert "0 created, 6 already there" in again, again

    events = generated_history(60, seed=11)
    producer = make_producer(kafka_bootstrap, "interop-publisher")
    futures = []
    for i, event in enumerate(events):
        key, value, headers = inbound_record(event, structured=i % 7 == 0)
        futures.append(producer.send(topic_for(event, names), value=value, key=key, headers=headers))
    img_event = next(e for e in events if e["org"] == "IMG")
    _, bad_value, bad_headers = inbound_record(dict(img_event, id=str(uuid.uuid4())))  # IMG's event, NCG's topic
    futures.append(producer.send(names.prefix + "ledger.inbound.img", value=b"{not json", key=b"junk"))
    futures.append(producer.send(names.prefix + "ledger.inbound.portal", value=b"{}", headers=[("ce_id", b"x")]))
    futures.append(producer.send(names.prefix + "ledger.inbound.ncg", value=bad_value, headers=bad_headers))
    producer.flush(timeout=60)
    for future in futures:
        future.get(timeout=60)
    producer.close()

    run_ledger(env, "intake", "--once", "--max-idle", "30")
    run_ledger(env, "relay", "--once")
    yield {"env": env, "names": names, "events": events, "bootstrap": kafka_bootstrap}
    delete_topics(kafka_bootstrap, names)


def _stored_validator() -> jsonschema.Draft202012Validator:
    schema = orjson.loads((SCHEMA_DIR / "stored-event.v1.json").read_bytes())
    return jsonschema.Draft202012Validator(schema)


def _type_validators() -> dict[str, jsonschema.Draft202012Validator]:
    return {
        t: jsonschema.Draft202012Validator(orjson.loads((SCHEMA_DIR / f"{t}.json").read_bytes())) for t in CATALOGUE
    }


def _check_against_export(records: list[dict[str, Any]], exported: list[dict[str, Any]], client: str) -> None:
    decoded = [decode_independently(r) for r in records]
    assert len(decoded) == len(exported), f"{client}: {len(decoded)} records, {len(exported)} exported"
    by_id = {e["id"]: e for e in exported}
    assert Counter(e["id"] for e in decoded) == Counter(list(by_id)), f"{client}: ids differ from the export"
    for record, event in zip(records, decoded, strict=True):
        assert event == by_id[event["id"]], f"{client}: record differs from its exported event"
        assert record["key"] == event["subject"].encode()
    stored, per_type = _stored_validator(), _type_validators()
    for event in decoded:
        stored.validate(event)
        publisher_form = {
            k: v for k, v in event.items() if k not in ("recordedtime", "streamposition", "prevhash", "hash")
        }
        per_type[event["type"]].validate(publisher_form)
    # Each address lives in one partition, in stream order.
    partitions: dict[str, set[int]] = {}
    last: dict[str, tuple[int, int]] = {}
    for record, event in sorted(zip(records, decoded, strict=True), key=lambda x: (x[0]["partition"], x[0]["offset"])):
        partitions.setdefault(event["subject"], set()).add(record["partition"])
        previous = last.get(event["subject"], (record["partition"], 0))[1]
        assert event["streamposition"] == previous + 1, f"{client}: {event['subject']} out of order"
        last[event["subject"]] = (record["partition"], event["streamposition"])
    assert all(len(p) == 1 for p in partitions.values())


def test_every_submitted_event_is_stored_once_and_bad_records_are_rejected(flow: dict[str, Any]) -> None:
    exported = export(flow["env"])
    assert sorted(e["id"] for e in exported) == sorted(e["id"] for e in flow["events"])
    assert "verify: intact" in run_ledger(flow["env"], "verify").stdout.decode()
    rejections = read_topic_confluent(flow["bootstrap"], flow["names"].rejections)
    assert len(rejections) == BAD_RECORDS
    codes = sorted(dict(r["headers"])[H_CODE].decode() for r in rejections)
    assert codes == ["not_authorized", "schema_invalid", "schema_invalid"]
    junk = next(r for r in rejections if r["key"] == b"junk")
    assert junk["value"] == b"{not json"
    assert orjson.loads(dict(junk["headers"])[H_RESULT])["result"] == "rejected"


def test_librdkafka_reads_exactly_the_export(flow: dict[str, Any]) -> None:
    records = read_topic_confluent(flow["bootstrap"], flow["names"].events)
    _check_against_export(records, export(flow["env"]), "confluent-kafka")


def test_kcat_reads_exactly_the_export(flow: dict[str, Any]) -> None:
    records = read_topic_kcat(flow["bootstrap"], flow["names"].events)
    _check_against_export(records, export(flow["env"]), "kcat")


def test_records_match_the_asyncapi_messages(flow: dict[str, Any]) -> None:
    doc = asyncapi_document()
    messages, schemas = doc["components"]["messages"], doc["components"]["schemas"]
    for record in read_topic_confluent(flow["bootstrap"], flow["names"].events):
        headers = {k: v.decode() for k, v in record["headers"]}
        name = CATALOGUE[headers["ce_type"]].name
        message = messages[f"Stored{name}"]
        jsonschema.Draft7Validator(message["headers"]).validate(headers)
        jsonschema.Draft7Validator(schemas[f"{name}Data"]).validate(orjson.loads(record["value"]))
        jsonschema.Draft7Validator(message["bindings"]["kafka"]["key"]).validate(record["key"].decode())


def test_a_second_relay_run_sends_nothing_new(flow: dict[str, Any]) -> None:
    before = len(read_topic_confluent(flow["bootstrap"], flow["names"].events))
    run_ledger(flow["env"], "relay", "--once")
    run_ledger(flow["env"], "intake", "--once", "--max-idle", "30")
    assert len(read_topic_confluent(flow["bootstrap"], flow["names"].events)) == before


def test_consume_and_rebuild_from_kafka_equal_a_rebuild_from_the_store(flow: dict[str, Any], tmp_path: Path) -> None:
    env = flow["env"]
    location = SQLiteLocation(Path(env["LEDGER_HOME"]) / "projections-kafka")
    run_ledger(env, "consume", "--once", "--max-idle", "60")
    reference = reference_rows(env, tmp_path / "reference")
    assert len(reference) == len({e["subject"] for e in flow["events"]})
    assert store_rows(location) == reference
    summary = orjson.loads(run_ledger(env, "rebuild", "--from", "kafka", "--no-progress", "--json").stdout)
    assert summary["addresses"] == len(reference) and summary["topic"] == flow["names"].events
    assert summary["records"] >= len(flow["events"])  # every event on ledger.events, a re-sent one counted again
    assert store_rows(location) == reference
    again = run_ledger(env, "consume", "--once", "--max-idle", "60").stderr.decode()
    stopped = next(orjson.loads(line) for line in again.splitlines() if '"consume stopped"' in line)
    assert stopped["applied"] == 0  # the rebuilt store's partition positions were picked up


def test_kafka_commands_refuse_without_ledger_kafka(tmp_path: Path) -> None:
    env = ledger_env(tmp_path, None)
    for args in (("kafka", "init"), ("relay", "--once"), ("intake", "--once"), ("consume", "--once")):
        proc = run_ledger(env, *args, check=False)
        assert proc.returncode == 2 and b"LEDGER_KAFKA is not set" in proc.stderr


def test_the_kafka_path_on_postgresql(kafka_bootstrap: KafkaEndpoint, postgres_database: str, tmp_path: Path) -> None:
    """The same path with the event store and the projections on PostgreSQL: the relay's position in
    the library's tracking table, the Kafka-fed projections in their own schema."""
    from projections.store.postgres import PostgresLocation

    names = TopicNames(f"p{uuid.uuid4().hex[:8]}.")
    env = ledger_env(tmp_path / "home", kafka_bootstrap, names.prefix, store=postgres_database)
    try:
        run_ledger(env, "kafka", "init", "--partitions", "3", "--inbound-partitions", "2")
        events = generated_history(25, seed=5)
        producer = make_producer(kafka_bootstrap, "interop-pg-publisher")
        for event in events:
            key, value, headers = inbound_record(event)
            producer.send(topic_for(event, names), value=value, key=key, headers=headers).get(timeout=60)
        producer.close()
        run_ledger(env, "intake", "--once", "--max-idle", "30")
        run_ledger(env, "relay", "--once")
        exported = export(env)
        assert sorted(e["id"] for e in exported) == sorted(e["id"] for e in events)
        records = read_topic_confluent(kafka_bootstrap, names.events)
        _check_against_export(records, exported, "confluent-kafka (PostgreSQL store)")
        run_ledger(env, "relay", "--once")
        assert len(read_topic_confluent(kafka_bootstrap, names.events)) == len(records)
        run_ledger(env, "consume", "--once", "--max-idle", "60")
        location = PostgresLocation(postgres_database, "projections_kafka")
        try:
            assert store_rows(location) == reference_rows(env, tmp_path / "reference")
        finally:
            location.close()
    finally:
        delete_topics(kafka_bootstrap, names)
