"""Generator throughput: `generate(addresses, seed)` at full scale, written to /dev/null.

    .venv/bin/python benchmarks/generate.py [--addresses 220000] [--seed 1] [--runs 1] [--workers N]

Prints events, wall and CPU seconds, events/s and peak memory per run. One run at full scale
is enough (each takes about half a minute); the target is <= 60 s on the 2-core CI machine.
Large runs use two worker processes (`generate(..., workers=...)` overrides).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import history_parser  # noqa: E402
from ledger.generator import generate  # noqa: E402


def _cpu() -> float:
    """CPU seconds of this process and its finished worker processes."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def main() -> None:
    ap = history_parser(__doc__)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=None, help="processes (default: the generator's choice)")
    args = ap.parse_args()
    walls = []
    for _ in range(args.runs):
        with open("/dev/null", "wb") as out:
            wall, cpu = time.perf_counter(), _cpu()
            events = generate(args.addresses, args.seed, out=out, workers=args.workers)
            wall, cpu = time.perf_counter() - wall, _cpu() - cpu
        walls.append(wall)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"generate({args.addresses}, {args.seed}): {events:,} events in {wall:.1f} s, "
            f"{events / wall:,.0f} events/s (cpu {cpu:.1f} s incl. workers; "
            f"parent peak RSS {peak:,.0f} MiB; load average {os.getloadavg()[0]:.1f})"
        )
    if args.runs > 1:
        print(f"median wall {statistics.median(walls):.1f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
