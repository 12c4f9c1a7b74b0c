"""The soak test (issue 15 item 4): the whole topology of deploy/local-cluster.sh (three Kafka nodes,
PostgreSQL, the witnesses, the relay, the intake, two consume, two serve) under load and faults.

A generated history goes in through the inbound topics as IMG's, NCG's and the portal's principals
(acks=all; what Kafka acknowledged is recorded). Meanwhile a random role is killed with -9 (its
whole process group) every few seconds and started again as a supervisor would, and a broker is
killed with -9 and restarted on its data twice. Afterwards, once everything has caught up (polled
with deadlines): every acknowledged event is in the store exactly once; ledger.events carries every
stored event, and where the relay re-sent one after a kill the copies are identical (nothing doubled
as an event); the projections the consume group built, a rebuild from ledger.events and those the
serve replicas serve (read-only) all equal a clean rebuild from the store. It prints the kills survived and the
resume times.

`LEDGER_SOAK_SECONDS` sets the length of the chaos phase (default 75: the test takes about four
minutes, start-up included); the history grows with it. `LEDGER_TEST_SEED` replays a run's choices.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
import urllib.error
import urllib.request
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from consumers.topics import TopicNames
from consumers.tracking import RelayTracking
from ledger.bootstrap import Settings, kafka_location, open_ledger, projections_location
from tests.consumers import kafka_support as support
from tests.consumers.chaos import Publisher, check_outcome, group_caught_up, wait_for
from tests.soak.cluster import LocalCluster

SECONDS = float(os.environ.get("LEDGER_SOAK_SECONDS") or 75)
SEED = int(os.environ.get("LEDGER_TEST_SEED") or random.SystemRandom().randrange(1_000_000))
ADDRESSES = max(300, int(4 * SECONDS))
BROKER_RESTARTS = 2
CATCH_UP_S = 240.0
# Checkpoints every 250 events, so the relay asks the witnesses to cosign while they are being killed.
OVERRIDES = {"LEDGER_CHECKPOINT_EVERY": "250"}


def _ready(url: str) -> dict | None:
    """The serve replica's /readyz body when it says ready, else None."""
    try:
        with urllib.request.urlopen(f"{url}/readyz", timeout=5) as response:
            body = json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None
    return body if body.get("status") == "ready" else None


def _token(cluster: LocalCluster) -> str:
    """An evaluator's bearer token from the cluster's token issuer (the key secrets.sh made)."""
    issuer = Path(cluster.exports["LEDGER_CLUSTER_SECRETS"]) / "issuer"
    done = support.run_ledger(
        {"LEDGER_HOME": str(issuer), "PATH": os.environ["PATH"]}, "token", "issue", "--role", "EVALUATOR"
    )
    return done.stdout.decode().strip()


def _figures(url: str, token: str) -> bytes | None:
    """GET /metrics (the governance figures) of a serve replica as an evaluator; None when it fails."""
    request = urllib.request.Request(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return bytes(response.read())
    except (OSError, urllib.error.URLError):
        return None


def _same_figures(a: object, b: object) -> bool:
    """Equal figures, durations up to a thousandth of a day: open periods run to the moment asked."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_figures(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_figures(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=0, abs_tol=1e-3)
    return a == b


def _serve_url(cluster: LocalCluster, role: str) -> str:
    urls = cluster.exports["LEDGER_CLUSTER_SERVE"].split(",")
    return urls[int(role.removeprefix("serve-")) - 1]


def _restart_role(cluster: LocalCluster, role: str, killed: float, down: float) -> float:
    """A supervisor's restart after a random down time; seconds from the kill until the role answers
    again (its ports; a serve replica also /readyz)."""
    time.sleep(down)  # chaos: down for a random moment, not synchronisation
    cluster.start(role)  # returns once its ports answer
    if role.startswith("serve-"):
        url = _serve_url(cluster, role)
        wait_for(lambda: _ready(url) is not None, 120, f"{role} ready again", 0.2)
    return time.monotonic() - killed


def _restart_broker(cluster: LocalCluster, node: int, down: float) -> float:
    """kill -9 a broker, start it again on its data; seconds from the start until it is back."""
    cluster.kill_broker(node)
    time.sleep(down)  # chaos: down for a random moment
    return cluster.start_broker(node)


def _chaos(cluster: LocalCluster, publisher: Publisher, rnd: random.Random) -> tuple[dict, dict, list]:
    """Kill -9 a random role every few seconds (restarted in the background, as a supervisor would)
    and restart a broker twice, until the chaos phase is over and the publisher has sent everything.
    Returns the kills per role, the resume times per role and the brokers' rejoin times."""
    roles = cluster.roles()
    kills: dict[str, int] = dict.fromkeys(roles, 0)
    resumes: dict[str, list[float]] = defaultdict(list)
    brokers: list[tuple[int, float]] = []
    pending: dict[str, Future[float]] = {}  # role or "kafka-N" -> its restart
    started = time.monotonic()
    broker_at = [started + SECONDS * f for f in (0.15, 0.55)]  # one at a time
    next_kill = started + rnd.uniform(2.0, 4.0)
    hard_deadline = started + SECONDS + 300
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="soak-restart") as pool:
        while time.monotonic() < started + SECONDS or publisher.is_alive() or pending or broker_at:
            assert time.monotonic() < hard_deadline, "the chaos phase took too long (the publisher is stuck?)"
            assert publisher.error is None, publisher.error
            for name, future in [(n, f) for n, f in pending.items() if f.done()]:
                del pending[name]
                if name.startswith("kafka-"):
                    brokers.append((int(name.removeprefix("kafka-")), future.result()))
                else:
                    resumes[name].append(future.result())
            dead = [name for name, up in cluster.alive().items() if not up and name not in pending]
            assert not dead, f"{dead} stopped by themselves:\n" + "\n".join(cluster.log_tail(n) for n in dead)
            now = time.monotonic()
            if broker_at and now >= broker_at[0] and not any(n.startswith("kafka-") for n in pending):
                broker_at.pop(0)
                node = rnd.randint(1, 3)
                pending[f"kafka-{node}"] = pool.submit(_restart_broker, cluster, node, rnd.uniform(1.0, 3.0))
            if now >= next_kill and now < started + SECONDS and sum(1 for n in pending if n in kills) < 2:
                candidates = [name for name in roles if name not in pending]
                fewest = min(kills[name] for name in candidates)
                victim = rnd.choice([name for name in candidates if kills[name] == fewest])
                cluster.kill(victim)  # returns once the whole process group is gone
                kills[victim] += 1
                pending[victim] = pool.submit(_restart_role, cluster, victim, time.monotonic(), rnd.uniform(0.0, 1.0))
                next_kill = time.monotonic() + rnd.uniform(2.0, 4.0)
            time.sleep(0.2)  # pacing of the chaos loop
    assert publisher.error is None, publisher.error
    return kills, resumes, brokers


def _caught_up(cluster: LocalCluster, store_url: str, acked: set[str], home: Path) -> None:
    """Wait (with deadlines) until the intake, the relay, the consume group and the serve replicas are
    done with everything that was acknowledged."""
    ledger = open_ledger(Settings(home=home, store_url=store_url))
    try:
        ids = sorted(acked)
        wait_for(lambda: len(ledger.app.index.lookup_ids(ids)) == len(ids), CATCH_UP_S, "acknowledged events stored")
        names = TopicNames("")
        wait_for(
            lambda: group_caught_up(cluster.admin, "ledger-intake", sorted(names.inbound)),
            CATCH_UP_S,
            "the intake at the end of the inbound topics",
        )
        tracking = RelayTracking(ledger.app.recorder, f"relay:{names.events}")
        head = ledger.log.max_position()
        wait_for(lambda: tracking.position() == head, CATCH_UP_S, "the relay at the store's head")
        wait_for(
            lambda: group_caught_up(cluster.admin, "ledger-projections", [names.events]),
            CATCH_UP_S,
            "the consume group at the end of ledger.events",
        )
        # A serve replica catches up when it is asked (a probe does no projection work): ask for the figures.
        token = _token(cluster)
        for role in ("serve-1", "serve-2"):
            url = _serve_url(cluster, role)
            wait_for(
                lambda url=url: _figures(url, token) is not None and (_ready(url) or {}).get("position") == head,
                CATCH_UP_S,
                f"{role}'s projections at the head",
            )
    finally:
        ledger.close()


def _copies_only(cluster: LocalCluster) -> int:
    """Records of ledger.events per event id: every re-sent record is a copy of the first (same key,
    value, position and hash). Returns how many records were re-sent."""
    seen: dict[str, tuple] = {}
    resent = 0
    for record in support.read_topic_confluent(cluster.admin, "ledger.events"):
        headers = dict(record["headers"])
        event_id = headers["ce_id"].decode()
        body = (record["key"], record["value"], headers.get("ce_streamposition"), headers.get("ce_hash"))
        if event_id in seen:
            resent += 1
            assert seen[event_id] == body, f"event {event_id} is on ledger.events twice with different content"
        seen[event_id] = body
    return resent


def test_the_cluster_survives_kills_and_broker_restarts(tmp_path: Path) -> None:
    rnd = random.Random(SEED)
    print(f"\nsoak seed {SEED} (LEDGER_TEST_SEED={SEED} replays it), {SECONDS:.0f} s of chaos, {ADDRESSES} addresses")
    cluster = LocalCluster(tmp_path / "local-cluster", OVERRIDES)
    began = time.monotonic()
    publisher: Publisher | None = None
    try:
        exports = cluster.up()  # fails loudly (RuntimeError with the script's output) when a server cannot start
        up_s = time.monotonic() - began
        users = support.principals(cluster.admin, cluster.credentials)
        events = support.generated_history(ADDRESSES, seed=SEED % 1000)
        chunk = 40
        # Load shaping: spread the history over the chaos phase.
        pause = max(0.05, 0.8 * SECONDS / max(1, len(events) // chunk))
        publisher = Publisher(
            {org: users[org.lower()] for org in ("IMG", "NCG", "PORTAL")}, TopicNames(""), events, chunk, pause
        )
        publisher.start()
        kills, resumes, brokers = _chaos(cluster, publisher, rnd)
        chaos_end = time.monotonic()
        home = tmp_path / "operator"
        store_url = exports["LEDGER_STORE"]
        _caught_up(cluster, store_url, publisher.acked, home)
        catch_up_s = time.monotonic() - chaos_end

        env = support.ledger_env(home, None, store=store_url)
        reference = support.reference_rows(env, tmp_path / "reference")
        ledger = open_ledger(Settings(home=home, store_url=store_url))
        try:
            from_kafka = support.store_rows(kafka_location(ledger))
            embedded = projections_location(ledger).active_id()
            head = ledger.log.max_position()
        finally:
            ledger.close()
        assert from_kafka == reference, "the consume group's projections differ from a clean rebuild from the store"
        # the replicas serve the consume group's store (LEDGER_PROJECTIONS_SOURCE=kafka) and write nothing
        assert embedded is None, "a serve replica created projections of its own"
        token = _token(cluster)
        figures = [_figures(_serve_url(cluster, role), token) for role in ("serve-1", "serve-2")]
        assert None not in figures, "a serve replica does not answer GET /metrics"
        answers = [json.loads(body or b"") for body in figures]
        for answer in answers:
            prov = answer["provenance"]
            assert prov["projections"]["fed_by"] == "kafka" and prov["behind"] == 0 and prov["position"] == head
            prov.pop("now")  # when each was asked
        assert _same_figures(answers[0], answers[1]), f"the serve replicas give different figures: {answers}"
        outcome = check_outcome(env, cluster.admin, TopicNames(""), publisher, tmp_path)
        assert outcome["rebuilt_rows"] == reference, "a rebuild from ledger.events differs from one from the store"
        resent = _copies_only(cluster)
        assert min(kills.values()) >= 1, f"not every role was killed: {kills}"
        assert len(brokers) == BROKER_RESTARTS
    finally:
        if publisher is not None:
            publisher.stop_event.set()
        cluster.down(keep_logs=tmp_path / "logs")
    flat = sorted(s for values in resumes.values() for s in values)
    print(
        f"up in {up_s:.0f} s; survived {sum(kills.values())} kill -9 ({kills}) and {len(brokers)} broker restarts "
        f"(node, s to rejoin: {', '.join(f'{n}: {s:.1f}' for n, s in brokers)}); "
        f"resume s after a kill (until the role answers again): median {flat[len(flat) // 2]:.1f}, max {flat[-1]:.1f} "
        f"({'; '.join(f'{r}: ' + ', '.join(f'{s:.1f}' for s in v) for r, v in sorted(resumes.items()))}); "
        f"caught up {catch_up_s:.0f} s after the chaos; {outcome['acked']} events acknowledged, {outcome['stored']} "
        f"stored exactly once, {resent} re-sent copies on ledger.events, {publisher.retries} publisher retries; "
        f"total {time.monotonic() - began:.0f} s"
    )
