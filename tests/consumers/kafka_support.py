"""Helpers for the Kafka integration tests: run `ledger` commands, publish histories, read topics
with independent clients (confluent-kafka / librdkafka and kcat)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import orjson

from consumers.binding import to_binary
from consumers.clients import KafkaEndpoint
from consumers.topics import TopicNames

LEDGER = str(Path(sys.executable).parent / "ledger")
ORG_TOPIC = {"IMG": "ledger.inbound.img", "NCG": "ledger.inbound.ncg", "PORTAL": "ledger.inbound.portal"}


def ledger_env(
    home: Path, bootstrap: KafkaEndpoint | str | None, prefix: str = "", store: str | None = None
) -> dict[str, str]:
    """The environment of a `ledger` process for one test's ledger (as the endpoint's principal)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_HOME"] = str(home)
    if store:
        env["LEDGER_STORE"] = store
    if bootstrap:
        env.update(kafka_env(bootstrap))
    env["LEDGER_KAFKA_TOPIC_PREFIX"] = prefix
    env["PYTHONUNBUFFERED"] = "1"
    return env


def kafka_env(bootstrap: KafkaEndpoint | str) -> dict[str, str]:
    """`LEDGER_KAFKA*` for a ledger process that is the endpoint's principal."""
    endpoint = bootstrap if isinstance(bootstrap, KafkaEndpoint) else KafkaEndpoint(bootstrap)
    env = {"LEDGER_KAFKA": endpoint.servers, "LEDGER_KAFKA_SECURITY_PROTOCOL": endpoint.protocol}
    if endpoint.username and endpoint.password:
        env.update(LEDGER_KAFKA_USER=endpoint.username, LEDGER_KAFKA_PASSWORD=endpoint.password)
    return env


def principals(admin: KafkaEndpoint, credentials: Path) -> dict[str, KafkaEndpoint]:
    """The contract's principals (files made by `ledger kafka init --credentials`) on admin's brokers."""
    from consumers.acls import PRINCIPALS

    return {name: admin.as_user(name, (credentials / name).read_text().strip()) for name in PRINCIPALS}


def run_ledger(
    env: dict[str, str], *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess:
    """Run `ledger ARGS` to completion; raise with its output when it fails (and `check`)."""
    proc = subprocess.run(
        [LEDGER, *args], env=env, capture_output=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"ledger {' '.join(args)} exited {proc.returncode}\n--- stderr ---\n{proc.stderr.decode(errors='replace')}"
            f"\n--- stdout ---\n{proc.stdout.decode(errors='replace')[:2000]}"
        )
    return proc


def export(env: dict[str, str]) -> list[dict[str, Any]]:
    out = run_ledger(env, "export").stdout
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]


def generated_history(addresses: int, seed: int) -> list[dict[str, Any]]:
    """`ledger generate` output as publisher submissions (the ledger sets recordedtime itself)."""
    from ledger.generator import generate

    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"ledger-gen-{addresses}-{seed}-{uuid.uuid4().hex[:6]}.jsonl"
    from datetime import date

    with path.open("wb") as handle:
        generate(addresses, seed, date(2024, 12, 31), handle)
    events = [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    path.unlink()
    for event in events:
        event.pop("recordedtime", None)
    return events


def inbound_record(event: dict[str, Any], structured: bool = False) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """A submission as a Kafka record: binary mode (default) or structured mode."""
    if structured:
        return event["subject"].encode(), orjson.dumps(event), [("content-type", b"application/cloudevents+json")]
    return to_binary(event)


def topic_for(event: dict[str, Any], names: TopicNames) -> str:
    return names.prefix + ORG_TOPIC[event["org"]]


def publish_inbound(
    bootstrap: KafkaEndpoint, names: TopicNames, events: list[dict[str, Any]], client_id: str = "test-publisher"
) -> None:
    """Publish `events` on their organisations' inbound topics and wait until every send is acknowledged."""
    from consumers.clients import make_producer

    producer = make_producer(bootstrap, client_id)
    try:
        futures = []
        for event in events:
            key, value, headers = inbound_record(event)
            futures.append(producer.send(topic_for(event, names), key=key, value=value, headers=headers))
        producer.flush(timeout=60)
        for future in futures:
            future.get(timeout=60)
    finally:
        producer.close()


def read_topic_confluent(bootstrap: KafkaEndpoint | str, topic: str, timeout: float = 60.0) -> list[dict[str, Any]]:
    """Every record of `topic`, read with librdkafka (confluent-kafka) from the beginning to the end."""
    import time

    from confluent_kafka import Consumer, TopicPartition

    endpoint = bootstrap if isinstance(bootstrap, KafkaEndpoint) else KafkaEndpoint(bootstrap)
    consumer = Consumer(
        {
            **endpoint.librdkafka_config(),
            "group.id": f"interop-{uuid.uuid4().hex[:8]}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        metadata = consumer.list_topics(topic, timeout=30)
        partitions = sorted(metadata.topics[topic].partitions)
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        out: list[dict[str, Any]] = []
        pending = {p for p, end in ends.items() if end > 0}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for msg in consumer.consume(num_messages=5000, timeout=1.0):
                if msg.error():
                    raise AssertionError(f"confluent-kafka: {msg.error()}")
                out.append(
                    {
                        "partition": msg.partition(),
                        "offset": msg.offset(),
                        "key": msg.key(),
                        "value": msg.value(),
                        "headers": list(msg.headers() or []),
                    }
                )
                offset, partition = msg.offset(), msg.partition()
                if offset is not None and partition is not None and offset + 1 >= ends[partition]:
                    pending.discard(partition)
        assert not pending, f"confluent-kafka did not reach the end of {topic} partitions {sorted(pending)}"
        return out
    finally:
        consumer.close()


def read_topic_kcat(bootstrap: KafkaEndpoint | str, topic: str, timeout: float = 120.0) -> list[dict[str, Any]]:
    """Every record of `topic`, read with kcat (-J: one JSON envelope per record; SASL settings as -X)."""
    kcat = shutil.which("kcat")
    assert kcat, "kcat is not installed (Debian package kcat; scripts/install.sh --test installs it)"
    endpoint = bootstrap if isinstance(bootstrap, KafkaEndpoint) else KafkaEndpoint(bootstrap)
    settings = [f"-X{key}={value}" for key, value in endpoint.librdkafka_config().items() if key != "bootstrap.servers"]
    proc = subprocess.run(
        [kcat, "-C", "-b", endpoint.servers, *settings, "-t", topic, "-o", "beginning", "-e", "-J", "-q"],
        env=_kcat_env(endpoint),
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    out = []
    for line in proc.stdout.splitlines():
        record = json.loads(line)
        pairs = record.get("headers") or []
        out.append(
            {
                "partition": record["partition"],
                "offset": record["offset"],
                "key": record["key"].encode() if record.get("key") is not None else None,
                "value": record["payload"].encode() if record.get("payload") is not None else None,
                "headers": [(pairs[i], pairs[i + 1].encode()) for i in range(0, len(pairs), 2)],
            }
        )
    return out


def _kcat_env(endpoint: KafkaEndpoint) -> dict[str, str]:
    """kcat's environment. Debian's kcat links the system librdkafka (2.0.2 in bookworm), whose
    SCRAM client-final message repeats the client nonce; Kafka 4 checks the nonce strictly
    (RFC 5802) and refuses it (librdkafka#4895, fixed in 2.6.1). With SCRAM, kcat therefore
    loads the librdkafka that the pinned confluent-kafka wheel ships: the same kcat, a fixed
    library."""
    env = dict(os.environ)
    if not endpoint.protocol.startswith("SASL"):
        return env
    import glob

    import confluent_kafka

    (bundled,) = glob.glob(
        str(Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs" / "librdkafka-*.so.1")
    )
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"ledger-kcat-librdkafka-{confluent_kafka.libversion()[0]}"
    folder.mkdir(exist_ok=True)
    link = folder / "librdkafka.so.1"
    if not (link.is_symlink() and link.resolve() == Path(bundled).resolve()):
        link.unlink(missing_ok=True)  # also a link left dangling by an older wheel
        link.symlink_to(bundled)
    env["LD_LIBRARY_PATH"] = str(folder)
    return env


def decode_independently(record: dict[str, Any]) -> dict[str, Any]:
    """A binary-mode record as a stored event, decoded by the CloudEvents binding's rules alone
    (not by the ledger's own code): ce_* headers are attributes, content-type is datacontenttype,
    the value is data; streamposition is an Integer attribute."""
    event: dict[str, Any] = {}
    for key, raw in record["headers"]:
        text = raw.decode("utf-8")
        if key.startswith("ce_"):
            event[key[3:]] = int(text) if key == "ce_streamposition" else text
        elif key.lower() == "content-type":
            event["datacontenttype"] = text
    event["data"] = json.loads(record["value"])
    return event


def delete_topics(bootstrap: KafkaEndpoint | str, names: TopicNames) -> None:
    """Remove a test's prefixed topics from a shared broker."""
    from consumers.clients import make_admin

    admin = make_admin(bootstrap, "ledger-tests-cleanup")
    try:
        existing = set(admin.list_topics())
        doomed = [t for t in (*names.all, names.checkpoints) if t in existing]
        if doomed:
            admin.delete_topics(doomed)
    finally:
        admin.close()


def store_rows(location: Any) -> dict[str, tuple[Any, ...]]:
    """Every row of a location's active projection store: subject -> (position, events, view, attention, summary)."""
    store = location.open_active()
    try:
        summaries = {subject: bytes(summary) for subject, summary, _ in store.summaries()}
        out = {}
        for subject in store.subjects():
            case = store.case(subject)
            assert case is not None
            out[subject] = (
                case.streamposition,
                case.events,
                bytes(case.view),
                bytes(case.attention),
                summaries[subject],
            )
        return out
    finally:
        store.close()


def reference_rows(env: dict[str, str], folder: Path) -> dict[str, tuple[Any, ...]]:
    """The rows of a clean rebuild from the event store (the embedded projector's code), in `folder`."""
    from ledger.adapters.raw import RawReader
    from ledger.bootstrap import Settings, open_ledger
    from projections.rebuild import rebuild
    from projections.store.sqlite import SQLiteLocation

    settings = Settings(
        home=Path(env["LEDGER_HOME"]),
        store_url=env.get("LEDGER_STORE") or f"sqlite:///{Path(env['LEDGER_HOME']).absolute() / 'events.sqlite'}",
    )
    ledger = open_ledger(settings)
    reader = RawReader(ledger)
    try:
        location = SQLiteLocation(folder)
        rebuild(location, reader, ledger.app.index.load_streams, ledger.log.max_position)
        return store_rows(location)
    finally:
        reader.close()
        ledger.close()
