"""Figures at cut-offs in a warmed read model: the first answer per cut-off, and a repeated one.

    .venv/bin/python benchmarks/cutoffs.py [--addresses 220000] [--known-at 2024-12-01 ...]

On the cached imported history of `benchmarks/setup.py` (projections caught up first, as
`ledger serve` does at start): opens the read model, warms the figures, then asks metrics with
each `--known-at` cut-off (RFC 3339 or a date, as the API takes it) twice and prints how many
addresses have events beyond it (folded again) and both times.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import history_parser  # noqa: E402
from benchmarks.setup import ledger_home, run  # noqa: E402

DEFAULT_CUTOFFS = ["2025-06-01", "2024-12-20", "2024-12-01", "2024-06-01"]


def main() -> None:
    parser = history_parser(__doc__)
    parser.add_argument("--known-at", action="append", help="cut-offs to ask (default: four around the end)")
    args = parser.parse_args()
    home = ledger_home(args.addresses, args.seed)
    run("metrics", "--json", home=home)  # the projections catch up with the store
    os.environ["LEDGER_HOME"] = str(home)
    for name in ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA"):
        os.environ.pop(name, None)

    from ledger.bootstrap import open_ledger, open_read_model
    from projections.timeutil import parse_cutoff

    ledger = open_ledger()
    model = open_read_model(ledger)
    try:
        model.refresh()
        started = time.perf_counter()
        model.metrics()
        print(f"warm-up (every summary into the figures): {time.perf_counter() - started:.2f} s")
        print("| known_at | addresses folded again | first answer s | repeated ms |")
        print("|---|---:|---:|---:|")
        for text in args.known_at or DEFAULT_CUTOFFS:
            cutoff = str(parse_cutoff(text))
            extents = model._extents
            affected = sum(1 for e in extents.values() if e is None or e[3] > cutoff)
            started = time.perf_counter()
            model.metrics(known_at=cutoff)
            first = time.perf_counter() - started
            started = time.perf_counter()
            model.metrics(known_at=cutoff)
            again = time.perf_counter() - started
            print(f"| {text} | {affected:,} | {first:.2f} | {again * 1000:.1f} |")
    finally:
        model.close()
        ledger.close()


if __name__ == "__main__":
    main()
