"""The servers from deploy/ work: PostgreSQL takes SQL, Kafka takes and gives back records."""

from __future__ import annotations

import time
import uuid

import psycopg
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from consumers.clients import KafkaEndpoint
from tests import servers


def test_postgres_accepts_connection(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SHOW fsync").fetchone() == ("on",)


def test_postgres_create_insert_select(postgres_database: str) -> None:
    with psycopg.connect(postgres_database) as conn:
        conn.execute("CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL)")
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO item (id, name) VALUES (%s, %s)",
                [(i, f"name-{i}") for i in range(10)],
            )
        conn.commit()
    with psycopg.connect(postgres_database) as conn:
        rows = conn.execute("SELECT id, name FROM item ORDER BY id").fetchall()
    assert rows == [(i, f"name-{i}") for i in range(10)]


def test_fresh_database_is_empty_and_dropped(postgres_url: str) -> None:
    url = servers.fresh_postgres_database(postgres_url)
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(url) as conn:
        tables = conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'").fetchone()
        assert tables == (0,)
    servers.drop_database(url)
    with psycopg.connect(postgres_url) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
    assert found is None


def test_kafka_produce_and_consume(kafka_bootstrap: KafkaEndpoint) -> None:
    topic = f"test-servers-{uuid.uuid4().hex[:12]}"
    admin = KafkaAdminClient(**kafka_bootstrap.client_config(), client_id="test-servers")
    try:
        admin.create_topics({topic: {"num_partitions": 3, "replication_factor": 1}}, wait_for_metadata=True)
        assert topic in admin.list_topics()

        sent = [(f"key-{i % 7}".encode(), f"value-{i}".encode()) for i in range(100)]
        producer = KafkaProducer(**kafka_bootstrap.client_config(), acks="all")
        try:
            futures = [producer.send(topic, key=k, value=v) for k, v in sent]
            producer.flush(timeout=30)
            metadata = [f.get(timeout=30) for f in futures]
        finally:
            producer.close()
        assert all(m.topic == topic for m in metadata)

        consumer = KafkaConsumer(
            **kafka_bootstrap.client_config(),
            group_id=f"test-servers-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        received: list[ConsumerRecord] = []
        try:
            consumer.subscribe([topic])
            deadline = time.monotonic() + 60
            while len(received) < len(sent) and time.monotonic() < deadline:
                for records in consumer.poll(timeout_ms=1000).values():
                    received.extend(records)
        finally:
            consumer.close()

        assert len(received) == len(sent)
        assert sorted((r.key, r.value) for r in received) == sorted(sent)
        # Each key stays in one partition, in the order it was produced.
        for key in {k for k, _ in sent}:
            produced = [v for k, v in sent if k == key]
            consumed = [r for r in received if r.key == key]
            assert len({r.partition for r in consumed}) == 1
            consumed.sort(key=lambda r: r.offset)
            assert [r.value for r in consumed] == produced
        # What the producer was told matches what the consumer read.
        acked = {(m.partition, m.offset) for m in metadata}
        assert acked == {(r.partition, r.offset) for r in received}
        assert {TopicPartition(topic, p) for p in range(3)} >= {TopicPartition(r.topic, r.partition) for r in received}
    finally:
        admin.delete_topics([topic])
        admin.close()
