"""The five topics of the ledger and their settings (DESIGN §1, §3). No Kafka import here."""

from __future__ import annotations

from dataclasses import dataclass, field

EVENTS = "ledger.events"
REJECTIONS = "ledger.rejections"
INBOUND_IMG = "ledger.inbound.img"
INBOUND_NCG = "ledger.inbound.ncg"
INBOUND_PORTAL = "ledger.inbound.portal"
CHECKPOINTS = "ledger.checkpoints"  # signed checkpoints (trust §2); one partition, kept forever

# The inbound topic decides the organisation (the principal), never the record itself.
INBOUND: dict[str, str] = {INBOUND_IMG: "IMG", INBOUND_NCG: "NCG", INBOUND_PORTAL: "PORTAL"}
ALL_TOPICS = (EVENTS, INBOUND_IMG, INBOUND_NCG, INBOUND_PORTAL, REJECTIONS)

DEFAULT_EVENT_PARTITIONS = 12
DEFAULT_INBOUND_PARTITIONS = 6
DEFAULT_REJECTION_PARTITIONS = 3
REPLICATED_BROKERS = 3  # with at least this many brokers: replication 3, min.insync.replicas 2
DEFAULT_RETENTION_DAYS = 30  # inbound and rejection topics (contract §2: bounded, never forever)
MAX_RETENTION_DAYS = 36_500
DAY_MS = 86_400_000
FOREVER = "-1"
# The settings `ledger kafka init` also makes true on topics that exist already (the others are
# left as they are: partitions and replicas are never changed).
RECONCILED_CONFIGS = ("retention.ms",)


def retention_ms(days: int) -> str:
    """`retention.ms` for a retention of `days` days (1 .. 36,500); never infinite."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        raise ValueError(f"a retention is a whole number of days from 1 to {MAX_RETENTION_DAYS}, not {days!r}")
    return str(days * DAY_MS)


@dataclass(frozen=True)
class TopicNames:
    """The five topic names, optionally behind a prefix (`LEDGER_KAFKA_TOPIC_PREFIX`, e.g. `acc.`).

    A prefix lets several ledgers (test, acceptance) share one cluster; production uses none.
    """

    prefix: str = ""

    @property
    def events(self) -> str:
        return self.prefix + EVENTS

    @property
    def rejections(self) -> str:
        return self.prefix + REJECTIONS

    @property
    def checkpoints(self) -> str:
        return self.prefix + CHECKPOINTS

    @property
    def inbound(self) -> dict[str, str]:
        """Inbound topic -> the organisation it stands for."""
        return {self.prefix + name: org for name, org in INBOUND.items()}

    @property
    def all(self) -> tuple[str, ...]:
        return tuple(self.prefix + name for name in ALL_TOPICS)


@dataclass(frozen=True)
class TopicSpec:
    """One topic as `ledger kafka init` creates it."""

    name: str
    partitions: int
    replication: int
    configs: dict[str, str] = field(default_factory=dict)
    description: str = ""


def topic_specs(
    brokers: int,
    event_partitions: int = DEFAULT_EVENT_PARTITIONS,
    inbound_partitions: int = DEFAULT_INBOUND_PARTITIONS,
    names: TopicNames | None = None,
    retention_days: int = DEFAULT_RETENTION_DAYS,
) -> list[TopicSpec]:
    """The topics for a cluster of `brokers` brokers.

    No topic is compacted. `ledger.events` keeps its records forever: it is the distribution log
    that consumers rebuild from. The inbound and rejection topics keep theirs `retention_days`
    days (default 30, contract §2): they may hold what a publisher should never have sent.
    Three or more brokers: three replicas and `min.insync.replicas=2`, so an acknowledged record
    survives the loss of one broker.
    """
    names = names or TopicNames()
    replicated = brokers >= REPLICATED_BROKERS
    replication = 3 if replicated else 1
    base = {
        "cleanup.policy": "delete",
        "retention.ms": FOREVER,
        "retention.bytes": "-1",
        "min.insync.replicas": "2" if replicated else "1",
        "unclean.leader.election.enable": "false",
    }
    bounded = dict(base, **{"retention.ms": retention_ms(retention_days)})
    return [
        TopicSpec(
            names.events,
            event_partitions,
            replication,
            dict(base),
            "Every accepted event, in CloudEvents binary mode, keyed by address (subject). Kept forever.",
        ),
        *(
            TopicSpec(
                name,
                inbound_partitions,
                replication,
                dict(bounded),
                f"Submissions by {org} (the topic decides the organisation), CloudEvents binary or structured mode. "
                f"Kept {retention_days} days.",
            )
            for name, org in names.inbound.items()
        ),
        TopicSpec(
            names.rejections,
            DEFAULT_REJECTION_PARTITIONS,
            replication,
            dict(bounded),
            "Every inbound record that was not appended, with its result: the original key, value and headers, "
            "except for personal_data, which keeps only the result, the record's position and the SHA-256 of its "
            f"value. Kept {retention_days} days.",
        ),
    ]


def checkpoint_spec(brokers: int, names: TopicNames | None = None) -> TopicSpec:
    """`ledger.checkpoints`: one partition (one order of checkpoints), kept forever (trust §2)."""
    replicated = brokers >= REPLICATED_BROKERS
    return TopicSpec(
        (names or TopicNames()).checkpoints,
        1,
        3 if replicated else 1,
        {
            "cleanup.policy": "delete",
            "retention.ms": FOREVER,
            "retention.bytes": "-1",
            "min.insync.replicas": "2" if replicated else "1",
            "unclean.leader.election.enable": "false",
        },
        "Every checkpoint the ledger published (a C2SP signed note with its cosignatures). Kept forever.",
    )
