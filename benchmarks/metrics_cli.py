"""`ledger metrics` without cut-offs (issue "Figures at any moment…", item 4): the stored aggregate.

    .venv/bin/python benchmarks/metrics_cli.py [--addresses 20000] [--runs 7] [--ref /tmp/before]

On the cached imported history of `benchmarks/setup.py` (projections caught up first), in the
same run and interleaved:
- the command `ledger metrics --json` (its own process, start-up included): median of N runs;
- in process, a fresh read model's first metrics from the store's aggregate (base + deltas,
  `projections.persisted`) against the same from every summary (what every process did before:
  `Follower.figures(rows=True)`), with their ratio.
Target: the command ≤ 1 s at 220,000 addresses. With `--ref DIR` (a checkout of another commit, e.g.
`git worktree add /tmp/before <commit>`), also the same command run from there, interleaved, on the
same home (a base written by either is read by both).

With `--writes N`: what storing the deltas costs the incremental path — the first N events
caught up in batches of 5,000 (`Projector.step`) into a fresh SQLite store, with the deltas and
without (`store.bulk = True` turns only them off), interleaved twice, median per variant.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.setup import REPO, ledger_home, run  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--writes", type=int, default=0, help="time the incremental path over N events instead")
    parser.add_argument("--ref", type=Path, help="another checkout: also time its `ledger metrics --json`")
    args = parser.parse_args()
    home = ledger_home(args.addresses, args.seed)
    run("metrics", "--json", home=home)  # the projections catch up with the store (and store a base)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    env["LEDGER_HOME"] = str(home)
    os.environ["LEDGER_HOME"] = str(home)
    for name in ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA"):
        os.environ.pop(name, None)

    from ledger.bootstrap import open_ledger, open_read_model

    ledger = open_ledger()
    if args.writes:
        try:
            incremental_writes(ledger, args.writes)
        finally:
            ledger.close()
        return

    def in_process(rows: bool) -> float:
        with closing(open_read_model(ledger)) as model:
            model.refresh()
            started = time.perf_counter()
            model.follower.figures(rows=rows)  # rows: every summary, as before
            model.metrics()
            return time.perf_counter() - started

    command: list[float] = []
    stored: list[float] = []
    summed: list[float] = []
    ref: list[float] = []
    argv = [sys.executable, "-m", "ledger", "metrics", "--json"]
    try:
        for _ in range(args.runs):
            started = time.perf_counter()
            subprocess.run(argv, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
            command.append(time.perf_counter() - started)
            if args.ref is not None:
                started = time.perf_counter()
                subprocess.run(argv, cwd=args.ref.resolve(), env=env, check=True, stdout=subprocess.DEVNULL)
                ref.append(time.perf_counter() - started)
            stored.append(in_process(rows=False))
            summed.append(in_process(rows=True))
    finally:
        ledger.close()
    c, s, t = (statistics.median(x) for x in (command, stored, summed))
    print(f"addresses {args.addresses:,}, {args.runs} runs, medians:")
    print("| what | median |")
    print("|---|---:|")
    print(f"| `ledger metrics --json` (process) | {c * 1000:.0f} ms |")
    if ref:
        r = statistics.median(ref)
        print(f"| the same from {args.ref} (`--ref`) | {r * 1000:.0f} ms |")
        print(f"| ratio this / ref | {c / r:.3f} |")
    print(f"| first metrics of a fresh read model, stored aggregate | {s * 1000:.1f} ms |")
    print(f"| the same, summing every summary (before) | {t * 1000:.1f} ms |")
    print(f"| ratio stored / summed | {s / t:.3f} |")


def incremental_writes(ledger: object, events: int) -> None:
    """Catch-up in batches into fresh stores, with and without the figures' deltas."""
    import tempfile

    from ledger.bootstrap import read_ports
    from projections.projector import Projector
    from projections.store.sqlite import SQLiteProjectionStore

    p = read_ports(ledger)  # type: ignore[arg-type]
    times: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        for run_ in range(4):
            deltas = run_ % 2 == 0
            store = SQLiteProjectionStore(Path(folder) / f"store-{run_}.sqlite")
            store.bulk = not deltas
            started = time.perf_counter()
            Projector(store, p.read_raw, p.load_streams, bulk_threshold=events + 1).catch_up(events)
            times[deltas].append(time.perf_counter() - started)
            store.close()
    on, off = statistics.median(times[True]), statistics.median(times[False])
    print(
        f"catch-up of {events:,} events in batches of 5,000: with deltas {on:.2f} s, without {off:.2f} s, "
        f"ratio {on / off:.3f}"
    )


if __name__ == "__main__":
    main()
