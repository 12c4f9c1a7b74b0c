"""On a real broker: consumer groups per ledger, and no zombie members (issue 15, item 7).

Two ledgers on one cluster (different `LEDGER_KAFKA_TOPIC_PREFIX`) each run an intake with the same
`--instance-id intake-1`. Their default groups carry the prefix, so neither fences the other: each
appends every event published on its own inbound topics and commits its offsets. And within one
ledger, a second intake with the same id fences the first, which then exits loudly (status 1, one
line naming the group and the id) instead of appending on outside the group.
"""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from consumers.clients import KafkaEndpoint
from consumers.topics import TopicNames
from ledger.bootstrap import Settings, open_ledger
from tests.consumers.chaos import LedgerProcess, group_caught_up, wait_for
from tests.consumers.history import address_history
from tests.consumers.kafka_support import delete_topics, ledger_env, publish_inbound, run_ledger


@pytest.fixture
def two_ledgers(kafka_bootstrap: KafkaEndpoint) -> Iterator[list[TopicNames]]:
    both = [TopicNames(f"g{uuid.uuid4().hex[:8]}."), TopicNames(f"g{uuid.uuid4().hex[:8]}.")]
    yield both
    for names in both:
        delete_topics(kafka_bootstrap, names)


def _stored(home: Path, ids: list[str]) -> int:
    ledger = open_ledger(Settings(home=home, store_url=f"sqlite:///{home.absolute() / 'events.sqlite'}"))
    try:
        return len(ledger.app.index.lookup_ids(ids))
    finally:
        ledger.close()


def _events(seed: int, addresses: range) -> list[dict[str, Any]]:
    return [e for n in addresses for e in address_history(n, seed=seed)]


def _assigned(process: LedgerProcess) -> bool:
    """Whether the intake's log says it got partitions (not the empty assignment of a group forming)."""
    return '"partitions": ["' in process.tail(200)


def test_two_ledgers_with_one_instance_id_each_get_all_their_events_and_offsets(
    kafka_bootstrap: KafkaEndpoint, two_ledgers: list[TopicNames], tmp_path: Path
) -> None:
    runs = []
    for i, names in enumerate(two_ledgers):
        home = tmp_path / f"ledger-{i}"
        home.mkdir()
        env = ledger_env(home, kafka_bootstrap, names.prefix)
        run_ledger(env, "kafka", "init", "--partitions", "2", "--inbound-partitions", "2")
        events = _events(seed=100 + i, addresses=range(1, 7))
        runs.append((names, home, env, events))
    processes = [
        LedgerProcess(f"intake-{i}", ["intake", "--instance-id", "intake-1"], env, tmp_path)
        for i, (_, _, env, _) in enumerate(runs)
    ]
    for process in processes:
        process.start()
    try:
        for names, _, _, events in runs:
            publish_inbound(kafka_bootstrap, names, events)
        for (names, home, _, events), process in zip(runs, processes, strict=True):
            ids = [e["id"] for e in events]

            def done(home: Path = home, ids: list[str] = ids, process: LedgerProcess = process) -> bool:
                process.check()  # a fenced or crashed intake fails the test here, with its log
                return _stored(home, ids) == len(ids)

            wait_for(done, 120, f"every event of {names.prefix} appended")
            group = names.prefix + "ledger-intake"
            wait_for(
                lambda group=group, names=names: group_caught_up(
                    kafka_bootstrap, group, sorted(names.inbound), "ledger-tests-groups", offsets=True
                ),
                120,
                f"{group} committed to the end of its inbound topics",
            )
        for process in processes:
            process.check()
    finally:
        for process in processes:
            process.stop()


def test_an_intake_fenced_by_another_with_its_instance_id_exits_loudly(
    kafka_bootstrap: KafkaEndpoint, two_ledgers: list[TopicNames], tmp_path: Path
) -> None:
    names = two_ledgers[0]
    env = ledger_env(tmp_path, kafka_bootstrap, names.prefix)
    run_ledger(env, "kafka", "init", "--partitions", "1", "--inbound-partitions", "1")
    first = LedgerProcess("intake-first", ["intake", "--instance-id", "intake-1"], env, tmp_path)
    second = LedgerProcess("intake-second", ["intake", "--instance-id", "intake-1"], env, tmp_path)
    first.start()
    try:
        wait_for(lambda: _assigned(first), 120, "the first intake has its partitions")
        second.start()
        wait_for(lambda: _assigned(second), 120, "the second intake took its place")
        events = _events(seed=7, addresses=range(1, 4))
        # Records keep coming until the fenced member notices (on its next commit) and stops.
        deadline = time.monotonic() + 120
        batch = 0
        while first.proc is not None and first.proc.poll() is None:
            assert time.monotonic() < deadline, f"the fenced intake goes on:\n{first.tail()}"
            publish_inbound(kafka_bootstrap, names, _events(seed=7, addresses=range(100 + batch, 101 + batch)))
            batch += 1
            try:
                first.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:  # still running: publish again
                pass
        assert first.proc is not None and first.proc.returncode == 1, first.tail()
        log = first.tail(50)
        assert "was fenced" in log and names.prefix + "ledger-intake" in log and "intake-1" in log, log
        # The member that took its place carries on: everything published is appended.
        publish_inbound(kafka_bootstrap, names, events)
        ids = [e["id"] for e in events]
        wait_for(lambda: (second.check(), _stored(tmp_path, ids) == len(ids))[1], 120, "the second intake appends")
    finally:
        first.stop()
        second.stop()
