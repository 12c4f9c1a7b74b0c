"""The bitemporal index's engine, chosen by measurement: the counters' dominance sum in SQLite
against numpy over the same entries (docs/decisions.md, Figures at any moment 2).

    .venv/bin/python benchmarks/asof_engines.py --addresses 220000 [--pairs 20]

Reads the corners of the cached, rebuilt and indexed store of `benchmarks/setup.py`, writes the
counters' entries (corner time, recorded time, counter, number) into an SQLite table with an
index on (x, y) in a temporary file, and answers the same random (at, known_at) pairs with
`SELECT what, sum(n) … WHERE x <= ? AND y <= ? GROUP BY what` and with `projections.asof`
(a mask per answer, and the 64 x 64 grid of prefix sums): medians, checked equal.
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import history_parser  # noqa: E402
from benchmarks.cutoffs import _instant  # noqa: E402
from benchmarks.setup import ledger_home  # noqa: E402


def main() -> None:
    parser = history_parser(__doc__)
    parser.add_argument("--pairs", type=int, default=20)
    args = parser.parse_args()
    home = ledger_home(args.addresses, args.seed)
    os.environ["LEDGER_HOME"] = str(home)
    from ledger.bootstrap import open_ledger, open_read_model
    from projections import asof

    ledger = open_ledger()
    model = open_read_model(ledger)
    try:
        model.refresh()
        index = model.follower.asof()
        if index is None:
            raise SystemExit("the store has rows without corners: run `ledger rebuild` (it fills the index)")
        c = index.counts
        size = len(index.keys)
        print(f"counters' table: {len(c.x):,} entries, {size} counters")
        plain = asof._Columns.__new__(asof._Columns)
        plain.x, plain.y, plain.what, plain.n, plain._blocks = c.x, c.y, c.what, c.n, None
        with tempfile.TemporaryDirectory() as folder:
            db = sqlite3.connect(Path(folder) / "entries.sqlite")
            db.execute("CREATE TABLE e (x INTEGER, y INTEGER, what INTEGER, n INTEGER)")
            db.executemany(
                "INSERT INTO e VALUES (?,?,?,?)",
                zip(c.x.tolist(), c.y.tolist(), c.what.tolist(), c.n.tolist(), strict=True),
            )
            db.execute("CREATE INDEX e_xy ON e (x, y)")
            db.commit()
            rnd = random.Random(args.seed)
            timings: dict[str, list[float]] = {"sqlite": [], "numpy mask": [], "numpy grid": []}
            for _ in range(args.pairs):
                a, k = asof.cutoff(_instant(rnd)), asof.cutoff(_instant(rnd))
                started = time.perf_counter()
                rows = db.execute("SELECT what, sum(n) FROM e WHERE x <= ? AND y <= ? GROUP BY what", (a, k)).fetchall()
                timings["sqlite"].append(time.perf_counter() - started)
                started = time.perf_counter()
                masked = plain.sums(a, k, size)
                timings["numpy mask"].append(time.perf_counter() - started)
                started = time.perf_counter()
                grid = c.sums(a, k, size)
                timings["numpy grid"].append(time.perf_counter() - started)
                from_sql = [0] * size
                for what, n in rows:
                    from_sql[what] = n
                assert from_sql == masked.tolist() == grid.tolist()
            db.close()
        base = statistics.median(timings["sqlite"])
        for name, seconds in timings.items():
            median = statistics.median(seconds)
            print(f"{name:>10}: median {median * 1000:8.1f} ms over {args.pairs} pairs ({median / base:.4f} x SQLite)")
    finally:
        model.close()
        ledger.close()


if __name__ == "__main__":
    main()
