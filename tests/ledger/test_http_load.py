"""A burst of slow cut-off queries must not starve the server (a real `ledger serve` process).

Twenty `/metrics?at=…` with new dates each fold the whole log again (real blocking work on a
store of a few thousand addresses). The server runs at most `LEDGER_CUTOFF_LIMIT` (here 2) of
them at once, off the event loop; the rest get 503 with `Retry-After` at once; and `/healthz`
and a "now" case view answer within 100 ms while the admitted ones run.

No sleeps: the probes start once a 503 has come back (the limit is then known to be full) and
count only while an admitted computation is still in flight (sent before the probe started,
answered after it ended).
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from tests.homes import imported_home
from tests.homes import run_cli as cli
from tests.serving import ledger_serve, serve_env

REPO = Path(__file__).resolve().parents[2]
LIMIT = 2
BURST = 20
BOUND_S = 0.100


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_home(tmp_path_factory, "load", 3000, 17)


@pytest.fixture(scope="module")
def server(home: Path) -> Iterator[str]:
    # folded from the log: the bitemporal index would answer each in milliseconds
    with ledger_serve(serve_env(home, LEDGER_CUTOFF_LIMIT=str(LIMIT), LEDGER_FIGURES_INDEX="off"), timeout=120) as base:
        yield base


@dataclass
class Call:
    sent: float
    done: float
    status: int
    headers: httpx.Headers
    body: bytes


def test_slow_cutoff_queries_do_not_starve_the_server(server: str, home: Path) -> None:
    subject = orjson.loads(cli(home, "export").stdout.splitlines()[0])["subject"]
    # Early dates: nearly every address has events after them, so each is a scan of the whole log.
    dates = [f"2019-{month:02d}-{day:02d}" for month in (1, 2) for day in range(1, BURST // 2 + 1)]
    busy = threading.Event()  # a 503 came back: the limit is full
    settled = threading.Event()  # busy, or every call has answered
    answered = []
    start = threading.Barrier(BURST)

    def ask(at: str) -> Call:
        with httpx.Client(timeout=120) as client:
            start.wait()
            sent = time.perf_counter()
            response = client.get(f"{server}/metrics", params={"at": at})
            done = time.perf_counter()
        if response.status_code == 503:
            busy.set()
        answered.append(at)
        if busy.is_set() or len(answered) == BURST:
            settled.set()
        return Call(sent, done, response.status_code, response.headers, response.content)

    probes: list[tuple[float, float]] = []
    now_views: list[tuple[float, float]] = []
    with ThreadPoolExecutor(BURST) as pool, httpx.Client(timeout=30) as probe:
        probe.get(f"{server}/healthz")  # a connection of its own, opened before the burst
        futures = [pool.submit(ask, at) for at in dates]
        assert settled.wait(timeout=300), "the burst did not settle"
        assert busy.is_set(), "no 503: the server admitted every cut-off computation"
        for _ in range(15):
            began = time.perf_counter()
            health = probe.get(f"{server}/healthz")
            probes.append((began, time.perf_counter()))
            assert health.status_code == 200 and health.json()["status"] == "ok"
            began = time.perf_counter()
            view = probe.get(f"{server}/cases/{subject}")
            now_views.append((began, time.perf_counter()))
            assert view.status_code == 200
        calls = [f.result() for f in futures]

    admitted = [c for c in calls if c.status == 200]
    refused = [c for c in calls if c.status == 503]
    assert len(admitted) + len(refused) == BURST, [c.status for c in calls]
    assert len(admitted) >= LIMIT and len(refused) >= BURST // 2, [c.status for c in calls]
    for call in refused:
        assert call.headers["content-type"] == "application/problem+json"
        assert int(call.headers["retry-after"]) >= 1
        body = orjson.loads(call.body)
        assert body["status"] == 503 and body["detail"]
    for call in admitted:
        assert orjson.loads(call.body)["provenance"]["source"] == "event log"

    def under_load(spans: list[tuple[float, float]]) -> list[float]:
        """Latencies of the probes made while an admitted computation was in flight."""
        return [end - began for began, end in spans if any(c.sent <= began and end <= c.done for c in admitted)]

    health_s, view_s = under_load(probes), under_load(now_views)
    slowest = max(c.done - c.sent for c in admitted)
    assert len(health_s) >= 5, f"too few probes under load ({len(health_s)}); computations took {slowest:.3f} s"
    assert statistics.median(health_s) < BOUND_S, f"/healthz under load: {sorted(health_s)}"
    assert statistics.median(view_s) < BOUND_S, f"/cases/{{id}} under load: {sorted(view_s)}"
    # Once the burst is over a refused query succeeds (the limit was load shedding, not a fault).
    retry = httpx.get(f"{server}/metrics", params={"at": dates[-1]}, timeout=120)
    assert retry.status_code == 200
