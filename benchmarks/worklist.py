"""Worklist queries at Groningen scale: the server's time per answer, from the index.

    .venv/bin/python benchmarks/worklist.py [--addresses 220000] [--repeat 100]
    .venv/bin/python benchmarks/worklist.py --projections 'postgresql://ledger@127.0.0.1:25432/ledger?schema=bench_worklist'

On the cached imported history of `benchmarks/setup.py` (projections caught up first, as `ledger
serve` does at start), in one process: a read model as a server worker holds it, then for each
question of a mix (no filter, deep pages, each code, each organisation, municipalities, a minimum
age, filters combined) `--repeat` times what `GET /worklist` does per request after reading its
parameters — `ReadModel.worklist` (count + one page from the index, provenance) and the JSON —
in a random order of the questions. Same-run baseline: the case view of random addresses
(`ReadModel.case_json`, what `GET /cases/{id}` does). Once: the scan the index replaces (every
address's stored attention points read and filtered per request). Times in ms: median and p95
per question, p95 over all, ratios to the case view; and the CPU time of the answering thread
(what the answer costs whatever else the machine runs: on PostgreSQL the server's own CPU is not
in it).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.setup import ledger_home  # noqa: E402


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def questions(now: str) -> dict[str, Any]:
    from projections.worklist import Query

    return {
        "no filter, page 1": Query(now=now),
        "no filter, page 40": Query(now=now, page=40),
        "no filter, page 400 (offset 19,950)": Query(now=now, page=400),
        "code=claim_over_term": Query(now=now, codes=("claim_over_term",)),
        "code=no_coordinator, page 10": Query(now=now, codes=("no_coordinator",), page=10),
        "code=stalled,aos_open_48h": Query(now=now, codes=("stalled", "aos_open_48h")),
        "code=deferred_awaiting_strengthening": Query(now=now, codes=("deferred_awaiting_strengthening",)),
        "organisation=NCG": Query(now=now, organisation="NCG"),
        "organisation=IMG, page 20": Query(now=now, organisation="IMG", page=20),
        "municipality=0014": Query(now=now, municipalities=("0014",)),
        "municipality=1979,1952": Query(now=now, municipalities=("1979", "1952")),
        "min_age_days=730": Query(now=now, min_age_days=730),
        "IMG + 0014 + claim_over_term + 365 d": Query(
            now=now, organisation="IMG", municipalities=("0014",), codes=("claim_over_term",), min_age_days=365
        ),
        "NCG + 1979 + 500 per page": Query(now=now, organisation="NCG", municipalities=("1979",), page_size=500),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=220_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=100, help="answers per question")
    parser.add_argument("--projections", help="LEDGER_PROJECTIONS for the run (default: SQLite beside the store)")
    args = parser.parse_args()
    home = ledger_home(args.addresses, args.seed)
    os.environ["LEDGER_HOME"] = str(home)
    for name in ("LEDGER_STORE", "LEDGER_PROJECTIONS", "LEDGER_KAFKA"):
        os.environ.pop(name, None)
    if args.projections:
        os.environ["LEDGER_PROJECTIONS"] = args.projections

    import orjson

    from ledger.bootstrap import open_ledger, open_read_model
    from projections.caseview import attention
    from projections.timeutil import now_utc
    from projections.worklist import Point, reference_answer

    ledger = open_ledger()
    model = open_read_model(ledger)
    try:
        started = time.perf_counter()
        model.refresh()  # catches up (a rebuild's worth when the projections are new)
        print(f"caught up in {time.perf_counter() - started:.1f} s; position {model.position:,}")
        now = now_utc()
        asked = questions(now)
        everything = model.worklist(asked["no filter, page 1"])
        print(f"open points: {everything['total']:,} (one entry per point, plus one per organisation that acts)")
        times: dict[str, list[float]] = {label: [] for label in asked}
        cpu: dict[str, list[float]] = {label: [] for label in asked}  # this thread's CPU: the load-independent cost
        order = [label for label in asked for _ in range(args.repeat)]
        random.Random(1).shuffle(order)
        known = sorted(model.store.subjects())
        subjects = random.Random(2).sample(known, min(2_000, len(known)))
        cases: list[float] = []
        for i, label in enumerate(order):
            t0, c0 = time.perf_counter(), time.thread_time()
            orjson.dumps(model.worklist(asked[label]))
            times[label].append((time.perf_counter() - t0) * 1000)
            cpu[label].append((time.thread_time() - c0) * 1000)
            if i % len(asked) == 0:  # the baseline, interleaved with the questions
                t0 = time.perf_counter()
                model.case_json(subjects[(i // len(asked)) % len(subjects)], now=now)
                cases.append((time.perf_counter() - t0) * 1000)
        case_median, case_p95 = statistics.median(cases), p95(cases)
        print(f"\n| question ({args.addresses:,} addresses) | matching | median ms | p95 ms | CPU median · p95 ms |")
        print("|---|---:|---:|---:|---:|")
        for label, query in asked.items():
            total = model.worklist(query)["total"]
            mine, used = times[label], cpu[label]
            print(
                f"| {label} | {total:,} | {statistics.median(mine):.2f} | {p95(mine):.2f} "
                f"| {statistics.median(used):.2f} · {p95(used):.2f} |"
            )
        overall = [t for values in times.values() for t in values]
        used = [t for values in cpu.values() for t in values]
        print(
            f"| **all {len(overall):,} answers** | | {statistics.median(overall):.2f} | **{p95(overall):.2f}** "
            f"| {statistics.median(used):.2f} · {p95(used):.2f} |"
        )
        print(f"| baseline: case view ({len(cases)} random addresses) | | {case_median:.2f} | {case_p95:.2f} | |")
        print(
            f"\nratios to the case view: median {statistics.median(overall) / case_median:.1f}x, "
            f"p95 {p95(overall) / case_p95:.1f}x"
        )
        scans = []
        for _ in range(3):  # what a request would cost without the index: every address's points, filtered
            t0 = time.perf_counter()
            points = []
            for subject in model.store.subjects():
                row = model.store.case(subject)
                assert row is not None
                registered = orjson.loads(row.view)["address"]["registered"] or {}
                where = registered.get("gemeentecode") or subject[:4]
                for a in attention(orjson.loads(row.attention), now):
                    points.append((subject, Point(a["code"], a["ref"] or "", a["since"], False, where)))
            reference_answer(points, asked["no filter, page 1"])
            scans.append(time.perf_counter() - t0)
        print(f"the scan instead of the index (no filter, page 1): median {statistics.median(scans):.1f} s of 3")
    finally:
        model.close()
        ledger.close()


if __name__ == "__main__":
    main()
