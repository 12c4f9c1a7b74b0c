"""Full rebuild of the projections (SQLite) against the same-run limit.

    .venv/bin/python benchmarks/rebuild.py [--addresses 220000] [--runs 3]

Measured in one process, interleaved, on the cached imported history of `benchmarks/setup.py`:
- limit: read every stored event raw from the event store in global order (`RawReader`, one
  query per page), decode it with orjson and fold it into plain per-address dicts (counts,
  last time, per-type counters), writing nothing — the floor any projection pays;
- fold, no writes: the same read plus the read side's own fold of every address (the rows'
  view, attention and summary as dicts), still writing nothing;
- rebuild: `projections.rebuild.rebuild` into a fresh SQLite projection store, swapped in —
  exactly what `ledger rebuild` runs — in one process and with `--workers` processes (the
  default of `ledger rebuild`: 2), each folding its share of the addresses, called in this
  benchmark's process (which has held the limit's and the fold's data: its forked workers start
  from that heap);
- `ledger rebuild` itself, as a user runs it: a fresh process (start-up included), into a
  scratch `LEDGER_PROJECTIONS` folder.
The limit and the fold without writes run in one process.
Rates are events/s over all stored events; medians over the runs.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import history_parser  # noqa: E402
from benchmarks.setup import REPO, ledger_home  # noqa: E402
from ledger.adapters.raw import RawReader  # noqa: E402
from ledger.bootstrap import Settings, open_ledger  # noqa: E402
from projections.caseview import attention_candidates, render  # noqa: E402
from projections.fold import fold  # noqa: E402
from projections.history import prepare  # noqa: E402
from projections.projector import scan  # noqa: E402
from projections.rebuild import rebuild  # noqa: E402
from projections.store.sqlite import SQLiteLocation  # noqa: E402
from projections.summary import summarize  # noqa: E402

PAGE = 20_000


def limit(reader: RawReader, head: int) -> int:
    """Read raw + orjson + fold into plain dicts; nothing written."""
    loads = orjson.loads
    states: dict[str, dict[str, Any]] = {}
    position = 0
    while position < head:
        rows = reader(position, PAGE)
        if not rows:
            break
        for _, body in rows:
            event = loads(body)
            state = states.get(event["subject"])
            if state is None:
                state = states[event["subject"]] = {"events": 0, "last": None, "types": {}}
            state["events"] += 1
            state["last"] = event["time"]
            types = state["types"]
            types[event["type"]] = types.get(event["type"], 0) + 1
        position = rows[-1][0]
    return len(states)


def fold_only(reader: RawReader, head: int) -> int:
    """Read raw + group by address + the read side's fold of every address; nothing written."""
    groups = scan(reader, 0, head)
    loads = orjson.loads
    n = 0
    for subject in list(groups):
        state = fold(prepare(map(loads, groups.pop(subject)), subject))
        render(state), attention_candidates(state), summarize(state)
        n += 1
    return n


def full_rebuild(ledger: Any, reader: RawReader, folder: Path, workers: int) -> int:
    shutil.rmtree(folder, ignore_errors=True)
    result = rebuild(
        SQLiteLocation(folder),
        reader,
        ledger.app.index.load_streams,
        ledger.log.max_position,
        workers=workers,
        reader_factory=lambda: RawReader(ledger),
    )
    return result.addresses


def command_rebuild(home: Path, folder: Path, workers: int) -> int:
    """`ledger rebuild` as a user runs it (a fresh process, process start included) into `folder`."""
    shutil.rmtree(folder, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if k not in ("LEDGER_STORE", "LEDGER_KAFKA")}
    env.update(LEDGER_HOME=str(home), LEDGER_PROJECTIONS=f"sqlite:///{folder}")
    command = [sys.executable, "-m", "ledger", "rebuild", "--no-progress", "--workers", str(workers)]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=True)
    match = re.search(rb"projections of ([0-9,]+) addresses", done.stderr)
    return int(match.group(1).replace(b",", b"")) if match else 0


def main() -> None:
    parser = history_parser(__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="rebuild processes (ledger rebuild's default: 2)")
    args = parser.parse_args()

    home = ledger_home(args.addresses, args.seed)
    ledger = open_ledger(Settings(home=home, store_url=f"sqlite:///{(home / 'events.sqlite').absolute()}"))
    reader = RawReader(ledger)
    head = ledger.log.max_position()
    rebuild_n = f"rebuild, {args.workers} processes"
    command_n = f"`ledger rebuild --workers {args.workers}` (own process)"
    times: dict[str, list[float]] = {
        "limit": [],
        "fold, no writes": [],
        "rebuild, 1 process": [],
        rebuild_n: [],
        command_n: [],
    }
    with tempfile.TemporaryDirectory(dir=home) as scratch:
        folder = Path(scratch) / "projections"
        for run in range(args.runs):
            for name, job in (
                ("limit", lambda: limit(reader, head)),
                ("fold, no writes", lambda: fold_only(reader, head)),
                ("rebuild, 1 process", lambda: full_rebuild(ledger, reader, folder, 1)),
                (rebuild_n, lambda: full_rebuild(ledger, reader, folder, args.workers)),
                (command_n, lambda: command_rebuild(home, folder, args.workers)),
            ):
                started = time.perf_counter()
                addresses = job()
                seconds = time.perf_counter() - started
                times[name].append(seconds)
                print(
                    f"run {run + 1} {name:20} {seconds:6.1f} s  {head / seconds:10,.0f} events/s"
                    f"  ({addresses:,} addresses)",
                    file=sys.stderr,
                )
    reader.close()
    ledger.close()

    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"\n{head:,} events, {args.addresses:,} addresses (seed {args.seed}), median of {args.runs} runs\n")
    print("| what | seconds | events/s | × limit |")
    print("|---|---:|---:|---:|")
    for name, seconds in median.items():
        print(f"| {name} | {seconds:.1f} | {head / seconds:,.0f} | {median['limit'] / seconds:.2f} |")


if __name__ == "__main__":
    main()
