"""Fault tests on real brokers: kill -9 of the relay, the intake and the projection consumers at
random moments plus a broker restart, and, on three nodes, a hard kill of the partition leader
while producing. Afterwards every event Kafka acknowledged to the publisher is in `ledger export`
exactly once, `ledger.events` carries all of them, and the Kafka-fed projections equal a clean
rebuild from the store. Seeds are printed; `LEDGER_TEST_SEED` replays one."""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

from consumers.clients import KafkaEndpoint, make_admin, make_consumer
from consumers.topics import TopicNames
from consumers.tracking import RelayTracking
from ledger.bootstrap import Ledger, Settings, open_ledger
from projections.store.sqlite import SQLiteLocation
from tests import servers
from tests.consumers.chaos import (
    LedgerProcess,
    PrivateBroker,
    Publisher,
    check_outcome,
    group_caught_up,
    retry_port_in_use,
    wait_for,
)
from tests.consumers.kafka_support import (
    delete_topics,
    generated_history,
    ledger_env,
    principals,
    read_topic_confluent,
    reference_rows,
    run_ledger,
    store_rows,
)

SEED = int(os.environ.get("LEDGER_TEST_SEED") or random.SystemRandom().randrange(1_000_000))
KILLS_PER_PROCESS = 3
# Crash inside the known dangerous windows too (consumers/failpoints.py), a few times per run.
FAILPOINTS = ",".join(
    f"{name}:0.03"
    for name in (
        "relay.after_send_before_ack",
        "relay.after_ack_before_save",
        "intake.after_append_before_rejections",
        "intake.after_append_before_commit",
        "consume.before_apply",
        "consume.after_apply_before_commit",
    )
)


def _open(env: dict[str, str]) -> Ledger:
    home = Path(env["LEDGER_HOME"])
    return open_ledger(Settings(home=home, store_url=f"sqlite:///{home.absolute() / 'events.sqlite'}"))


def _secured(env: dict[str, str], admin: KafkaEndpoint, prefix: str, tmp: Path) -> tuple[dict, dict, dict]:
    """`ledger kafka init` with the contract's principals; the environments of the roles as their own
    principals (intake and relay: `ledger`, consume: `projector`) and each organisation's publisher."""
    run_ledger(
        env, "kafka", "init", "--partitions", "6", "--inbound-partitions", "3", "--credentials", str(tmp / "creds")
    )
    users = principals(admin, tmp / "creds")
    home = Path(env["LEDGER_HOME"])
    publishers = {"IMG": users["img"], "NCG": users["ncg"], "PORTAL": users["portal"]}
    return ledger_env(home, users["ledger"], prefix), ledger_env(home, users["projector"], prefix), publishers


def _processes(ledger: dict[str, str], projector: dict[str, str], log_dir: Path) -> dict[str, LedgerProcess]:
    return {
        "intake": LedgerProcess("intake", ["intake", "--instance-id", "intake-1"], ledger, log_dir),
        "relay": LedgerProcess("relay", ["relay", "--workers", "2"], ledger, log_dir),
        "consume-1": LedgerProcess("consume-1", ["consume", "--instance-id", "consume-1"], projector, log_dir),
        "consume-2": LedgerProcess("consume-2", ["consume", "--instance-id", "consume-2"], projector, log_dir),
    }


def _leftovers(home: Path) -> list[int]:
    """PIDs of processes still running with this test's LEDGER_HOME (relay sender processes included)."""
    marker = f"LEDGER_HOME={home}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0") and _running(entry):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _running(entry: Path) -> bool:
    return (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _converge(env: dict[str, str], bootstrap: str, names: TopicNames, acked: set[str], tmp: Path) -> dict:
    """Wait (with deadlines) until the running processes have done everything; return the reference rows."""
    ledger = _open(env)
    try:
        wait_for(lambda: len(ledger.app.index.lookup_ids(sorted(acked))) == len(acked), 240, "acked events stored")
        wait_for(
            lambda: group_caught_up(bootstrap, names.prefix + "ledger-intake", sorted(names.inbound)),
            240,
            "intake caught up",
        )
        tracking = RelayTracking(ledger.app.recorder, f"relay:{names.events}")
        wait_for(lambda: tracking.position() == ledger.log.max_position(), 240, "relay caught up")
    finally:
        ledger.close()
    reference = reference_rows(env, tmp / "reference")
    location = SQLiteLocation(Path(env["LEDGER_HOME"]) / "projections-kafka")
    try:
        wait_for(lambda: store_rows(location) == reference, 240, "Kafka-fed projections equal a rebuild from the store")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_projection_diagnosis(location, reference, bootstrap, names, tmp)}") from None
    return reference


def _projection_diagnosis(location: Any, reference: dict, bootstrap: str, names: TopicNames, tmp: Path) -> str:
    """What differs, the stored and the topic's end offsets, and the consumers' last log lines."""
    from kafka.structs import TopicPartition

    rows = store_rows(location)
    stale = sorted(s for s in reference if rows.get(s, (0,))[0] != reference[s][0])
    store = location.open_active()
    positions = store.positions()
    store.close()
    consumer = make_consumer(bootstrap, "ledger-tests-diagnosis", None)
    try:
        tps = [TopicPartition(names.events, p) for p in consumer.partitions_for_topic(names.events) or ()]
        ends = {tp.partition: offset for tp, offset in consumer.end_offsets(tps).items()}
    finally:
        consumer.close()
    on_topic = {dict(r["headers"])["ce_id"].decode() for r in read_topic_confluent(bootstrap, names.events)}
    ledger = _open({"LEDGER_HOME": str(tmp / "home")})
    try:
        stored = {e["id"] for _, e in ledger.log.read(0, 10_000_000)}
    finally:
        ledger.close()
    logs = "\n".join(
        f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-12:])
        for log in sorted(tmp.glob("consume-*.log"))
    )
    return (
        f"{len(stale)} of {len(reference)} addresses differ (stream positions "
        f"{[(s, rows.get(s, (0,))[0], reference[s][0]) for s in stale[:5]]}); store positions {positions}; "
        f"end offsets {ends}; stored events missing on the topic: {len(stored - on_topic)}\n{logs}"
    )


def _json_warnings(processes: dict[str, LedgerProcess]) -> list[dict[str, Any]]:
    out = []
    for process in processes.values():
        for line in process.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                record = json.loads(line)  # every log line is one JSON object (stderr is not a terminal)
                if record.get("level") == "warning":
                    out.append(record)
    return out


def test_kill_minus_nine_and_a_broker_restart_lose_nothing(private_broker: PrivateBroker, tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    print(f"\nfault test seed {SEED} (LEDGER_TEST_SEED={SEED} replays it)")
    bootstrap = private_broker.endpoint  # the operator (super user); the roles run as their own principals
    names = TopicNames("")
    env = ledger_env(tmp_path / "home", bootstrap)
    ledger, projector, publishers = _secured(env, bootstrap, names.prefix, tmp_path)
    run_ledger(env, "export")  # create the store's tables before four processes open it at once
    processes = _processes(
        dict(ledger, LEDGER_FAILPOINTS=FAILPOINTS), dict(projector, LEDGER_FAILPOINTS=FAILPOINTS), tmp_path
    )
    publisher = Publisher(publishers, names, generated_history(300, seed=7), chunk=40, pause=0.3)
    try:
        for process in processes.values():
            process.start()
        publisher.start()
        restarted = False
        next_kill = time.monotonic() + rnd.uniform(1.0, 2.5)
        deadline = time.monotonic() + 240
        while publisher.is_alive() or min(p.kills for p in processes.values()) < KILLS_PER_PROCESS:
            assert time.monotonic() < deadline, "the chaos phase took too long"
            for process in processes.values():
                process.check()
            if not restarted and publisher.progress >= 0.5:
                private_broker.kill9()  # the broker dies mid-stream (kill -9) and comes back on its data
                private_broker.restart()
                restarted = True
            if time.monotonic() >= next_kill:
                fewest = min(p.kills for p in processes.values())
                victim = rnd.choice([p for p in processes.values() if p.kills == fewest])
                victim.kill9()
                time.sleep(rnd.uniform(0.0, 1.0))  # chaos: down for a random moment
                victim.start()
                next_kill = time.monotonic() + rnd.uniform(1.0, 2.5)
            time.sleep(0.05)
        assert publisher.error is None, publisher.error
        assert restarted
        reference = _converge(env, bootstrap, names, publisher.acked, tmp_path)
        for process in processes.values():
            process.check()
    finally:
        publisher.stop_event.set()
        for process in processes.values():
            process.stop()
    wait_for(lambda: not _leftovers(tmp_path / "home"), 30, "every process of the test (and its children) gone")
    outcome = check_outcome(env, bootstrap, names, publisher, tmp_path)
    assert outcome["rebuilt_rows"] == reference, "rebuild --from kafka differs from a rebuild from the store"
    warnings = _json_warnings(processes)
    assert any("waiting for kafka" in w["event"] or "cannot reach the Kafka brokers" in w["event"] for w in warnings), (
        "nobody logged the broker outage"
    )
    kills = {name: p.kills for name, p in processes.items()}
    crashes = {name: p.crashes for name, p in processes.items()}
    print(
        f"survived {sum(kills.values())} kill -9 ({kills}), {sum(crashes.values())} failpoint crashes ({crashes}) "
        "and 1 broker restart; "
        f"{outcome['acked']} events acknowledged, {outcome['stored']} stored exactly once, "
        f"{outcome['resent_on_topic']} re-sent records on ledger.events, {publisher.retries} publisher retries, "
        f"{len(warnings)} warning lines"
    )


def _leader_of(bootstrap: str, topic: str, partition: int) -> int:
    admin = make_admin(bootstrap, "ledger-tests-leader")
    try:
        (described,) = admin.describe_topics([topic])
        return int(next(p["leader_id"] for p in described["partitions"] if p["partition_index"] == partition))
    finally:
        admin.close()


def test_killing_the_partition_leader_of_three_loses_nothing(kafka_cluster: KafkaEndpoint, tmp_path: Path) -> None:
    rnd = random.Random(SEED + 1)
    names = TopicNames(f"k{uuid.uuid4().hex[:6]}.")
    env = ledger_env(tmp_path / "home", kafka_cluster, names.prefix)
    ledger, projector, publishers = _secured(env, kafka_cluster, names.prefix, tmp_path)
    init = run_ledger(env, "kafka", "init", "--partitions", "6", "--inbound-partitions", "3").stdout.decode()
    assert "replication 3" in init, init
    run_ledger(env, "export")
    processes = _processes(ledger, projector, tmp_path)
    publisher = Publisher(publishers, names, generated_history(150, seed=8), chunk=30, pause=0.25)
    victim_node = None
    try:
        for process in processes.values():
            process.start()
        publisher.start()
        wait_for(lambda: publisher.progress >= rnd.uniform(0.25, 0.5), 120, "the publisher under way")
        victim_node = _leader_of(kafka_cluster, names.prefix + "ledger.inbound.img", 0)
        servers.kill_kafka_node(victim_node)  # kill -9 the leader while the publisher and the relay produce
        print(f"\nkilled node {victim_node}, leader of {names.prefix}ledger.inbound.img/0, at {publisher.progress:.0%}")
        publisher.join(timeout=240)
        assert not publisher.is_alive() and publisher.error is None, publisher.error
        for process in processes.values():
            process.check()
        node = victim_node
        retry_port_in_use(lambda: servers.start_kafka_node(node))
        victim_node = None
        reference = _converge(env, kafka_cluster, names, publisher.acked, tmp_path)
    finally:
        if victim_node is not None:
            node = victim_node
            retry_port_in_use(lambda: servers.start_kafka_node(node))
        publisher.stop_event.set()
        for process in processes.values():
            process.stop()
    wait_for(lambda: not _leftovers(tmp_path / "home"), 30, "every process of the test (and its children) gone")
    outcome = check_outcome(env, kafka_cluster, names, publisher, tmp_path)
    assert outcome["rebuilt_rows"] == reference
    print(
        f"leader kill survived: {outcome['acked']} acknowledged, {outcome['stored']} stored exactly once, "
        f"{publisher.retries} publisher retries"
    )
    delete_topics(kafka_cluster, names)
