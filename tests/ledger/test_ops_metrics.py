"""Operators' metrics of `ledger serve` (issue 15, item 5): Prometheus exposition on LEDGER_OPS_PORT.

A real `ledger serve` (one worker, and two in multiprocess mode) is scraped on its ops port and
the text is parsed with prometheus-client's own parser: the names are there and the values move
when requests are served and events appended. `/readyz` answers 200 while the projections are
within LEDGER_READY_MAX_LAG of the store and 503 beyond it; each request is a JSON access-log line.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.consumers.history import address_history
from tests.serving import free_port, ledger_serve, serve_env


def scrape(port: int) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Sample name -> (sorted labels -> value) of the ops port's /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def value(metrics: dict, name: str, **labels: str) -> float:
    """The sum of a sample over the series whose labels include `labels` (0 when there is none)."""
    want = set(labels.items())
    return sum(v for key, v in metrics.get(name, {}).items() if want <= set(key))


def poll(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(0.2)


def append(env: dict[str, str], events: list[dict]) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "append", "-", "--as", events[0]["org"]],
        input=b"".join(orjson.dumps(e) + b"\n" for e in events),
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()


def _img(n: int) -> list[dict]:
    return [e for e in address_history(n) if e["org"] == "IMG"]


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_exposes_operator_metrics_that_move(tmp_path: Path, workers: int) -> None:
    ops = free_port()
    env = serve_env(tmp_path, LEDGER_OPS_PORT=str(ops), LEDGER_READY_MAX_LAG="0")
    append(env, _img(1))
    output: list[str] = []
    with ledger_serve(env, workers=workers, output=output) as base:
        before = scrape(ops)
        for name in ("ledger_up", "ledger_store_head", "ledger_projection_position", "ledger_projection_lag_events"):
            assert name in before, f"{name} missing from {sorted(before)}"
        head = value(before, "ledger_store_head")
        assert head == len(_img(1))
        assert value(before, "ledger_projection_lag_events") == 0
        ready = httpx.get(f"{base}/readyz", timeout=10)
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        for _ in range(5):
            assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
        address = _img(1)[0]["subject"]
        assert httpx.get(f"{base}/cases/{address}", timeout=10).status_code == 200

        def counted() -> bool:
            m = scrape(ops)
            return value(m, "ledger_http_requests_total", route="/healthz", method="GET", status="200") >= 5

        poll(counted, 30, "five GET /healthz counted")  # the workers' counts reach the scrape (multiprocess)
        after = scrape(ops)
        assert value(after, "ledger_http_requests_total", route="/readyz", status="200") >= 1
        # the route's template, not the path: one series for every address
        assert value(after, "ledger_http_requests_total", route="/cases/{subject}", status="200") == 1
        assert not any("0014" in dict(k).get("route", "") for k in after["ledger_http_requests_total"])
        assert value(after, "ledger_http_request_duration_seconds_count", route="/healthz") >= 5
        assert value(after, "ledger_http_request_duration_seconds_bucket", route="/healthz", le="+Inf") >= 5

        # The store moves on behind the server's back: the head and the projections' lag say so,
        # and /readyz (at most 0 events behind) is 503 until a read catches the projections up.
        append(env, _img(2))
        moved = scrape(ops)
        assert value(moved, "ledger_store_head") == head + len(_img(2))
        assert value(moved, "ledger_projection_lag_events") == len(_img(2))
        behind = httpx.get(f"{base}/readyz", timeout=10)
        assert behind.status_code == 503 and f"{len(_img(2))} events behind" in behind.json()["detail"]
        for _ in range(workers * 4):  # every worker's read model catches up on a read
            httpx.get(f"{base}/cases/{_img(2)[0]['subject']}", timeout=10)
        poll(lambda: value(scrape(ops), "ledger_projection_lag_events") == 0, 30, "the projections caught up")
    log = [orjson.loads(line) for line in output[0].splitlines() if line.startswith("{")]
    requests = [line for line in log if line.get("event") == "http request"]
    assert any(r["route"] == "/healthz" and r["status"] == 200 and r["method"] == "GET" for r in requests)
    assert any(r["route"] == "/cases/{subject}" and r["path"] == f"/cases/{address}" for r in requests)
    assert all(isinstance(r["duration_ms"], float) for r in requests)


def test_without_an_ops_port_serve_logs_no_requests(tmp_path: Path) -> None:
    output: list[str] = []
    with ledger_serve(serve_env(tmp_path), output=output) as base:
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
    assert '"http request"' not in output[0]


def test_serve_counts_the_appends_of_post_events(tmp_path: Path) -> None:
    env = serve_env(tmp_path)
    for args in (["keys", "init", "--issuer"], ["token", "issue", "--role", "IMG", "--ttl", "1h"]):
        made = subprocess.run(
            [sys.executable, "-m", "ledger", *args], env=env, capture_output=True, timeout=60, check=True
        )
    token = made.stdout.decode().strip()
    ops = free_port()
    with ledger_serve({**env, "LEDGER_OPS_PORT": str(ops)}) as base:
        good, *_ = _img(3)
        bad = dict(_img(4)[0], data={"claim_id": "X"})  # another address: a batch is all-or-nothing per address
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/cloudevents-batch+json"}
        answer = httpx.post(f"{base}/events", content=orjson.dumps([good, bad]), headers=headers, timeout=30)
        assert [r["result"] for r in answer.json()] == ["accepted", "rejected"], answer.text
        m = scrape(ops)
        assert value(m, "ledger_appends_total", door="http", result="accepted") == 1
        assert value(m, "ledger_appends_total", door="http", result="rejected") == 1
        assert value(m, "ledger_rejections_total", door="http", code="schema_invalid") == 1
        assert value(m, "ledger_append_duration_seconds_count", door="http") == 1
        assert value(m, "ledger_store_head") == 1
