"""Figures at any (`at`, `known_at`) in a warm read model: the bitemporal index against folding again.

    .venv/bin/python benchmarks/cutoffs.py --addresses 220000 --pairs 100 --series
    .venv/bin/python benchmarks/cutoffs.py --addresses 20000 --pairs 100 --series --baseline 3

`--pairs N`: N random (`at`, `known_at`) pairs in 2018–2024 (seeded); each answered from the
bitemporal index (`projections.asof`), G1–G15 (`metrics`) and E1–E6 (`evaluation`) timed
apart: p50, p95, max. `--baseline K` of the same pairs are also answered by the path without
the index (fold again the addresses with events beyond the cut-offs; `LEDGER_FIGURES_INDEX=off`)
in the same run, checked equal, and the ratio printed.
`--series`: the monthly series 2018–2024 (84 points), both axes, all G figures, as
`GET /metrics/series` computes it from the index; `--sample` of its points checked against
single answers.

On the cached imported history of `benchmarks/setup.py`, projections caught up and the index
filled first (as `ledger rebuild` leaves them). Also prints the index's load time (the first
answer at cut-offs in a new process) and its size on disk against the projection store's.
With `--known-at D` (repeatable) instead: the first and a repeated answer at each of those.
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
    parser.add_argument("--sample", type=int, default=12, help="--series: points checked against single answers")
    parser.add_argument("--baseline", type=int, default=3, help="--pairs: pairs also folded again (no index)")
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
        print(f"warm-up (the figures now): {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        if model.follower.asof() is None:
            raise SystemExit("the store has rows without corners: run `ledger rebuild` (it fills the index)")
        print(f"index loaded (first answer at cut-offs in a new process): {time.perf_counter() - started:.1f} s")
        index_size(model)
        if args.pairs:
            random_pairs(model, args.pairs, args.seed, args.baseline)
        if args.series:
            monthly_series(model, args.sample, args.seed)
        for text in args.known_at or ([] if args.pairs or args.series else DEFAULT_CUTOFFS):
            cutoff = str(parse_cutoff(text))
            started = time.perf_counter()
            model.metrics(known_at=cutoff)
            first = time.perf_counter() - started
            started = time.perf_counter()
            model.metrics(known_at=cutoff)
            again = time.perf_counter() - started
            print(f"known_at {text}: first answer {first * 1000:.1f} ms, repeated {again * 1000:.1f} ms")
    finally:
        model.close()
        ledger.close()


def index_size(model: Any) -> None:
    """The index's share of the SQLite projection store on disk (`dbstat`)."""
    import sqlite3

    path = getattr(model.store, "path", None)
    if path is None:
        return
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        try:
            sizes = dict(conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        except sqlite3.OperationalError:
            return
    index = sum(v for k, v in sizes.items() if "corners" in k)
    rest = sum(sizes.values()) - index
    print(
        f"on disk: index {index / 2**20:,.0f} MiB, the rest of the projection store {rest / 2**20:,.0f} MiB "
        f"(index = {index / max(rest, 1):.2f} x)"
    )


def _instant(rnd: random.Random) -> str:
    start = datetime(2018, 1, 1, tzinfo=UTC)
    moment = start + timedelta(seconds=rnd.randrange(int((datetime(2025, 1, 1, tzinfo=UTC) - start).total_seconds())))
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000000Z")


def _quantiles(label: str, seconds: list[float]) -> None:
    q = statistics.quantiles(seconds, n=20, method="inclusive")
    print(
        f"  {label}: p50 {statistics.median(seconds) * 1000:.1f} ms, p95 {q[18] * 1000:.1f} ms, "
        f"max {max(seconds) * 1000:.1f} ms"
    )


def random_pairs(model: Any, pairs: int, seed: int, baseline: int) -> None:
    """G1-G15 and E1-E6 at `pairs` random (at, known_at) pairs from the index; `baseline` of them
    also without it (checked equal)."""
    rnd = random.Random(seed)
    chosen = [(_instant(rnd), _instant(rnd)) for _ in range(pairs)]
    g_seconds, e_seconds = [], []
    answers = []
    for at, known_at in chosen:
        started = time.perf_counter()
        g = model.metrics(at, known_at, now=at)
        g_seconds.append(time.perf_counter() - started)
        started = time.perf_counter()
        e = model.evaluation(at=at, known_at=known_at, now=at)
        e_seconds.append(time.perf_counter() - started)
        assert g["provenance"]["source"] == "index"
        answers.append((g, e))
    print(f"{pairs} random cut-off pairs from the index:")
    _quantiles("G1-G15", g_seconds)
    _quantiles("E1-E6", e_seconds)
    if not baseline:
        return
    model.use_index = False
    try:
        slow = []
        for (at, known_at), (g, e) in list(zip(chosen, answers, strict=True))[:baseline]:
            started = time.perf_counter()
            folded = model.metrics(at, known_at, now=at)
            slow.append(time.perf_counter() - started)
            assert {k: v for k, v in folded.items() if k != "provenance"} == {
                k: v for k, v in g.items() if k != "provenance"
            }, (at, known_at)
            assert folded["provenance"]["events"] == g["provenance"]["events"]
            evaluated = model.evaluation(at=at, known_at=known_at, now=at)  # the same fold, cached
            assert {k: v for k, v in evaluated.items() if k != "provenance"} == {
                k: v for k, v in e.items() if k != "provenance"
            }, (at, known_at)
    finally:
        model.use_index = True
    fast = statistics.median(g_seconds[:baseline])
    print(
        f"  the same {baseline} pairs folded again (no index): median {statistics.median(slow):.2f} s, "
        f"equal figures; index / fold {fast / statistics.median(slow):.5f}"
    )


def monthly_series(model: Any, sample: int, seed: int) -> None:
    """The monthly series 2018-2024 both axes from the index; `sample` points checked against
    single answers at their cut-offs."""
    from projections.series import plan

    checked = plan("2018-01-01T23:59:59.999999Z", "2024-12-31T23:59:59.999999Z", "month")
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        doc = model.series(checked)
        runs.append(time.perf_counter() - started)
    rnd = random.Random(seed)
    for p in rnd.sample(checked.points, min(sample, len(checked.points))):
        for known_at in (p, None):
            single = model.metrics(p, known_at)
            side = "known_then" if known_at else "known_now"
            point = next(x for x in doc["points"] if x["at"] == p)
            assert point[side] == {k: single[k] for k in checked.ids}, p  # the same figures
    print(
        f"monthly series 2018-2024, {len(checked.points)} points x 2 axes, G1-G15, from the index: "
        f"median {statistics.median(runs):.2f} s (runs " + ", ".join(f"{r:.2f}" for r in runs) + f"); "
        f"{2 * min(sample, len(checked.points))} points checked equal to single answers"
    )


if __name__ == "__main__":
    main()
