"""Figures at cut-offs in a warmed read model: the first answer per cut-off, and a repeated one.

    .venv/bin/python benchmarks/cutoffs.py [--addresses 220000] [--known-at 2024-12-01 ...]
    .venv/bin/python benchmarks/cutoffs.py --addresses 20000 --pairs 100 --series [--sample 12]

`--pairs N`: N random (`at`, `known_at`) pairs in 2018–2024 (seeded), each a first answer of
G1–G15 by today's as-of path (fold again the addresses with events beyond them): p50, p95.
`--series`: the monthly series 2018–2024 (84 points), both axes, as `GET /metrics/series`
computes it (one sweep per axis), against the as-of path per point in the same run: that is
timed on `--sample` points of each axis (seeded) and its median per point × 84 estimates the
series by single cut-offs (all 168 answers would take the better part of an hour at scale).

On the cached imported history of `benchmarks/setup.py` (projections caught up first, as
`ledger serve` does at start): opens the read model, warms the figures, then asks metrics with
each `--known-at` cut-off (RFC 3339 or a date, as the API takes it) twice and prints how many
addresses have events beyond it (folded again) and both times.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import history_parser  # noqa: E402
from benchmarks.setup import ledger_home, run  # noqa: E402

DEFAULT_CUTOFFS = ["2025-06-01", "2024-12-20", "2024-12-01", "2024-06-01"]


def main() -> None:
    parser = history_parser(__doc__)
    parser.add_argument("--known-at", action="append", help="cut-offs to ask (default: four around the end)")
    parser.add_argument("--pairs", type=int, default=0, help="random (at, known_at) pairs instead")
    parser.add_argument("--series", action="store_true", help="the monthly series 2018-2024, both axes")
    parser.add_argument("--sample", type=int, default=12, help="--series: points timed by the as-of path")
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
        model.follower.figures(rows=True)
        model.metrics()
        print(f"warm-up (every summary into the figures): {time.perf_counter() - started:.2f} s")
        if args.pairs or args.series:
            if args.pairs:
                random_pairs(model, args.pairs, args.seed)
            if args.series:
                monthly_series(model, args.sample, args.seed)
            return
        print("| known_at | addresses folded again | first answer s | repeated ms |")
        print("|---|---:|---:|---:|")
        for text in args.known_at or DEFAULT_CUTOFFS:
            cutoff = str(parse_cutoff(text))
            model.follower.figures(rows=True)
            extents = model.follower.extents
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


def _instant(rnd: random.Random) -> str:
    start = datetime(2018, 1, 1, tzinfo=UTC)
    moment = start + timedelta(seconds=rnd.randrange(int((datetime(2025, 1, 1, tzinfo=UTC) - start).total_seconds())))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def random_pairs(model: Any, pairs: int, seed: int) -> None:
    """First answers of the metrics at `pairs` random (at, known_at) pairs by today's as-of path."""
    rnd = random.Random(seed)
    seconds = []
    for _ in range(pairs):
        at, known_at = _instant(rnd), _instant(rnd)
        started = time.perf_counter()
        model.metrics(at, known_at)
        seconds.append(time.perf_counter() - started)
    q = statistics.quantiles(seconds, n=20, method="inclusive")
    print(
        f"{pairs} random cut-off pairs, first answers (as-of path): p50 {statistics.median(seconds):.2f} s, "
        f"p95 {q[18]:.2f} s, max {max(seconds):.2f} s"
    )


def monthly_series(model: Any, sample: int, seed: int) -> None:
    """The monthly series 2018-2024 both axes by the sweep, and the as-of path on sampled points."""
    from projections.series import plan

    checked = plan("2018-01-01T23:59:59.999999Z", "2024-12-31T23:59:59.999999Z", "month")
    started = time.perf_counter()
    doc = model.series(checked)
    swept = time.perf_counter() - started
    rnd = random.Random(seed)
    per_point = []
    for p in rnd.sample(checked.points, min(sample, len(checked.points))):
        for known_at in (p, None):
            started = time.perf_counter()
            single = model.metrics(p, known_at)
            per_point.append(time.perf_counter() - started)
            side = "known_then" if known_at else "known_now"
            point = next(x for x in doc["points"] if x["at"] == p)
            assert point[side] == {k: single[k] for k in checked.ids}, p  # the same figures
    estimate = statistics.median(per_point) * 2 * len(checked.points)
    print(f"monthly series 2018-2024, {len(checked.points)} points x 2 axes, G1-G15:")
    print(f"  sweep (GET /metrics/series): {swept:.1f} s")
    print(
        f"  as-of path per point, median of {len(per_point)}: {statistics.median(per_point):.2f} s "
        f"-> {estimate:.0f} s for the series; ratio sweep / as-of {swept / estimate:.3f}"
    )


if __name__ == "__main__":
    main()
