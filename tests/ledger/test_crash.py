"""kill -9 during `ledger append`: exactly whole batches survive, every acknowledgement holds,
and running the same input again completes with `duplicate` for what was already in."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson

from ledger.bootstrap import Settings, open_ledger
from ledger.verify import verify_all
from tests.factories import claim_filed, decided, receipt, subject

BATCH = 100


def _history(addresses: int) -> list[dict]:
    events = []
    for n in range(addresses):
        a = subject(50_000 + n)
        events += [
            claim_filed(a, "C1", time="2021-01-01T00:00:00Z"),
            receipt(a, "C1", time="2021-01-02T00:00:00Z"),
            claim_filed(a, "C2", time="2021-01-03T00:00:00Z"),
            decided(a, "D1", ["C1", "C2"], time="2021-02-01T00:00:00Z"),
        ]
    return events


def _run_append(home: Path, source: Path, out: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LEDGER_HOME": str(home)}
    env.pop("LEDGER_STORE", None)
    return subprocess.Popen(
        [sys.executable, "-m", "ledger", "append", str(source), "--as", "IMG", "--batch-size", str(BATCH)],
        stdout=out.open("wb"),
        stderr=subprocess.PIPE,
        env=env,
    )


def _acknowledged(out: Path) -> list[dict]:
    lines = out.read_bytes().split(b"\n")
    return [orjson.loads(line) for line in lines[:-1]]  # a last line without newline is not complete


def test_kill_minus_nine_keeps_whole_batches_and_every_acknowledgement(tmp_path: Path) -> None:
    rng = random.Random(20211124)
    events = _history(1500)  # 6,000 events, 60 batches
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events))
    home = tmp_path / "home"
    kills = 0
    for cycle in range(3):
        out = tmp_path / f"out-{cycle}.jsonl"
        proc = _run_append(home, source, out)
        target = rng.randrange(1, len(events) // 2)
        deadline = time.monotonic() + 120
        while out.stat().st_size < target * 60 and proc.poll() is None:
            assert time.monotonic() < deadline, "append made no progress"
            time.sleep(0.005)  # polling for the kill point, not synchronisation
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
        with open_ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}")) as led:
            stored = {e["id"] for _, e in led.log.read(0, 100_000)}
            assert verify_all(led.log)[0] == []
        acked = {r["id"] for r in _acknowledged(out) if r["result"] in ("accepted", "duplicate")}
        assert acked <= stored, "an acknowledged event is missing after kill -9"
        ids = [e["id"] for e in events]
        for start in range(0, len(ids), BATCH):  # whole batches or nothing
            batch = ids[start : start + BATCH]
            present = sum(i in stored for i in batch)
            assert present in (0, len(batch)), f"batch at line {start + 1} half-written ({present}/{len(batch)})"
    out = tmp_path / "final.jsonl"
    before = stored
    proc = _run_append(home, source, out)
    assert proc.wait(timeout=300) == 0, proc.stderr.read() if proc.stderr else ""
    results = _acknowledged(out)
    assert len(results) == len(events)
    for event, result in zip(events, results, strict=True):
        assert result["result"] == ("duplicate" if event["id"] in before else "accepted")
    with open_ledger(Settings(home=home, store_url=f"sqlite:///{home / 'events.sqlite'}")) as led:
        final = [e["id"] for _, e in led.log.read(0, 100_000)]
    assert sorted(final) == sorted(e["id"] for e in events)
    print(f"survived {kills} kill -9 during append")
