"""What the status page shows: store head, projection position and lag, Kafka lag where
configured, the latest checkpoint (the same readings as `/healthz` and the operators' metrics)."""

from __future__ import annotations

from typing import Any

from projections.query import ReadModel


def status_of(model: ReadModel, ledger: Any) -> dict[str, Any]:
    """The readings, as plain data."""
    health = model.health()
    head = ledger.log.max_position()
    out: dict[str, Any] = {
        "store": "PostgreSQL" if ledger.settings.store_url.startswith("postgres") else "SQLite",  # never the URL
        "head": head,
        "head_hash": ledger.log.head_hash(head) if head else None,
        "projection_position": health["position"],
        "behind": health["behind"],
        "kafka": None,
        "checkpoint": None,
    }
    if ledger.settings.kafka:
        from consumers.topics import TopicNames
        from consumers.tracking import RelayTracking

        topic = TopicNames(ledger.settings.kafka_topic_prefix).events
        published = RelayTracking(ledger.app.recorder, f"relay:{topic}").position()
        out["kafka"] = {"topic": topic, "published": published, "behind": max(0, head - published)}
    latest = ledger.tree.checkpoint()
    if latest is not None:
        out["checkpoint"] = {"size": latest.size, "made_at": latest.made_at, "note": latest.note}
    return out
