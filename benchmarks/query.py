"""Query latency of `ledger serve` under load on loopback: case view, metrics, evaluation.

    .venv/bin/python benchmarks/query.py [--addresses 220000] [--seconds 10] [--rate 200]

Starts `ledger serve` on the cached imported history of `benchmarks/setup.py` (its
projections caught up first), waits for /healthz, then drives it with `benchmarks/loadgen.py`
from one process on the same machine:
- paced: 50 concurrent clients (connections) sending `--rate` requests/s in total, open loop
  (each client keeps its schedule, so queueing shows in the latencies);
- saturated: 50 clients, each sending its next request as soon as the answer is in (closed
  loop): the throughput, with latency = queue length / throughput.
Case views ask random addresses. Latency is request written → response read, in ms.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.loadgen import Result, load  # noqa: E402
from benchmarks.setup import REPO, ledger_home, run  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def subjects(home: Path, n: int) -> list[str]:
    folder = home / "projections"
    store = folder / (folder / "current").read_text().strip()
    with sqlite3.connect(f"file:{store}?mode=ro", uri=True) as conn:
        rows = [r[0] for r in conn.execute("SELECT subject FROM proj_address")]
    return random.Random(1).sample(rows, min(n, len(rows)))


def start_server(home: Path, port: int, workers: int | None = None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA")}
    env["LEDGER_HOME"] = str(home)
    command = [sys.executable, "-m", "ledger", "serve", "--port", str(port)]
    if workers:
        command += ["--workers", str(workers)]
    proc = subprocess.Popen(command, cwd=REPO, env=env)
    deadline = time.monotonic() + 300
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("ledger serve did not come up")
        try:
            proc.wait(timeout=0.2)  # between polls; returns at once if the server died
        except subprocess.TimeoutExpired:
            pass


def row(name: str, mode: str, r: Result) -> str:
    bad = sum(n for status, n in r.statuses.items() if status != 200) + r.errors
    return (
        f"| {name} | {mode} | {r.rate:,.0f} | {r.percentile(0.5):.1f} | {r.percentile(0.99):.1f} | "
        f"{len(r.latencies):,} | {bad} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=220_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0, help="paced requests/s over all 50 clients")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: ledger serve's own)")
    parser.add_argument(
        "--only", choices=["case view", "metrics", "evaluation"], action="append", help="only these endpoints"
    )
    args = parser.parse_args()

    home = ledger_home(args.addresses, args.seed)
    run("metrics", "--json", home=home)  # the projections catch up with the store before serving
    sample = subjects(home, 20_000)
    port = free_port()
    proc = start_server(home, port, args.workers)
    rnd = random.Random(2)
    endpoints = {
        "case view": lambda: f"/cases/{sample[rnd.randrange(len(sample))]}",
        "metrics": lambda: "/metrics",
        "evaluation": lambda: "/evaluation",
    }
    lines = []
    try:
        load("127.0.0.1", port, endpoints["case view"], clients=args.clients, seconds=2)  # warm-up
        for name, paths in endpoints.items():
            if args.only and name not in args.only:
                continue
            paced = load("127.0.0.1", port, paths, clients=args.clients, seconds=args.seconds, rate=args.rate)
            lines.append(row(name, f"paced {args.rate:.0f}/s", paced))
            saturated = load("127.0.0.1", port, paths, clients=args.clients, seconds=args.seconds)
            lines.append(row(name, "saturated", saturated))
            print(lines[-2], lines[-1], sep="\n", file=sys.stderr)
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    workers = f"{args.workers} server process(es)" if args.workers else "ledger serve's default processes"
    print(f"\n{args.clients} concurrent clients, {args.seconds:.0f} s each, {len(sample):,} addresses, {workers}\n")
    print("| endpoint | load | requests/s | p50 ms | p99 ms | requests | non-200 |")
    print("|---|---|---:|---:|---:|---:|---:|")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
