"""`Idle`: a member without partitions says so once per period, stops when assigned, and rejoins when stuck."""

from __future__ import annotations

from typing import Any

import pytest

from consumers import polling
from consumers.polling import Idle, StaleAssignment


class Member:
    def __init__(self) -> None:
        self.partitions: set[Any] = set()

    def assignment(self) -> set[Any]:
        return self.partitions


def test_warns_once_per_period_while_unassigned(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(polling.time, "monotonic", lambda: now[0])
    idle, member = Idle(), Member()
    assert idle.unassigned_warning(member, every=30) is None  # starts counting
    now[0] += 29
    assert idle.unassigned_warning(member, every=30) is None
    now[0] += 2
    assert idle.unassigned_warning(member, every=30) == pytest.approx(31)
    now[0] += 10
    assert idle.unassigned_warning(member, every=30) is None  # not again within the period
    now[0] += 25
    assert idle.unassigned_warning(member, every=30) == pytest.approx(66)
    member.partitions = {("ledger.inbound.img", 0)}
    assert idle.unassigned_warning(member, every=30) is None
    member.partitions = set()
    now[0] += 100
    assert idle.unassigned_warning(member, every=30) is None  # a new spell of no partitions starts at zero
    now[0] += 31
    assert idle.unassigned_warning(member, every=30) == pytest.approx(31)


class _Member:
    """A consumer as the loop sees it: its assignment and the partitions its topic has."""

    def __init__(self, assigned: set[Any], partitions: set[int] | None) -> None:
        self.assigned = assigned
        self.partitions = partitions

    def assignment(self) -> set[Any]:
        return self.assigned

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.partitions


def test_a_member_without_partitions_of_a_topic_that_has_some_rejoins() -> None:
    idle, member = Idle(), _Member(set(), {0, 1, 2})
    idle.check_assignment(member, ["ledger.events"], after=0.0)  # the first look starts the clock
    with pytest.raises(StaleAssignment, match="ledger.events have partitions"):
        idle.check_assignment(member, ["ledger.events"], after=0.0)
    assert isinstance(StaleAssignment("x"), ConnectionError)  # transient: the retry loop rejoins


def test_no_rejoin_before_the_time_or_for_a_topic_without_partitions_or_once_assigned() -> None:
    idle, member = Idle(), _Member(set(), {0, 1})
    idle.check_assignment(member, ["t"])
    idle.check_assignment(member, ["t"])  # 45 s have not passed
    empty = Idle()
    for _ in range(2):
        empty.check_assignment(_Member(set(), None), ["t"], after=0.0)
    assigned = Idle()
    for _ in range(2):
        assigned.check_assignment(_Member({("t", 0)}, {0, 1}), ["t"], after=0.0)
    assert assigned.unassigned_since is None


class _StuckConsumer:
    """A group member the coordinator keeps giving nothing, of a topic that has partitions."""

    def __init__(self, kind: str, made: list[str], stop: Any) -> None:
        self.kind = kind
        made.append(kind)
        if kind == "dynamic":
            stop.set()  # the rejoin happened: end the loop

    def subscribe(self, topics: list[str], listener: Any = None) -> None:
        pass

    def poll(self, timeout_ms: int = 0, max_records: int = 0) -> dict[Any, Any]:
        return {}

    def assignment(self) -> set[Any]:
        return set()

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def topics(self) -> set[str]:
        return {"ledger.events"}

    def close(self, autocommit: bool = False) -> None:
        pass


def test_a_stuck_static_member_rejoins_without_its_instance_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """A static member that rejoins gets its old (empty) assignment back without a rebalance;
    only a join without the instance id makes the group's leader assign anew."""
    import threading

    from consumers.projection import ProjectionConsumer

    monkeypatch.setattr(polling, "REJOIN_AFTER_S", 0.0)
    made: list[str] = []
    stop = threading.Event()
    runner = ProjectionConsumer(
        sink=None,  # type: ignore[arg-type]  # never reached: no records arrive
        consumer_factory=lambda: _StuckConsumer("static", made, stop),
        rebalancing_factory=lambda: _StuckConsumer("dynamic", made, stop),
        stop=stop,
    )
    stats = runner.run()
    assert made == ["static", "dynamic"]
    assert stats.errors == 1
