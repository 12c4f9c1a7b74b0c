"""Topic settings follow the cluster size; the names and organisations are fixed."""

from __future__ import annotations

from consumers.topics import ALL_TOPICS, EVENTS, INBOUND, REJECTIONS, topic_specs


def test_three_brokers_give_three_replicas_and_min_insync_two() -> None:
    specs = {s.name: s for s in topic_specs(3, 12)}
    assert set(specs) == set(ALL_TOPICS)
    assert specs[EVENTS].partitions == 12
    for spec in specs.values():
        assert spec.replication == 3
        assert spec.configs["min.insync.replicas"] == "2"
        assert spec.configs["retention.ms"] == "-1"
        assert spec.configs["cleanup.policy"] == "delete"


def test_a_single_broker_gets_one_replica() -> None:
    specs = topic_specs(1, 4)
    assert {s.replication for s in specs} == {1}
    assert {s.configs["min.insync.replicas"] for s in specs} == {"1"}
    assert next(s for s in specs if s.name == EVENTS).partitions == 4


def test_the_topic_decides_the_organisation() -> None:
    assert INBOUND == {"ledger.inbound.img": "IMG", "ledger.inbound.ncg": "NCG", "ledger.inbound.portal": "PORTAL"}
    assert REJECTIONS not in INBOUND
