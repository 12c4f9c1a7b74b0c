"""Append throughput: `ledger import` of a generated history on SQLite and PostgreSQL, each next
to the raw `eventsourcing` batch `save()` of the same events (100 per save) in the same run.

    .venv/bin/python benchmarks/append.py --addresses 10000 --runs 3 [--backend sqlite|postgresql|both]
    .venv/bin/python benchmarks/append.py --addresses 220000 --runs 1 --backend sqlite [--history FILE]

Prints medians and the ratio import / raw library, and the import curve: events/s in each tenth
of the import (from the batches the import run recorded, `ledger_import_batches`), next to the
raw library's rate in the same tenth. Two set-ups per run:

- *empty*: the whole history into an empty store (one `ledger import`, one raw save);
- *full*: the last tenth of the history into a store that already holds the first nine tenths
  (~2 M events at 220,000 addresses): `ledger import` of the first nine tenths, then — timed —
  a second `ledger import` (a fresh process: the resumed initial import) of the rest; the raw
  library saves the first nine tenths, then a fresh application saves the rest (reading each
  touched address's aggregate first, as the import reads each address's state).

PostgreSQL uses deploy/postgres.sh (or LEDGER_TEST_POSTGRES) and a fresh database per run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

# Run as a script, this file's folder comes first on sys.path, and its neighbour `kafka.py` would
# shadow the kafka-python package that the PostgreSQL set-up imports (via tests.servers).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import REPO, history_file, report, timed  # noqa: E402

TENTHS = 10


class Address(Aggregate):
    """The baseline's aggregate: one per address, one library event per CloudEvent."""

    @event("Recorded")
    def record(self, cloudevent: dict[str, Any]) -> None:
        pass


def raw_library_save(
    env: dict[str, str],
    events: list[dict[str, Any]],
    batch: int = 100,
    ids: dict[str, UUID] | None = None,
    marks: list[float] | None = None,
) -> dict[str, UUID]:
    """The baseline: one library aggregate per address, one event per CloudEvent, save() per 100.

    `ids`: the aggregates a store already holds (subject -> id), read back before their first
    new event. `marks` receives the time (perf_counter) at the end of each tenth of `events`.
    Returns every subject's aggregate id.
    """
    app: Application = Application(env=env)
    ids = dict(ids or {})
    streams: dict[str, Address] = {}
    touched: dict[str, Address] = {}
    pending = 0
    bounds = [len(events) * (k + 1) // TENTHS for k in range(TENTHS)]
    for n, item in enumerate(events, start=1):
        subject = item["subject"]
        agg = streams.get(subject)
        if agg is None:
            known = ids.get(subject)
            agg = streams[subject] = app.repository.get(known) if known is not None else Address()
            ids[subject] = agg.id
        agg.record(item)
        touched[subject] = agg
        pending += 1
        if pending >= batch:
            app.save(*touched.values())
            touched.clear()
            pending = 0
        if marks is not None and n in bounds:
            if touched:
                app.save(*touched.values())
                touched.clear()
                pending = 0
            marks.append(time.perf_counter())
    if touched:
        app.save(*touched.values())
    app.close()
    return ids


def ledger_import(source: Path, store_url: str, home: Path) -> None:
    env = {**os.environ, "LEDGER_HOME": str(home), "LEDGER_STORE": store_url}
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "import", str(source), "-q"], env=env, capture_output=True, cwd=REPO
    )
    if proc.returncode != 0:
        raise SystemExit(f"ledger import failed: {proc.stderr.decode()[-2000:]}")


@contextmanager
def opened(store_url: str, home: Path) -> Iterator[Any]:
    from ledger.bootstrap import open_ledger
    from ledger.config import Settings

    saved = {k: os.environ.get(k) for k in ("LEDGER_HOME", "LEDGER_STORE")}
    os.environ.update({"LEDGER_HOME": str(home), "LEDGER_STORE": store_url})
    try:
        ledger = open_ledger(Settings.from_env())
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        yield ledger
    finally:
        ledger.close()


def import_curve(store_url: str, home: Path) -> list[float]:
    """Events/s in each tenth of the store's last import run (from its recorded batches; the
    first tenth counts from the run's start on the ledger's clock)."""
    with opened(store_url, home) as ledger:
        run = ledger.imports.runs()[-1]
        batches = ledger.imports.batches(run["run"])
    clock = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()  # noqa: E731
    total = sum(b[1] for b in batches)
    bounds = [total * (k + 1) // TENTHS for k in range(TENTHS)]
    rates: list[float] = []
    before_at, before, k = clock(run["started_at"]), 0, 0  # the end of the previous batch
    prev_at, prev_done = before_at, 0  # the end of the previous tenth
    for _, events, recorded_at in batches:
        now, done = clock(recorded_at), before + events
        while k < TENTHS and done >= bounds[k]:
            # a tenth that ends inside a batch ends in proportion to its events in the batch
            ends = before_at + (now - before_at) * (bounds[k] - before) / max(events, 1)
            rates.append((bounds[k] - prev_done) / max(ends - prev_at, 1e-6))
            prev_at, prev_done, k = ends, bounds[k], k + 1
        before_at, before = now, done
    return rates


def tenth_rates(started: float, marks: list[float], count: int) -> list[float]:
    bounds = [0] + [count * (k + 1) // TENTHS for k in range(TENTHS)]
    edges = [started, *marks]
    return [(bounds[k + 1] - bounds[k]) / (edges[k + 1] - edges[k]) for k in range(len(marks))]


def print_curve(label: str, imp: list[float], raw: list[float]) -> None:
    print(f"{label} import curve (events/s per tenth; raw library in the same tenth; ratio):")
    for k, rate in enumerate(imp):
        other = raw[k] if k < len(raw) else float("nan")
        print(f"    tenth {k + 1:>2}: import {rate:>8,.0f}   raw {other:>8,.0f}   {rate / other:5.2f}")
    if imp:
        print(f"    last tenth / first tenth: import {imp[-1] / imp[0]:.2f}, raw {raw[-1] / raw[0]:.2f}")


def sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def postgres_env(url: str) -> dict[str, str]:
    from ledger.bootstrap import store_env

    env = store_env(url)
    env.pop("APPLICATION_RECORDER_TOPIC")
    return env


class Stores:
    """Fresh stores for one backend: (raw library env, ledger store URL), dropped afterwards."""

    def __init__(self, backend: str, work: Path) -> None:
        self.backend = backend
        self.work = work
        self.made: list[str] = []

    def pair(self, name: str) -> tuple[dict[str, str], str]:
        if self.backend == "sqlite":
            return sqlite_env(self.work / f"raw-{name}.sqlite"), f"sqlite:///{self.work / f'imp-{name}.sqlite'}"
        from tests import servers

        base = servers.ensure_postgres()
        raw_url = servers.fresh_postgres_database(base)
        imp_url = servers.fresh_postgres_database(base)
        self.made += [raw_url, imp_url]
        return postgres_env(raw_url), imp_url

    def drop(self) -> None:
        if self.backend == "postgresql":
            from tests import servers

            for url in self.made:
                servers.drop_database(url)
        self.made.clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--history", type=Path, help="a generated history (JSON Lines) instead of generating one")
    parser.add_argument(
        "--setups", default="empty,full", help="which set-ups: empty (the whole history), full (the last tenth)"
    )
    args = parser.parse_args()
    setups = [s for s in args.setups.split(",") if s]

    work = Path(tempfile.mkdtemp(prefix="ledger-bench-append-", dir=REPO / ".cache"))
    if args.history is not None:
        source = args.history
        with source.open("rb") as handle:
            count = sum(1 for _ in handle)
    else:
        cache = REPO / ".cache" / "bench"
        cache.mkdir(parents=True, exist_ok=True)
        source, count = history_file(cache, args.addresses)
    lines = source.read_bytes().splitlines()
    events = [orjson.loads(line) for line in lines]
    for e in events:
        e.pop("recordedtime", None)
    cut = count * (TENTHS - 1) // TENTHS
    head, tail = work / "first-nine-tenths.jsonl", work / "last-tenth.jsonl"
    head.write_bytes(b"\n".join(lines[:cut]) + b"\n")
    tail.write_bytes(b"\n".join(lines[cut:]) + b"\n")
    del lines
    print(f"history: {args.addresses:,} addresses, {count:,} events ({source.name}); load {os.getloadavg()[0]:.1f}")

    try:
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        for backend in backends:
            stores = Stores(backend, work)
            raw_s: list[float] = []
            imp_s: list[float] = []
            full_raw_s: list[float] = []
            full_imp_s: list[float] = []
            for run in range(args.runs):
                if "empty" in setups:
                    raw_env, imp_url = stores.pair(f"{run}")
                    marks: list[float] = []
                    started = time.perf_counter()
                    raw_library_save(raw_env, events, marks=marks)
                    raw_s.append(time.perf_counter() - started)
                    raw_curve = tenth_rates(started, marks, count)
                    imp_s.append(timed(ledger_import, source, imp_url, work / f"home-{run}"))
                    curve = import_curve(imp_url, work / f"home-{run}")
                    print(
                        f"[{backend}] run {run + 1}, empty store: import {count / imp_s[-1]:,.0f} events/s, "
                        f"raw {count / raw_s[-1]:,.0f} events/s, ratio {raw_s[-1] / imp_s[-1]:.2f} "
                        f"(load {os.getloadavg()[0]:.1f})"
                    )
                    print_curve(f"[{backend}] run {run + 1}, empty store:", curve, raw_curve)
                if "full" in setups:
                    raw_env, imp_url = stores.pair(f"full-{run}")
                    ids = raw_library_save(raw_env, events[:cut])
                    full_raw_s.append(timed(raw_library_save, raw_env, events[cut:], 100, ids))
                    home = work / f"home-full-{run}"
                    prefill = timed(ledger_import, head, imp_url, home)
                    full_imp_s.append(timed(ledger_import, tail, imp_url, home))
                    n = count - cut
                    print(
                        f"[{backend}] run {run + 1}, store holding {cut:,} events (filled by import at "
                        f"{cut / prefill:,.0f} events/s): last {n:,} events: import {n / full_imp_s[-1]:,.0f} "
                        f"events/s, raw {n / full_raw_s[-1]:,.0f} events/s, "
                        f"ratio {full_raw_s[-1] / full_imp_s[-1]:.2f} "
                        f"(load {os.getloadavg()[0]:.1f})"
                    )
                stores.drop()
            for label, total, raws, imps in (
                ("empty store", count, raw_s, imp_s),
                (f"into {cut:,} events", count - cut, full_raw_s, full_imp_s),
            ):
                if not raws:
                    continue
                raw = report(f"[{backend}] {label}: raw eventsourcing save() x100", total, raws)
                imp = report(f"[{backend}] {label}: ledger import", total, imps)
                ratios = [r / i for r, i in zip(raws, imps, strict=True)]
                print(
                    f"[{backend}] {label}: ratio import / raw library: median {statistics.median(ratios):.2f} (runs: "
                    + ", ".join(f"{x:.2f}" for x in ratios)
                    + f"); medians {imp / raw:.2f}"
                )

    finally:
        shutil.rmtree(work, ignore_errors=True)  # the stores and split files: gigabytes at full size

if __name__ == "__main__":
    main()
