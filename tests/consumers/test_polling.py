"""`Idle.unassigned_warning`: a member without partitions says so once per period, and stops when assigned."""

from __future__ import annotations

from typing import Any

import pytest

from consumers import polling
from consumers.polling import Idle


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
