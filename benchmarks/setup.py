"""A cached, imported Groningen-scale ledger for the read-side benchmarks.

`ledger generate --addresses N --seed S` into `.cache/bench/`, then `ledger import` into a
LEDGER_HOME of its own there; both are reused while the store holds every generated event.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".cache" / "bench"


def ledger_home(addresses: int, seed: int = 1) -> Path:
    """The LEDGER_HOME of an imported history of `addresses` addresses (built on first use)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    history = CACHE / f"history-{addresses}-{seed}.jsonl"
    home = CACHE / f"home-{addresses}-{seed}"
    if not history.exists():
        started = time.perf_counter()
        partial = history.with_suffix(".partial")
        run("generate", "--addresses", str(addresses), "--seed", str(seed), "--out", str(partial))
        partial.replace(history)
        print(f"generated {history.name} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    lines = sum(1 for _ in history.open("rb"))
    if _stored(home) != lines:
        started = time.perf_counter()
        run("import", str(history), "--quiet", home=home)
        print(f"imported {lines:,} events in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return home


def _stored(home: Path) -> int:
    db = home / "events.sqlite"
    if not db.exists():
        return -1
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM stored_events").fetchone()[0])


def run(*args: str, home: Path | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA")}
    if home is not None:
        env["LEDGER_HOME"] = str(home)
    subprocess.run([sys.executable, "-m", "ledger", *args], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
