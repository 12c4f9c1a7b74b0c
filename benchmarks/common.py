"""Shared helpers for the benchmarks: timing, medians, generated histories, result lines."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def history_parser(doc: str | None, addresses: int = 220_000) -> argparse.ArgumentParser:
    """A benchmark's argument parser (its module `doc` as the help) with the generated history's
    `--addresses` (default `addresses`, else 220,000: the full-size programme) and `--seed`."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--addresses", type=int, default=addresses)
    parser.add_argument("--seed", type=int, default=1)
    return parser


def history_file(folder: Path, addresses: int, seed: int = 1, until: date = date(2024, 12, 31)) -> tuple[Path, int]:
    """A generated history (cached per size and seed); returns the file and its event count."""
    from ledger.generator import generate

    path = folder / f"history-{addresses}-{seed}-{until}.jsonl"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with tmp.open("wb") as out:
            generate(addresses, seed, until, out)
        tmp.rename(path)
    with path.open("rb") as handle:
        count = sum(1 for _ in handle)
    return path, count


def timed(run: Callable[..., object], *args: object) -> float:
    """Seconds one call takes."""
    started = time.perf_counter()
    run(*args)
    return time.perf_counter() - started


def report(label: str, events: int, seconds: list[float]) -> float:
    """Print the median rate of several runs; return it."""
    rates = [events / s for s in seconds]
    median = statistics.median(rates)
    spread = ", ".join(f"{r:,.0f}" for r in rates)
    print(f"{label:<46} median {median:>10,.0f} events/s   runs: {spread}")
    return median
