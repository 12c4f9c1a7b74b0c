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

from benchmarks.common import history_parser  # noqa: E402
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


def start_server(
    home: Path, port: int, workers: int | None = None, extra: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA")}
    env.pop("LEDGER_ISSUER_JWKS", None)
    env["LEDGER_HOME"] = str(home)
    env.update(extra or {})
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
    parser = history_parser(__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=200.0, help="paced requests/s over all 50 clients")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None, help="server processes (default: ledger serve's own)")
    parser.add_argument(
        "--only", choices=["case view", "metrics", "evaluation"], action="append", help="only these endpoints"
    )
    parser.add_argument(
        "--auth",
        action="store_true",
        help="instead: case views without a token (development mode) and with a verified bearer token "
        "(issuer keys configured), on the same store in the same run, alternating --runs times",
    )
    parser.add_argument("--runs", type=int, default=3, help="rounds of the --auth comparison")
    args = parser.parse_args()
    if args.auth:
        auth_comparison(args)
        return

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


def auth_comparison(args: argparse.Namespace) -> None:
    """Case views saturated, without and with a bearer token, servers started alternately."""
    import statistics
    import tempfile

    home = ledger_home(args.addresses, args.seed)
    run("metrics", "--json", home=home)
    sample = subjects(home, 20_000)
    rates: dict[str, list[float]] = {"without": [], "with": []}
    p50: dict[str, list[float]] = {"without": [], "with": []}
    with tempfile.TemporaryDirectory(prefix="query-auth-") as tmp:
        keys = Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        env["LEDGER_HOME"] = str(keys)
        subprocess.run([sys.executable, "-m", "ledger", "keys", "init", "--issuer"], env=env, cwd=REPO, check=True)
        token = (
            subprocess.run(
                [sys.executable, "-m", "ledger", "token", "issue", "--role", "OMBUDSMAN", "--ttl", "2h"],
                env=env,
                cwd=REPO,
                check=True,
                capture_output=True,
            )
            .stdout.decode()
            .strip()
        )
        for _ in range(args.runs):
            for mode in ("without", "with"):
                port = free_port()
                extra = {"LEDGER_ISSUER_JWKS": str(keys / "issuer.jwks.json")} if mode == "with" else {}
                headers = {"Authorization": f"Bearer {token}"} if mode == "with" else {}
                proc = start_server(home, port, args.workers, extra)
                rnd = random.Random(2)

                def paths(rnd: random.Random = rnd) -> str:
                    return f"/cases/{sample[rnd.randrange(len(sample))]}"

                try:
                    load("127.0.0.1", port, paths, clients=args.clients, seconds=2, headers=headers)  # warm-up
                    result = load("127.0.0.1", port, paths, clients=args.clients, seconds=args.seconds, headers=headers)
                finally:
                    os.kill(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=60)
                bad = sum(n for status, n in result.statuses.items() if status != 200) + result.errors
                if bad:
                    raise SystemExit(f"{bad} case views {mode} a token were not answered 200: {result.statuses}")
                rates[mode].append(result.rate)
                p50[mode].append(result.percentile(0.5))
                print(
                    f"{mode:>7} token: {result.rate:,.0f} requests/s, p50 {result.percentile(0.5):.1f} ms",
                    file=sys.stderr,
                )
    without, with_token = statistics.median(rates["without"]), statistics.median(rates["with"])
    workers = f"{args.workers} server process(es)" if args.workers else "ledger serve's default processes"
    print(
        f"\ncase views, saturated: {args.clients} clients, {args.seconds:.0f} s per round, "
        f"{args.runs} rounds, {workers}\n"
    )
    print("| case view | requests/s (median) | p50 ms (median) | rounds (requests/s) |")
    print("|---|---:|---:|---|")
    for mode, label in (("without", "no token (development mode)"), ("with", "bearer token verified (cached)")):
        runs = ", ".join(f"{r:,.0f}" for r in rates[mode])
        print(f"| {label} | {statistics.median(rates[mode]):,.0f} | {statistics.median(p50[mode]):.1f} | {runs} |")
    print(f"\ncost of token verification per case view: {(without / with_token - 1) * 100:+.1f} % time per request")


if __name__ == "__main__":
    main()
