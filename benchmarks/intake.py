"""POST /events throughput against `ledger append` of the same events, in the same run.

    .venv/bin/python benchmarks/intake.py [--events 50000] [--batch 1000] [--runs 3]

Makes publisher-form IMG events (a DamageClaimFiled and a ClaimReceiptConfirmed per address),
then per run, each on a fresh SQLite store:
- `ledger append --as IMG` of the file as a process (wall time, start-up included), and the
  same code in process (`ledger.commands.write._append_lines`, batches of `--batch`);
- a `ledger serve` process (one worker, issuer keys configured) that gets the same events as
  `application/cloudevents-batch+json` bodies of `--batch` events, one request after the other,
  with an IMG bearer token; timed from the first request to the last answer.
Prints medians and the ratios POST /events / ledger append.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import REPO  # noqa: E402


def events(n: int) -> list[bytes]:
    out = []
    for i in range(n // 2):
        address = f"0014{20}{i:010d}"
        claim = f"c{i}"
        base = {"specversion": "1.0", "source": "urn:nl:img:schadesysteem", "subject": address, "org": "IMG"}
        out.append(
            orjson.dumps(
                {
                    **base,
                    "id": str(uuid.uuid4()),
                    "type": "nl.groningen.img.DamageClaimFiled.v1",
                    "time": "2021-03-01T09:00:00Z",
                    "data": {"claim_id": claim, "claim_type": "physical", "route": "maatwerk", "channel": "online"},
                }
            )
        )
        out.append(
            orjson.dumps(
                {
                    **base,
                    "id": str(uuid.uuid4()),
                    "type": "nl.groningen.img.ClaimReceiptConfirmed.v1",
                    "time": "2021-03-02T09:00:00Z",
                    "data": {"claim_id": claim, "decision_term_days": 182},
                }
            )
        )
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    return {**env, "LEDGER_HOME": str(home), **extra}


def cli_process(lines: list[bytes], home: Path, batch: int) -> float:
    source = home.parent / "events.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "append", "--as", "IMG", "--batch-size", str(batch), str(source)],
        env=env_for(home),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"ledger append failed: {proc.stderr.decode()[-2000:]}")
    return seconds


def cli_in_process(lines: list[bytes], home: Path, batch: int) -> float:
    from ledger.bootstrap import Ledger, Settings
    from ledger.commands.write import _append_lines

    ledger = Ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}"))
    try:
        out = io.BytesIO()
        started = time.perf_counter()
        accepted, _, rejected = _append_lines(
            ledger, io.BytesIO(b"\n".join(lines) + b"\n"), "IMG", False, batch, out, only_problems=False
        )
        seconds = time.perf_counter() - started
    finally:
        ledger.close()
    if rejected or accepted != len(lines):
        raise SystemExit(f"ledger append rejected {rejected} events")
    return seconds


def http(lines: list[bytes], home: Path, batch: int) -> float:
    keys = home.parent / "keys"
    subprocess.run(
        [sys.executable, "-m", "ledger", "keys", "init", "--issuer"],
        env=env_for(keys),
        cwd=REPO,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    token = subprocess.run(
        [sys.executable, "-m", "ledger", "token", "issue", "--role", "IMG", "--ttl", "1h"],
        env=env_for(keys),
        cwd=REPO,
        check=True,
        capture_output=True,
    ).stdout.decode().strip()
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger", "serve", "--port", str(port), "--workers", "1"],
        env=env_for(home, LEDGER_ISSUER_JWKS=str(keys / "issuer.jwks.json")),
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    bodies = [b"[" + b",".join(lines[i : i + batch]) + b"]" for i in range(0, len(lines), batch)]
    headers = {"content-type": "application/cloudevents-batch+json", "authorization": f"Bearer {token}"}
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(base_url=base, timeout=120) as client:
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("ledger serve did not come up") from None
                    try:
                        proc.wait(timeout=0.2)  # between polls
                    except subprocess.TimeoutExpired:
                        pass
            accepted = 0
            started = time.perf_counter()
            for body in bodies:
                response = client.post("/events", content=body, headers=headers)
                response.raise_for_status()
                accepted += sum(1 for r in orjson.loads(response.content) if r["result"] == "accepted")
            seconds = time.perf_counter() - started
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
    if accepted != len(lines):
        raise SystemExit(f"POST /events accepted {accepted} of {len(lines)} events")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    lines = events(args.events)
    rates: dict[str, list[float]] = {"cli-process": [], "cli-in-process": [], "http": []}
    for run in range(args.runs):
        for name, measure in (("cli-process", cli_process), ("cli-in-process", cli_in_process), ("http", http)):
            with tempfile.TemporaryDirectory(prefix=f"intake-{name}-") as tmp:
                home = Path(tmp) / "home"
                home.mkdir()
                seconds = measure(lines, home, args.batch)
            rates[name].append(len(lines) / seconds)
            print(f"run {run + 1} {name:<15} {len(lines) / seconds:>10,.0f} events/s", file=sys.stderr)
    median = {name: statistics.median(values) for name, values in rates.items()}
    print(f"\n{len(lines):,} IMG events, batches of {args.batch:,}, {args.runs} runs, fresh SQLite store each\n")
    print("| path | events/s (median) | runs |")
    print("|---|---:|---|")
    labels = {
        "cli-process": "`ledger append --as IMG` (process, start-up included)",
        "cli-in-process": "`ledger append` code in process (`_append_lines`)",
        "http": "`POST /events`, batched mode, one client, bearer token",
    }
    for name, label in labels.items():
        print(f"| {label} | {median[name]:,.0f} | {', '.join(f'{r:,.0f}' for r in rates[name])} |")
    print(
        f"\nPOST /events / ledger append: {median['http'] / median['cli-process']:.2f} (process), "
        f"{median['http'] / median['cli-in-process']:.2f} (in process)"
    )


if __name__ == "__main__":
    main()
