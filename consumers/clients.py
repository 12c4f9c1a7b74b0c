"""kafka-python clients with the project's pinned settings (DESIGN §3), and topic creation.

Producers: `acks="all"`, idempotence on, unlimited retries within a bounded delivery timeout.
Consumers: `enable_auto_commit=False`, `auto_offset_reset="earliest"`. Every other module gets
its clients from here, so the settings live in one place.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner.default import DefaultPartitioner, murmur2

from consumers.topics import (
    DEFAULT_RETENTION_DAYS,
    RECONCILED_CONFIGS,
    TopicNames,
    TopicSpec,
    checkpoint_spec,
    topic_specs,
)

# Short enough that a dead broker is noticed and logged within seconds, long enough for a
# KRaft leader election (about 20 s after a hard kill) to be ridden out by the client itself.
REQUEST_TIMEOUT_MS = 15_000
DELIVERY_TIMEOUT_MS = 60_000
BOOTSTRAP_TIMEOUT_MS = 10_000
MAX_BLOCK_MS = 15_000
METADATA_MAX_AGE_MS = 10_000


SCRAM_MECHANISM = "SCRAM-SHA-512"  # contract trust §1
SECURITY_PROTOCOLS = ("PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL")


@dataclass(frozen=True)
class KafkaEndpoint:
    """Where the brokers are and who we are to them: bootstrap servers and SASL/SCRAM credentials.

    `PLAINTEXT` (no credentials) is for a broker without authentication; the contract's brokers
    take `SASL_PLAINTEXT` on loopback and `SASL_SSL` elsewhere (`cafile`: the brokers' CA). The
    password never appears in `repr`, `str` or an error.
    """

    servers: str
    protocol: str = "PLAINTEXT"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None

    def __post_init__(self) -> None:
        if self.protocol not in SECURITY_PROTOCOLS:
            raise ValueError(f"Kafka security protocol {self.protocol!r}: one of {', '.join(SECURITY_PROTOCOLS)}")
        if self.protocol.startswith("SASL") and not (self.username and self.password):
            raise ValueError(f"Kafka security protocol {self.protocol} needs a user name and a password")

    def __str__(self) -> str:
        who = f"{self.username}@" if self.username and self.protocol.startswith("SASL") else ""
        return f"{who}{self.servers}"

    def client_config(self) -> dict[str, Any]:
        """kafka-python's settings for this endpoint (servers and security)."""
        config: dict[str, Any] = {"bootstrap_servers": servers(self.servers), "security_protocol": self.protocol}
        if self.protocol.startswith("SASL"):
            config.update(
                sasl_mechanism=SCRAM_MECHANISM, sasl_plain_username=self.username, sasl_plain_password=self.password
            )
        if self.protocol == "SASL_SSL" and self.cafile:
            config["ssl_cafile"] = self.cafile
        return config

    def librdkafka_config(self) -> dict[str, str]:
        """The same settings in librdkafka's names (confluent-kafka, kcat `-X`)."""
        config = {"bootstrap.servers": self.servers, "security.protocol": self.protocol.lower()}
        if self.protocol.startswith("SASL"):
            config.update(
                {
                    "sasl.mechanisms": SCRAM_MECHANISM,
                    "sasl.username": str(self.username),
                    "sasl.password": str(self.password),
                }
            )
        if self.protocol == "SASL_SSL" and self.cafile:
            config["ssl.ca.location"] = self.cafile
        return config

    def as_user(self, username: str, password: str) -> KafkaEndpoint:
        """The same brokers as another principal (SASL_PLAINTEXT unless this endpoint uses SSL)."""
        protocol = "SASL_SSL" if self.protocol == "SASL_SSL" else "SASL_PLAINTEXT"
        return KafkaEndpoint(self.servers, protocol, username, password, self.cafile)


Bootstrap = KafkaEndpoint | str  # a plain string: servers of a broker without authentication


def endpoint(bootstrap: Bootstrap) -> KafkaEndpoint:
    return bootstrap if isinstance(bootstrap, KafkaEndpoint) else KafkaEndpoint(bootstrap)


def servers(bootstrap: Bootstrap) -> list[str]:
    """`host:port,host:port` as the list kafka-python takes."""
    text = bootstrap.servers if isinstance(bootstrap, KafkaEndpoint) else bootstrap
    return [s.strip() for s in text.split(",") if s.strip()]


def keyed_partition(key: bytes, partitions: Sequence[int]) -> int:
    """The partition kafka-python's `DefaultPartitioner` picks for a non-null key (Java's default:
    murmur2 of the key, made positive, modulo the partition count, over the sorted partitions)."""
    return partitions[(murmur2(key) & 0x7FFFFFFF) % len(partitions)]


class CachedMurmur2Partitioner(DefaultPartitioner):
    """Java's default keyed partitioning (murmur2 of the key, positive, modulo partitions), cached.

    kafka-python's murmur2 is pure Python (about 20 µs a key); addresses repeat, so the hash of
    each key is remembered (bounded). The chosen partition equals the Java client's.
    """

    def __init__(self, max_keys: int = 1_000_000) -> None:
        self._hashes: dict[bytes, int] = {}
        self._max_keys = max_keys

    def partition(
        self, topic: str, key: Any, serialized_key: bytes | None, value: Any, serialized_value: Any, cluster: Any
    ) -> int:
        if serialized_key is None:
            return int(super().partition(topic, key, serialized_key, value, serialized_value, cluster))
        hashed = self._hashes.get(serialized_key)
        if hashed is None:
            if len(self._hashes) >= self._max_keys:
                self._hashes.clear()
            hashed = murmur2(serialized_key) & 0x7FFFFFFF
            self._hashes[serialized_key] = hashed
        partitions = cluster.partitions_for_topic(topic)
        if not partitions:
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        return hashed % len(partitions)


def make_producer(bootstrap: Bootstrap, client_id: str, **overrides: Any) -> KafkaProducer:
    """An idempotent producer with acks=all, batching tuned for the relay's bulk sends."""
    config: dict[str, Any] = {
        **endpoint(bootstrap).client_config(),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 5,
        "batch_size": 512 * 1024,
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "delivery_timeout_ms": DELIVERY_TIMEOUT_MS,
        "max_block_ms": MAX_BLOCK_MS,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        "allow_auto_create_topics": False,
        "partitioner": CachedMurmur2Partitioner(),
        "metrics_enabled": False,
        "reconnect_backoff_max_ms": 2_000,
        "metadata_max_age_ms": METADATA_MAX_AGE_MS,
    }
    config.update(overrides)
    return KafkaProducer(**config)


def make_consumer(bootstrap: Bootstrap, client_id: str, group_id: str | None, **overrides: Any) -> KafkaConsumer:
    """A consumer that never auto-commits and starts from the earliest record when it has no position."""
    config: dict[str, Any] = {
        **endpoint(bootstrap).client_config(),
        "client_id": client_id,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_uncommitted",  # no producer of ours uses transactions
        "max_poll_records": 2_000,
        "max_partition_fetch_bytes": 8 * 1024 * 1024,
        "fetch_max_bytes": 64 * 1024 * 1024,
        "request_timeout_ms": REQUEST_TIMEOUT_MS * 2,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        "session_timeout_ms": 10_000,  # a killed member's partitions move on after 10 s
        "heartbeat_interval_ms": 3_000,
        # Also the rebalance timeout: how long a group's rebalance may wait for a member that
        # joined and died (kill -9 sends no LeaveGroup). Our loops poll continuously and a batch
        # takes seconds, so one minute bounds such a wait without cutting off a live member.
        "max_poll_interval_ms": 60_000,
        "allow_auto_create_topics": False,
        "metrics_enabled": False,
        "reconnect_backoff_max_ms": 2_000,
        # After a broker restart the group may be formed while the broker still reports the topic
        # without partitions (every member gets nothing); the members notice the partitions and
        # rejoin at the next metadata refresh, so refresh often (the default is 5 minutes).
        "metadata_max_age_ms": METADATA_MAX_AGE_MS,
    }
    config.update(overrides)
    return KafkaConsumer(**config)


def make_admin(bootstrap: Bootstrap, client_id: str = "ledger-admin", **overrides: Any) -> KafkaAdminClient:
    """An admin client (topics, ACLs, SCRAM users: the operator's principal for the last two)."""
    config: dict[str, Any] = {
        **endpoint(bootstrap).client_config(),
        "client_id": client_id,
        "request_timeout_ms": REQUEST_TIMEOUT_MS * 2,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
    }
    config.update(overrides)
    return KafkaAdminClient(**config)


def check_reachable(bootstrap: Bootstrap, topic: str, timeout_ms: int = BOOTSTRAP_TIMEOUT_MS) -> None:
    """Raise unless a broker answers and knows `topic` (kafka-python's own error: KafkaTimeoutError
    "Unable to bootstrap" when none answers, UnknownTopicOrPartitionError when the topic is missing)."""
    from kafka.errors import UnknownTopicOrPartitionError

    admin = make_admin(bootstrap, "ledger-probe", bootstrap_timeout_ms=timeout_ms, request_timeout_ms=timeout_ms)
    try:
        if topic not in set(admin.list_topics()):
            raise UnknownTopicOrPartitionError(f"topic {topic} does not exist (run `ledger kafka init`)")
    finally:
        admin.close()


def broker_count(admin: KafkaAdminClient) -> int:
    """Brokers in the cluster (fenced ones included: they count for replication)."""
    return len(admin.describe_cluster()["brokers"])


def ensure_topics(
    admin: KafkaAdminClient, specs: Sequence[TopicSpec], timeout_ms: int = 60_000
) -> tuple[list[str], list[str]]:
    """Create the topics that do not exist yet; return (created, already there). Idempotent.

    Existing topics keep their partitions (changing them would move addresses to other partitions
    and break per-address order); `reconcile_configs` brings their retention in line.
    """
    existing = set(admin.list_topics())
    missing = [s for s in specs if s.name not in existing]
    created: list[str] = []
    for spec in missing:
        try:
            admin.create_topics(
                {
                    spec.name: {
                        "num_partitions": spec.partitions,
                        "replication_factor": spec.replication,
                        "configs": spec.configs,
                    }
                },
                timeout_ms=timeout_ms,
            )
            created.append(spec.name)
        except TopicAlreadyExistsError:  # created concurrently by another `ledger kafka init`
            pass
    admin.wait_for_topics([s.name for s in specs], timeout_ms=timeout_ms)
    return created, [s.name for s in specs if s.name in existing]


CONFIGS_WAIT_S = 30.0  # how long `topic_configs` waits for brokers that have not seen new topics yet


def topic_configs(admin: KafkaAdminClient, topics: Sequence[str], keys: Sequence[str]) -> dict[str, dict[str, str]]:
    """The effective value of each config in `keys` for each topic (its own or the broker's default)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    if not topics:
        return {}
    resources = [ConfigResource(ConfigResourceType.TOPIC, t, dict.fromkeys(keys)) for t in topics]
    # A broker that has not yet seen topics just created answers without their configs: ask again
    # (any broker may answer) until every topic has every key, for at most CONFIGS_WAIT_S.
    deadline = time.monotonic() + CONFIGS_WAIT_S
    while True:
        described = admin.describe_configs(resources, config_filter="all")["topic"]
        out = {t: {k: v["value"] for k, v in described.get(t, {}).items()} for t in topics}
        missing = sorted(t for t in topics if not set(keys) <= set(out[t]))
        if not missing:
            return out
        if time.monotonic() > deadline:
            raise RuntimeError(f"the brokers did not describe {', '.join(keys)} of {', '.join(missing)} in time")
        time.sleep(0.5)


def reconcile_configs(admin: KafkaAdminClient, specs: Sequence[TopicSpec]) -> dict[str, dict[str, tuple[str, str]]]:
    """Set `RECONCILED_CONFIGS` (the retention) of existing topics to their spec's values.

    Only the keys that differ are altered, incrementally: every other setting of the topic stays.
    Returns topic -> config -> (old, new) for what was changed.
    """
    from kafka.admin import ConfigResource, ConfigResourceType

    current = topic_configs(admin, [s.name for s in specs], RECONCILED_CONFIGS)
    changes: dict[str, dict[str, tuple[str, str]]] = {}
    for spec in specs:
        wanted = {k: spec.configs[k] for k in RECONCILED_CONFIGS if k in spec.configs}
        differ = {k: (current[spec.name].get(k), v) for k, v in wanted.items() if current[spec.name].get(k) != v}
        if differ:
            changes[spec.name] = {k: (str(old), new) for k, (old, new) in differ.items()}
    if not changes:
        return {}
    resources = [
        ConfigResource(ConfigResourceType.TOPIC, name, {k: new for k, (_, new) in diff.items()})
        for name, diff in changes.items()
    ]
    answers = admin.alter_configs(resources, incremental=True).get("topic", {})
    failed = {name: answers.get(name) for name in changes if answers.get(name) != "OK"}
    if failed:
        raise RuntimeError(f"could not alter the configs of {failed}")
    return changes


def init_topics(
    bootstrap: Bootstrap,
    event_partitions: int,
    inbound_partitions: int,
    names: TopicNames | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> dict[str, Any]:
    """`ledger kafka init`: create the five topics and `ledger.checkpoints` for this cluster's size,
    bring the retention of existing ones in line; describe the result."""
    admin = make_admin(bootstrap)
    try:
        brokers = broker_count(admin)
        specs = topic_specs(brokers, event_partitions, inbound_partitions, names, retention_days)
        specs.append(checkpoint_spec(brokers, names))
        created, existed = ensure_topics(admin, specs)
        altered = reconcile_configs(admin, [s for s in specs if s.name not in created])
        described = {t["name"]: len(t["partitions"]) for t in admin.describe_topics([s.name for s in specs])}
        retention = {
            t: c["retention.ms"] for t, c in topic_configs(admin, [s.name for s in specs], ["retention.ms"]).items()
        }
    finally:
        admin.close()
    return {
        "brokers": brokers,
        "created": created,
        "existing": existed,
        "altered": altered,
        "partitions": described,
        "retention_ms": retention,
        "replication": specs[0].replication,
    }


def default_client_id(role: str) -> str:
    return f"ledger-{role}-{socket.gethostname()}"
