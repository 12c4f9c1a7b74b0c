"""Fault-injection harness for the Kafka tests: `ledger` processes that can be killed with -9 and
restarted, a restartable private broker, a publisher that records what Kafka acknowledged, and
polling with deadlines."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from consumers.clients import KafkaEndpoint, make_admin, make_consumer, make_producer
from consumers.rebuild import rebuild_from_kafka
from consumers.topics import TopicNames
from projections.store.sqlite import SQLiteLocation
from tests.consumers.kafka_support import (
    LEDGER,
    export,
    inbound_record,
    read_topic_confluent,
    run_ledger,
    store_rows,
    topic_for,
)
from tests.servers import REPO_ROOT

KAFKA_SH = str(REPO_ROOT / "deploy" / "kafka.sh")


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    """Poll `predicate` until it holds; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(interval)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class LedgerProcess:
    """One long-running `ledger` command (relay, intake, consume) that this test started."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.args = args
        self.env = env
        self.log = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0
        self.crashes = 0  # exits at a failpoint (LEDGER_FAILPOINTS), restarted by `check`

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [LEDGER, *self.args], env=self.env, stdout=out, stderr=out, stdin=subprocess.DEVNULL
            )

    def check(self) -> None:
        """Restart the process after a failpoint crash (exit 137); fail when it ended in any other way:
        the ledger's processes must ride out Kafka trouble, not exit."""
        assert self.proc is not None
        code = self.proc.poll()
        if code == 137:
            self.crashes += 1
            self.start()
        elif code is not None:
            raise AssertionError(f"{self.name} exited with {code} by itself:\n{self.tail()}")

    def kill9(self) -> None:
        assert self.proc is not None
        self.check()
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self.kills += 1

    def stop(self) -> None:
        """SIGTERM and wait (the commands finish their batch and close their clients)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def free_port_pair(start: int = 30000, stop: int = 32700, step: int = 10) -> int:
    """A client port whose port + 1 (the controller) is free too, on 127.0.0.1; tried in a random
    order, so two test sessions on one machine rarely reach for the same port.

    Below Linux's ephemeral range (32768-60999): a client that keeps reconnecting to a dead
    broker on an ephemeral port can get that very port as its source port and connect to itself
    (TCP simultaneous open), which then blocks the broker's restart.
    """
    import random

    ports = list(range(start, stop, step))
    random.Random(os.getpid() ^ time.time_ns()).shuffle(ports)
    for port in ports:
        if all(port_free(p) for p in (port, port + 1)):
            return port
    raise RuntimeError("no free port pair for a private Kafka broker")


def port_free(port: int) -> bool:
    """Whether nothing listens on (or holds) `port` of 127.0.0.1."""
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PrivateBroker:
    """A single-node broker of deploy/kafka.sh in a folder of its own, so a test may kill and restart it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port_pair()
        self.bootstrap = f"127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> KafkaEndpoint:
        """The broker as its super user `admin` (the password kafka.sh made in this broker's folder)."""
        password = (self.folder / "kafka" / "credentials" / "admin").read_text().strip()
        return KafkaEndpoint(self.bootstrap, "SASL_PLAINTEXT", "admin", password)

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            LEDGER_DEPLOY_DIR=str(self.folder),
            LEDGER_KAFKA_PORT=str(self.port),
            LEDGER_PYTHON=str(Path(LEDGER).parent / "python"),
        )
        return env

    def _script(self, *args: str, timeout: float = 300) -> str:
        proc = subprocess.run(
            ["bash", KAFKA_SH, *args], env=self._env(), capture_output=True, text=True, timeout=timeout, check=False
        )
        if proc.returncode != 0:
            raise RuntimeError(f"kafka.sh {' '.join(args)} failed:\n{proc.stderr}\n{proc.stdout}")
        return proc.stdout.strip()

    def start(self) -> str:
        out = self._script("start").splitlines()[-1]
        assert out == self.bootstrap, out
        return out

    def restart(self) -> str:
        """Start again on the same data (retried while a stale client socket still holds the port)."""
        return retry_port_in_use(self.start)

    def pid(self) -> int:
        return int((self.folder / "kafka" / "single" / "kafka.pid").read_text().strip())

    def kill9(self) -> None:
        """kill -9 the broker JVM (its recorded PID, which this test started) and wait until it is gone."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: not _alive(pid), 30, "the killed broker to disappear", 0.1)

    def stop(self) -> None:
        self._script("stop")
        self._script("clean")


def retry_port_in_use(start: Callable[[], str], attempts: int = 5) -> str:
    """Run a broker start, again when it found its port taken by a client's self-connected socket."""
    for attempt in range(attempts):
        try:
            return start()
        except RuntimeError as exc:
            if "in use" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(1.0)  # the self-connected socket is closed by its client within a moment
    raise AssertionError("unreachable")


class Publisher(threading.Thread):
    """Publishes submissions on the inbound topics in chunks, as an organisation's system would:
    acks=all, and a chunk with any failed record is sent again whole (so per-address order holds).
    `acked` holds the ids Kafka acknowledged."""

    def __init__(
        self,
        bootstrap: KafkaEndpoint | str | Mapping[str, KafkaEndpoint],
        names: TopicNames,
        events: list[dict[str, Any]],
        chunk: int = 40,
        pause: float = 0.4,
    ) -> None:
        """`bootstrap`: one endpoint for all, or each organisation's own (IMG, NCG, PORTAL: the
        principal that may write its inbound topic)."""
        super().__init__(name="publisher", daemon=True)
        self.endpoints: Mapping[str, KafkaEndpoint | str] = (
            bootstrap if isinstance(bootstrap, Mapping) else dict.fromkeys(("IMG", "NCG", "PORTAL"), bootstrap)
        )
        self.names = names
        self.events = events
        self.chunk = chunk
        self.pause = pause  # load shaping: spread the history over the chaos, not synchronisation
        self.acked: set[str] = set()
        self.sent_chunks = 0
        self.retries = 0
        self.error: BaseException | None = None
        self.stop_event = threading.Event()

    @property
    def progress(self) -> float:
        return min(1.0, self.sent_chunks * self.chunk / max(len(self.events), 1))

    def run(self) -> None:
        try:
            producers: dict[str, Any] = {}
            for start in range(0, len(self.events), self.chunk):
                chunk = self.events[start : start + self.chunk]
                while not self.stop_event.is_set():
                    try:
                        for org in {event["org"] for event in chunk} - set(producers):
                            producers[org] = make_producer(self.endpoints[org], f"chaos-publisher-{org}", linger_ms=2)
                        futures = []
                        for i, event in enumerate(chunk):
                            key, value, headers = inbound_record(event, structured=(start + i) % 11 == 0)
                            futures.append(
                                (
                                    event["id"],
                                    producers[event["org"]].send(
                                        topic_for(event, self.names), value=value, key=key, headers=headers
                                    ),
                                )
                            )
                        for producer in producers.values():
                            producer.flush(timeout=60)
                        failed = False
                        for event_id, future in futures:
                            try:
                                future.get(timeout=1)
                                self.acked.add(event_id)
                            except Exception:  # noqa: BLE001 - not acknowledged: the chunk is sent again
                                failed = True
                        if not failed:
                            break
                    except Exception:  # noqa: BLE001 - broker unreachable: new producer, same chunk
                        pass
                    self.retries += 1
                    for producer in producers.values():
                        producer.close(timeout=0)
                    producers = {}
                    self.stop_event.wait(0.5)
                self.sent_chunks += 1
                self.stop_event.wait(self.pause)
            for producer in producers.values():
                producer.close(timeout=10)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def group_caught_up(
    bootstrap: KafkaEndpoint | str,
    group: str,
    topics: list[str],
    client_id: str = "ledger-tests-lag",
    *,
    offsets: bool = False,
) -> bool:
    """Whether `group` has committed the end offset of every partition of `topics` (with `offsets`:
    and has committed offsets at all); False while the broker or the group is still settling."""
    from kafka.structs import TopicPartition

    admin = make_admin(bootstrap, client_id)
    consumer = make_consumer(bootstrap, client_id, None)
    try:
        tps = [TopicPartition(t, p) for t in topics for p in (consumer.partitions_for_topic(t) or ())]
        ends = consumer.end_offsets(tps)
        committed = admin.list_group_offsets(group).get(group, {})
        return (bool(committed) or not offsets) and all(
            ends[tp] == 0 or (tp in committed and committed[tp].offset >= ends[tp]) for tp in tps
        )
    except Exception:  # noqa: BLE001 - the broker may still be settling, the group still forming
        return False
    finally:
        consumer.close()
        admin.close()


def check_outcome(env: dict[str, str], bootstrap: str, names: TopicNames, publisher: Publisher, tmp: Path) -> dict:
    """The acceptance criteria of the fault and soak tests: every acknowledged event stored exactly once,
    nothing stored that nobody published, the chains intact, ledger.events carrying every stored event;
    returns figures for the report line and the rows of a rebuild from ledger.events (`rebuilt_rows`)."""
    exported = export(env)
    counts = Counter(e["id"] for e in exported)
    published = {e["id"] for e in publisher.events}
    missing = publisher.acked - set(counts)
    assert not missing, f"{len(missing)} acknowledged events are not in the export, e.g. {sorted(missing)[:3]}"
    twice = [i for i, n in counts.items() if n > 1]
    assert not twice, f"events stored more than once: {twice[:3]}"
    assert set(counts) <= published, "the export holds events nobody published"
    assert "verify: intact" in run_ledger(env, "verify").stdout.decode()
    on_topic = Counter(
        r["headers"] and dict(r["headers"])["ce_id"].decode() for r in read_topic_confluent(bootstrap, names.events)
    )
    assert set(counts) <= set(on_topic), "ledger.events lacks stored events"
    location = SQLiteLocation(tmp / "from-kafka")
    rebuild_from_kafka(location, lambda: make_consumer(bootstrap, "ledger-tests-rebuild", None), topic=names.events)
    return {
        "stored": len(exported),
        "acked": len(publisher.acked),
        "resent_on_topic": sum(on_topic.values()) - len(on_topic),
        "rebuilt_rows": store_rows(location),
    }
