"""The web app's pages: case page server time and dashboard first paint in Chromium.

    .venv/bin/python benchmarks/web.py [--addresses 20000] [--requests 400] [--paints 7]

On the cached imported history of `benchmarks/setup.py` (projections caught up first), one
`ledger serve` on loopback:
- case page: `--requests` sequential GET /adres/{id} of random addresses (one client, so no
  queueing: the time is the server's plus loopback), and the same addresses' GET /cases/{id}
  (the JSON the page is made from) in the same run as the baseline; median, p95, and the ratio;
- worklist page: the first ten pages of 50, 10 times each, against `GET /worklist` the same way;
- dashboard: first contentful paint and the moment every chart is drawn, in Debian's Chromium
  (Playwright at /usr/bin/chromium, a fresh context per load), `--paints` loads, median and
  worst; the status page's first paint in the same run as the baseline.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import history_parser  # noqa: E402
from benchmarks.query import free_port, start_server, subjects  # noqa: E402
from benchmarks.setup import ledger_home, run  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def timed_gets(client: httpx.Client, paths: list[str]) -> list[float]:
    """Milliseconds per sequential GET (each must answer 200)."""
    out = []
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return out


# first contentful paint (waiting for the entry when the page asks before it is there)
FCP = """() => new Promise(done => new PerformanceObserver((list, observer) => {
  const entry = list.getEntries().find(e => e.name === 'first-contentful-paint');
  if (entry) { observer.disconnect(); done(entry.startTime); }
}).observe({type: 'paint', buffered: true}))"""


def paints(base: str, path: str, loads: int, charts: bool) -> list[tuple[float, float]]:
    """(first contentful paint, charts drawn: the page's `charts-drawn` mark) in ms after navigation start."""
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for _ in range(loads):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.goto(base + path, wait_until="load")
            fcp = page.evaluate(FCP)
            done = page.evaluate("performance.getEntriesByName('charts-drawn')[0]?.startTime ?? -1") if charts else fcp
            out.append((float(fcp), float(done)))
            context.close()
        browser.close()
    return out


def main() -> None:
    parser = history_parser(__doc__, addresses=20_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--paints", type=int, default=7)
    args = parser.parse_args()

    home = ledger_home(args.addresses, args.seed)
    run("metrics", "--json", home=home)  # the projections catch up with the store before serving
    sample = subjects(home, args.requests)
    port = free_port()
    proc = start_server(home, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            timed_gets(client, [f"/adres/{s}" for s in sample[:50]] + [f"/cases/{s}" for s in sample[:50]])  # warm-up
            order = list(sample)
            random.Random(3).shuffle(order)
            api, pages = [], []
            for start in range(0, len(order), 50):  # alternate in blocks: both see the same machine
                block = order[start : start + 50]
                api += timed_gets(client, [f"/cases/{s}" for s in block])
                pages += timed_gets(client, [f"/adres/{s}" for s in block])
            lists, listed = [], []
            for number in range(1, 11):  # the first ten pages, each 10 times, JSON and page alternating
                lists += timed_gets(client, [f"/worklist?page={number}"] * 10)
                listed += timed_gets(client, [f"/werklijst?page={number}"] * 10)
            client.get("/dashboard")  # the figures computed once before the browser looks
        status = paints(base, "/status", args.paints, charts=False)
        dashboard = paints(base, "/dashboard", args.paints, charts=True)
    finally:
        proc.terminate()
        proc.wait(timeout=60)

    print(f"addresses {args.addresses:,}, {len(pages)} case pages, {os.cpu_count()} cores")
    print("| what | median ms | p95 ms |")
    print("|---|---|---|")
    print(f"| GET /cases/{{id}} (JSON, baseline) | {statistics.median(api):.2f} | {p95(api):.2f} |")
    print(f"| GET /adres/{{id}} (case page) | {statistics.median(pages):.2f} | {p95(pages):.2f} |")
    print(
        f"| ratio page / JSON | {statistics.median(pages) / statistics.median(api):.2f} | {p95(pages) / p95(api):.2f} |"
    )
    print(f"| GET /worklist (JSON, baseline) | {statistics.median(lists):.2f} | {p95(lists):.2f} |")
    print(f"| GET /werklijst (worklist page) | {statistics.median(listed):.2f} | {p95(listed):.2f} |")
    print("| what | median ms | worst ms |")
    print("|---|---|---|")
    for name, values in (
        ("status page first paint (baseline)", [f for f, _ in status]),
        ("dashboard first paint", [f for f, _ in dashboard]),
        ("dashboard charts drawn", [d for _, d in dashboard]),
    ):
        print(f"| {name} | {statistics.median(values):.0f} | {max(values):.0f} |")


if __name__ == "__main__":
    main()
