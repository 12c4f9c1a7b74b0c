"""Topic settings follow the cluster size; the names and organisations are fixed."""

from __future__ import annotations

import pytest

from consumers.topics import ALL_TOPICS, DEFAULT_RETENTION_DAYS, EVENTS, INBOUND, REJECTIONS, topic_specs
from ledger.bootstrap import ConfigError, Settings


def test_three_brokers_give_three_replicas_and_min_insync_two() -> None:
    specs = {s.name: s for s in topic_specs(3, 12)}
    assert set(specs) == set(ALL_TOPICS)
    assert specs[EVENTS].partitions == 12
    for spec in specs.values():
        assert spec.replication == 3
        assert spec.configs["min.insync.replicas"] == "2"
        assert spec.configs["cleanup.policy"] == "delete"


def test_a_single_broker_gets_one_replica() -> None:
    specs = topic_specs(1, 4)
    assert {s.replication for s in specs} == {1}
    assert {s.configs["min.insync.replicas"] for s in specs} == {"1"}
    assert next(s for s in specs if s.name == EVENTS).partitions == 4


def test_the_topic_decides_the_organisation() -> None:
    assert INBOUND == {"ledger.inbound.img": "IMG", "ledger.inbound.ncg": "NCG", "ledger.inbound.portal": "PORTAL"}
    assert REJECTIONS not in INBOUND


DAY_MS = 86_400_000
BOUNDED = [*INBOUND, REJECTIONS]


def test_inbound_and_rejection_topics_keep_records_30_days_by_default_events_forever() -> None:
    specs = {s.name: s for s in topic_specs(1, 4)}
    assert DEFAULT_RETENTION_DAYS == 30
    for name in BOUNDED:
        assert specs[name].configs["retention.ms"] == str(30 * DAY_MS), name
    assert specs[EVENTS].configs["retention.ms"] == "-1"  # the distribution log consumers rebuild from


def test_the_retention_follows_the_setting() -> None:
    specs = {s.name: s for s in topic_specs(3, 12, retention_days=7)}
    assert {specs[name].configs["retention.ms"] for name in BOUNDED} == {str(7 * DAY_MS)}
    assert specs[EVENTS].configs["retention.ms"] == "-1"
    with pytest.raises(ValueError):
        topic_specs(1, retention_days=0)  # 0 or less would be "forever" or nonsense: never


def test_the_retention_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LEDGER_KAFKA_RETENTION_DAYS", raising=False)
    assert Settings.from_env().kafka_retention_days == 30
    monkeypatch.setenv("LEDGER_KAFKA_RETENTION_DAYS", "14")
    assert Settings.from_env().kafka_retention_days == 14
    for bad in ("0", "-1", "forever", "1.5", "99999999"):
        monkeypatch.setenv("LEDGER_KAFKA_RETENTION_DAYS", bad)
        with pytest.raises(ConfigError, match="LEDGER_KAFKA_RETENTION_DAYS"):
            Settings.from_env()
