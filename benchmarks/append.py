"""Append throughput: `ledger import` of a generated history on SQLite and PostgreSQL, each next
to the raw `eventsourcing` batch `save()` of the same events (100 per save) in the same run.

    .venv/bin/python benchmarks/append.py --addresses 10000 --runs 3 [--backend sqlite|postgresql|both]

Prints medians and the ratio import / raw library. PostgreSQL uses deploy/postgres.sh (or
LEDGER_TEST_POSTGRES) and a fresh database per run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from benchmarks.common import REPO, history_file, report, timed  # noqa: E402


class Address(Aggregate):
    """The baseline's aggregate: one per address, one library event per CloudEvent."""

    @event("Recorded")
    def record(self, cloudevent: dict[str, Any]) -> None:
        pass


def raw_library_save(env: dict[str, str], events: list[dict[str, Any]], batch: int = 100) -> None:
    """The baseline: one library aggregate per address, one event per CloudEvent, save() per 100."""
    app: Application = Application(env=env)
    streams: dict[str, Address] = {}
    touched: dict[str, Address] = {}
    for item in events:
        agg = streams.get(item["subject"])
        if agg is None:
            agg = streams[item["subject"]] = Address()
        agg.record(item)
        touched[item["subject"]] = agg
        if sum(len(a.pending_events) for a in touched.values()) >= batch:
            app.save(*touched.values())
            touched.clear()
    if touched:
        app.save(*touched.values())
    app.close()


def ledger_import(source: Path, store_url: str, home: Path) -> None:
    env = {**os.environ, "LEDGER_HOME": str(home), "LEDGER_STORE": store_url}
    proc = subprocess.run(
        [sys.executable, "-m", "ledger", "import", str(source), "-q"], env=env, capture_output=True, cwd=REPO
    )
    if proc.returncode != 0:
        raise SystemExit(f"ledger import failed: {proc.stderr.decode()[-2000:]}")


def sqlite_env(path: Path) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)}


def postgres_env(url: str) -> dict[str, str]:
    from ledger.bootstrap import store_env

    env = store_env(url)
    env.pop("APPLICATION_RECORDER_TOPIC")
    return env


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="ledger-bench-append-"))
    cache = REPO / ".cache" / "bench"
    cache.mkdir(parents=True, exist_ok=True)
    source, count = history_file(cache, args.addresses)
    events = [orjson.loads(line) for line in source.read_bytes().splitlines()]
    for e in events:
        e.pop("recordedtime", None)
    print(f"history: {args.addresses:,} addresses, {count:,} events ({source.name})")

    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        raw_s: list[float] = []
        imp_s: list[float] = []
        for run in range(args.runs):
            if backend == "sqlite":
                raw_s.append(timed(raw_library_save, sqlite_env(work / f"raw-{run}.sqlite"), events))
                url = f"sqlite:///{work / f'imp-{run}.sqlite'}"
                imp_s.append(timed(ledger_import, source, url, work / f"home-{run}"))
            else:
                from tests import servers

                base = servers.ensure_postgres()
                raw_url = servers.fresh_postgres_database(base)
                raw_s.append(timed(raw_library_save, postgres_env(raw_url), events))
                servers.drop_database(raw_url)
                imp_url = servers.fresh_postgres_database(base)
                imp_s.append(timed(ledger_import, source, imp_url, work / f"home-pg-{run}"))
                servers.drop_database(imp_url)
        raw = report(f"[{backend}] raw eventsourcing save() x100", count, raw_s)
        imp = report(f"[{backend}] ledger import (validate+rules+chain)", count, imp_s)
        ratios = [r / i for r, i in zip(raw_s, imp_s, strict=True)]
        print(
            f"[{backend}] ratio import / raw library: median {statistics.median(ratios):.2f} (runs: "
            + ", ".join(f"{x:.2f}" for x in ratios)
            + f"); medians {imp / raw:.2f}"
        )


if __name__ == "__main__":
    main()
