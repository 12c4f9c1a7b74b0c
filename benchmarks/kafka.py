"""Kafka throughput: the relay and `rebuild --from kafka`, each next to a same-run baseline.

    .venv/bin/python benchmarks/kafka.py [--addresses 20000] [--runs 3] [--partitions 12]
                                         [--bootstrap HOST:PORT]

On the cached imported history of `benchmarks/setup.py` (`ledger generate` + `ledger import`),
against a real broker: `--bootstrap`, else `LEDGER_KAFKA`, else a private single node started
with deploy/kafka.sh for this run (and stopped afterwards). Every run uses fresh topics. Runs
are interleaved; medians over the runs:

- bare producer: a kafka-python producer (the relay's settings: acks=all, idempotence) sending
  the very records the relay sends (key, value, ce_* headers), prepared in memory beforehand,
  then flush and check every future;
- relay: `consumers.relay.Relay` from position 0 to the end of the store: read pages, build the
  records, send, wait for the acknowledgements, record the position; once in-process and once
  with two producer processes (`ledger relay --workers 2`);
- bare consumer: a kafka-python consumer reading that topic from the beginning (assigned, no
  group), counting records, decoding nothing;
- rebuild from kafka: `consumers.rebuild.rebuild_from_kafka` into a fresh SQLite projection
  store (decode every record, fold every address, write every row and partition position, swap),
  in one process and with the partitions shared out over two.
Rates are events/s over all stored events. The relay and the rebuild run as the Kafka commands
run them (`consumers.tuning.for_kafka()`: kafka-python with the record encoder/decoder of
`consumers.fastrecords`); the bare loops run kafka-python's own record code (`fastrecords.stock()`,
checked), with the same client settings and the same collector settings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path and `kafka.py` would shadow the
# kafka-python package: take the folder off and put the repository on instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.setup import CACHE, ledger_home  # noqa: E402
from consumers import fastrecords  # noqa: E402
from consumers.binding import stored_to_binary  # noqa: E402
from consumers.clients import KafkaEndpoint, make_admin, make_consumer, make_producer  # noqa: E402
from consumers.rebuild import rebuild_from_kafka  # noqa: E402
from consumers.relay import Relay  # noqa: E402
from consumers.tracking import RelayTracking  # noqa: E402
from consumers.tuning import for_throughput  # noqa: E402
from ledger.adapters.raw import RawReader  # noqa: E402
from ledger.bootstrap import Settings, open_ledger  # noqa: E402
from projections.store.sqlite import SQLiteLocation  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
BROKER_DIR = CACHE / "kafka"
BROKER_PORT = 31592  # below the ephemeral port range


def private_broker() -> tuple[KafkaEndpoint, dict[str, str]]:
    """A single node of deploy/kafka.sh of the benchmark's own, as its super user (SASL/SCRAM)."""
    env = dict(os.environ, LEDGER_DEPLOY_DIR=str(BROKER_DIR), LEDGER_KAFKA_PORT=str(BROKER_PORT))
    out = subprocess.run(
        ["bash", str(REPO / "deploy" / "kafka.sh"), "start"], env=env, capture_output=True, text=True, check=True
    )
    password = (BROKER_DIR / "kafka" / "credentials" / "admin").read_text().strip()
    return KafkaEndpoint(out.stdout.strip().splitlines()[-1], "SASL_PLAINTEXT", "admin", password), env


def stop_broker(env: dict[str, str]) -> None:
    for command in ("stop", "clean"):
        subprocess.run(["bash", str(REPO / "deploy" / "kafka.sh"), command], env=env, capture_output=True, check=False)


def new_topic(admin: Any, partitions: int) -> str:
    name = f"bench.events.{uuid.uuid4().hex[:10]}"
    admin.create_topics({name: {"num_partitions": partitions, "replication_factor": 1}}, wait_for_metadata=True)
    return name


def bare_producer(bootstrap: Any, topic: str, records: list[tuple[bytes, bytes, Any]]) -> float:
    assert not fastrecords.installed()
    producer = make_producer(bootstrap, "bench-bare-producer")
    producer.send(topic, value=b"warm-up", key=b"0").get(timeout=30)
    started = time.perf_counter()
    send = producer.send
    futures = [send(topic, value=value, key=key, headers=headers) for key, value, headers in records]
    producer.flush(timeout=300)
    for future in futures:
        future.get(timeout=60)
    seconds = time.perf_counter() - started
    producer.close()
    return seconds


def relay(ledger: Any, reader: Any, bootstrap: Any, topic: str, workers: int) -> tuple[float, int]:
    tracking = RelayTracking(ledger.app.recorder, f"bench:{topic}")

    class Log:  # the relay's reads, through the read side's raw reader (as `ledger relay` does)
        read_raw = staticmethod(reader)

    factory = lambda: make_producer(bootstrap, "bench-relay")  # noqa: E731
    runner = Relay(Log(), tracking, factory, topic=topic, workers=workers)
    started = time.perf_counter()
    stats = runner.run(once=True)
    return time.perf_counter() - started, stats.published


def bare_consumer(bootstrap: Any, topic: str, partitions: int) -> tuple[float, int]:
    from kafka.structs import TopicPartition

    assert not fastrecords.installed()
    consumer = make_consumer(bootstrap, "bench-bare-consumer", None, max_poll_records=20_000)
    tps = [TopicPartition(topic, p) for p in range(partitions)]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    total = sum(consumer.end_offsets(tps).values())
    started = time.perf_counter()
    count = 0
    while count < total:
        for records in consumer.poll(timeout_ms=1000).values():
            count += len(records)
    seconds = time.perf_counter() - started
    consumer.close()
    return seconds, count


def rebuild(bootstrap: Any, topic: str, folder: Path, workers: int) -> tuple[float, int]:
    location = SQLiteLocation(folder)
    started = time.perf_counter()
    stats = rebuild_from_kafka(
        location,
        lambda: make_consumer(bootstrap, "bench-rebuild", None, max_poll_records=20_000),
        topic=topic,
        workers=workers,
    )
    return time.perf_counter() - started, stats.records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=12)
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("LEDGER_KAFKA"),
        help="a broker without authentication (else a private secured node is started)",
    )
    args = parser.parse_args()

    for_throughput()  # the collector settings of `ledger relay` / `rebuild`, for the baselines too
    assert fastrecords.supported(), "kafka-python is not the pinned version"
    home = ledger_home(args.addresses)
    broker_env = None
    bootstrap = args.bootstrap
    if not bootstrap:
        bootstrap, broker_env = private_broker()
    ledger = open_ledger(Settings(home=home, store_url=f"sqlite:///{home.absolute() / 'events.sqlite'}"))
    reader = RawReader(ledger)
    admin = make_admin(bootstrap, "bench-admin")
    try:
        head = ledger.log.max_position()
        raw: list[tuple[int, bytes]] = []
        while len(raw) < head:
            raw.extend(reader(raw[-1][0] if raw else 0, 50_000))
        records = [stored_to_binary(body) for _, body in raw]
        del raw
        print(
            f"{len(records):,} stored events of {args.addresses:,} addresses; broker {bootstrap}; "
            f"{args.partitions} partitions; load average {os.getloadavg()[0]:.1f}"
        )
        rates: dict[str, list[float]] = {
            "bare producer": [],
            "relay": [],
            "relay --workers 2": [],
            "bare consumer": [],
            "rebuild": [],
            "rebuild, 2 workers": [],
        }
        for run in range(args.runs):
            topics = []
            bare_topic = new_topic(admin, args.partitions)
            topics.append(bare_topic)
            with fastrecords.stock():
                rates["bare producer"].append(len(records) / bare_producer(bootstrap, bare_topic, records))
            for label, workers in (("relay", 1), ("relay --workers 2", 2)):
                relay_topic = new_topic(admin, args.partitions)
                topics.append(relay_topic)
                with fastrecords.enabled():
                    seconds, sent = relay(ledger, reader, bootstrap, relay_topic, workers)
                assert sent == len(records), (sent, len(records))
                rates[label].append(sent / seconds)
            with fastrecords.stock():
                seconds, read = bare_consumer(bootstrap, relay_topic, args.partitions)
            assert read == len(records)
            rates["bare consumer"].append(read / seconds)
            for label, workers in (("rebuild", 1), ("rebuild, 2 workers", 2)):
                with tempfile.TemporaryDirectory(dir=CACHE) as folder, fastrecords.enabled():
                    seconds, read = rebuild(bootstrap, relay_topic, Path(folder) / "projections", workers)
                assert read == len(records)
                rates[label].append(read / seconds)
            admin.delete_topics(topics)
            print(f"run {run + 1}: " + ", ".join(f"{k} {v[-1]:,.0f}/s" for k, v in rates.items()), flush=True)
        medians = {k: statistics.median(v) for k, v in rates.items()}
        for name, values in rates.items():
            runs = ", ".join(f"{v:,.0f}" for v in values)
            print(f"{name:<16} median {medians[name]:>9,.0f} events/s   runs: {runs}")
        for name, base in (("relay", "bare producer"), ("relay --workers 2", "bare producer")):
            print(f"{name} / {base} = {medians[name] / medians[base]:.2f}  (targets: >= 0.70 and >= 30,000/s)")
        for name, base in (("rebuild", "bare consumer"), ("rebuild, 2 workers", "bare consumer")):
            print(f"{name} / {base} = {medians[name] / medians[base]:.2f}  (targets: >= 0.70 and >= 50,000/s)")
    finally:
        admin.close()
        reader.close()
        ledger.close()
        if broker_env is not None:
            stop_broker(broker_env)


if __name__ == "__main__":
    main()
