"""The trust contract's Kafka principals and ACLs (trust §1) on the secured broker of deploy/kafka.sh.

`ledger kafka init --credentials` creates the principals (SCRAM-SHA-512) and the ACLs; the
broker's StandardAuthorizer (`allow.everyone.if.no.acl.found=false`) then refuses everything
else: `img` cannot write NCG's inbound topic or `ledger.events`, a client without credentials or
with a wrong password gets nowhere, and the roles still work end to end as their own principals
(publishers → intake and relay as `ledger` → `consume` as `projector`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaError

from consumers.acls import PRINCIPALS, contract_grants
from consumers.clients import KafkaEndpoint, make_consumer, make_producer
from consumers.topics import TopicNames
from projections.store.sqlite import SQLiteLocation
from tests.consumers.kafka_support import (
    delete_topics,
    generated_history,
    inbound_record,
    ledger_env,
    principals,
    reference_rows,
    run_ledger,
    store_rows,
    topic_for,
)

ORG_OF = {"img": "IMG", "ncg": "NCG", "portal": "PORTAL"}


@pytest.fixture
def secured(kafka_bootstrap: KafkaEndpoint, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A prefixed set of topics with the contract's principals and ACLs, made by `ledger kafka init`."""
    names = TopicNames(f"acl{uuid.uuid4().hex[:6]}.")
    credentials = tmp_path / "credentials"
    env = ledger_env(tmp_path / "operator", kafka_bootstrap, names.prefix)
    out = run_ledger(
        env, "kafka", "init", "--partitions", "3", "--inbound-partitions", "2", "--credentials", str(credentials)
    ).stdout.decode()
    yield {"names": names, "users": principals(kafka_bootstrap, credentials), "init": out, "tmp": tmp_path}
    delete_topics(kafka_bootstrap, names)


def _send(endpoint: KafkaEndpoint, topic: str) -> None:
    """Produce one record and wait for its acknowledgement (raises what the broker answered)."""
    producer = make_producer(
        endpoint, "acl-test", max_block_ms=10_000, request_timeout_ms=5_000, delivery_timeout_ms=15_000
    )
    try:
        producer.send(topic, key=b"0308010000000001", value=b"{}").get(timeout=20)
    finally:
        producer.close(timeout=5)


def _refused(endpoint: KafkaEndpoint, topic: str) -> str:
    """The error a write of `topic` gets; fails the test when the write is accepted."""
    try:
        _send(endpoint, topic)
    except KafkaError as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError(f"{endpoint.username} could write {topic}")


def _read_one(endpoint: KafkaEndpoint, topic: str) -> int:
    """Records of partition 0 of `topic` as `endpoint`'s principal sees them (assign, no group)."""
    consumer = make_consumer(endpoint, "acl-test-reader", None, request_timeout_ms=15_000)
    try:
        partition = TopicPartition(topic, 0)
        end = consumer.end_offsets([partition])[partition]  # ListOffsets: raises when not authorised
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        records: list[Any] = []
        deadline = time.monotonic() + 30
        while len(records) < end and time.monotonic() < deadline:
            records.extend(consumer.poll(timeout_ms=1_000).get(partition, []))
        return len(records)
    finally:
        consumer.close()


def test_init_names_every_principal_and_grants_what_the_contract_says(secured: dict[str, Any]) -> None:
    names = secured["names"]
    assert "credentials set for img, ledger, ncg, portal, projector" in secured["init"], secured["init"]
    grants = contract_grants(names, names.prefix + "ledger-intake", names.prefix + "ledger-projections")
    assert f"{len(grants)} ACLs of the trust contract in place" in secured["init"], secured["init"]
    writes = {(g.principal, g.name) for g in grants if g.resource == "topic" and g.operation == "WRITE"}
    assert writes == {
        ("ledger", names.events),
        ("ledger", names.rejections),
        ("ledger", names.checkpoints),
        *((principal, names.prefix + f"ledger.inbound.{principal}") for principal in ORG_OF),
    }
    for name in PRINCIPALS:  # passwords were made, mode 0600, and never printed
        path = secured["tmp"] / "credentials" / name
        assert path.stat().st_mode & 0o077 == 0, path
        assert path.read_text().strip() not in secured["init"]


def test_img_cannot_write_ncgs_topic_or_the_ledgers_events(secured: dict[str, Any]) -> None:
    names, img = secured["names"], secured["users"]["img"]
    _send(img, names.prefix + "ledger.inbound.img")  # its own topic: accepted
    for topic in (names.prefix + "ledger.inbound.ncg", names.events, names.rejections, names.checkpoints):
        assert "AuthorizationFailed" in _refused(img, topic), topic


def test_each_publisher_writes_only_its_own_inbound_topic(secured: dict[str, Any]) -> None:
    names, users = secured["names"], secured["users"]
    for principal in ("ncg", "portal"):
        _send(users[principal], names.prefix + f"ledger.inbound.{principal}")
        others = [t for t in names.inbound if t != names.prefix + f"ledger.inbound.{principal}"]
        for topic in [*others, names.events]:
            assert "AuthorizationFailed" in _refused(users[principal], topic), (principal, topic)
    # The projector reads the events and writes nothing.
    assert "AuthorizationFailed" in _refused(users["projector"], names.events)


def test_reading_the_events_is_for_img_ncg_and_the_projector_only(secured: dict[str, Any]) -> None:
    names, users = secured["names"], secured["users"]
    _send(users["ledger"], names.events)  # the ledger's principal writes the distribution log
    for principal in ("img", "ncg", "projector"):
        assert _read_one(users[principal], names.events) == 1, principal
    with pytest.raises(KafkaError, match="TopicAuthorizationFailed"):
        _read_one(users["portal"], names.events)
    with pytest.raises(KafkaError, match="TopicAuthorizationFailed"):
        _read_one(users["img"], names.prefix + "ledger.inbound.ncg")  # nobody reads another's submissions


def test_a_client_without_credentials_or_with_a_wrong_password_is_refused(
    kafka_bootstrap: KafkaEndpoint, secured: dict[str, Any]
) -> None:
    names = secured["names"]
    _send(secured["users"]["img"], names.prefix + "ledger.inbound.img")  # the broker is up and takes img
    # No SASL at all: the broker's only client listener wants a SASL handshake first, so a
    # PLAINTEXT client never gets as far as metadata.
    anonymous = KafkaEndpoint(kafka_bootstrap.servers)
    with pytest.raises(KafkaError, match="Unable to bootstrap"):
        make_producer(anonymous, "acl-anonymous", bootstrap_timeout_ms=5_000, max_block_ms=5_000)
    with pytest.raises(KafkaError, match="Unable to bootstrap"):
        make_consumer(anonymous, "acl-anonymous", None, bootstrap_timeout_ms=5_000)
    wrong = kafka_bootstrap.as_user("img", "not-the-password")
    with pytest.raises(KafkaError):
        _send(wrong, names.prefix + "ledger.inbound.img")
    # librdkafka says why: the broker failed the SCRAM authentication.
    assert "SASL authentication error" in _librdkafka_error(wrong)
    assert _librdkafka_error(secured["users"]["img"]) == ""


def _librdkafka_error(endpoint: KafkaEndpoint) -> str:
    """What kcat (librdkafka) prints when asked for metadata as `endpoint` (empty when it gets it)."""
    import shutil
    import subprocess

    from tests.consumers.kafka_support import _kcat_env

    kcat = shutil.which("kcat")
    assert kcat, "kcat is not installed (scripts/install.sh --test installs it)"
    settings = [f"-X{k}={v}" for k, v in endpoint.librdkafka_config().items() if k != "bootstrap.servers"]
    proc = subprocess.run(
        [kcat, "-L", "-b", endpoint.servers, *settings, "-m", "8"],
        env=_kcat_env(endpoint),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return "" if proc.returncode == 0 else proc.stderr


def test_the_roles_work_end_to_end_as_their_own_principals(secured: dict[str, Any]) -> None:
    """Publishers as img/ncg/portal, intake and relay as `ledger`, consume as `projector`: every
    published event is appended, relayed and projected."""
    names, users, tmp = secured["names"], secured["users"], secured["tmp"]
    events = generated_history(12, seed=31)
    producers = {org: make_producer(users[p], f"acl-publisher-{p}") for p, org in ORG_OF.items()}
    try:
        for event in events:
            key, value, headers = inbound_record(event)
            producers[event["org"]].send(topic_for(event, names), key=key, value=value, headers=headers)
        for producer in producers.values():
            producer.flush(timeout=30)
    finally:
        for producer in producers.values():
            producer.close()
    ledger = ledger_env(tmp / "ledger", users["ledger"], names.prefix)
    run_ledger(ledger, "intake", "--once", "--max-idle", "5")
    run_ledger(ledger, "relay", "--once")
    projector = ledger_env(tmp / "ledger", users["projector"], names.prefix)
    run_ledger(projector, "consume", "--once", "--max-idle", "5")
    assert len(run_ledger(ledger, "export").stdout.splitlines()) == len(events)
    rows = store_rows(SQLiteLocation(tmp / "ledger" / "projections-kafka"))
    assert len(rows) == len({e["subject"] for e in events})
    assert rows == reference_rows(ledger, tmp / "reference")
