"""Filling the bitemporal index (`projections.bitemporal`) for rows written without it.

A bulk write (a rebuild, a large catch-up, a rebuild from Kafka) stores rows without their
corners, so that the rows serve as soon as they are written; this pass then computes the
corners of every row that has none, from the address's events up to the row's stream position,
and stores each only if the row is still at that position (a later write brings its own).
Until it is done, figures at cut-offs are folded again from the log (`ReadModel`), so answers
are the same either way, only slower.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import orjson

from projections.bitemporal import corners, encode
from projections.projector import Progress, RawReader, part, scan
from projections.store import ProjectionStore

CHUNK = 2_000
_loads = orjson.loads


def fill_index(
    store: ProjectionStore,
    read_raw: RawReader,
    until: int,
    *,
    progress: Progress | None = None,
    share: tuple[int, int] | None = None,
    counter: Any = None,
) -> int:
    """Store the corners of the rows that have none (of one `share` of the addresses); how many."""
    missing = store.missing_corners()
    if share is not None:
        missing = {s: p for s, p in missing.items() if part(s, share[1]) == share[0]}
    if not missing:
        return 0
    groups = scan(read_raw, 0, until, keep=missing.__contains__, share=share)
    stored = 0
    done = 0
    batch: list[tuple[str, int, bytes]] = []
    subjects = list(groups)
    for i, subject in enumerate(subjects):
        last = missing[subject]
        events = [e for e in map(_loads, groups.pop(subject)) if e["streamposition"] <= last]
        batch.append((subject, last, encode(corners(subject, events))))
        if len(batch) >= CHUNK or i == len(subjects) - 1:
            stored += store.fill_corners(batch)
            done += len(batch)
            batch = []
            if counter is not None:
                counter.value = done
            if progress is not None:
                progress("index", done, len(missing))
    return stored


def fill_index_in_workers(
    open_store: Callable[[], ProjectionStore],
    reader_factory: Callable[[], RawReader],
    until: int,
    workers: int,
    progress: Progress | None = None,
) -> int:
    """`fill_index` with the addresses split between `workers` forked processes; how many were stored."""
    if workers <= 1:
        store = open_store()
        try:
            return fill_index(store, reader_factory(), until, progress=progress)
        finally:
            store.close()
    with_store = open_store()
    try:
        total = len(with_store.missing_corners())
    finally:
        with_store.close()
    if not total:
        return 0
    ctx = multiprocessing.get_context("fork")
    done = [ctx.Value("q", 0, lock=False) for _ in range(workers)]
    stored = [ctx.Value("q", 0, lock=False) for _ in range(workers)]
    procs = [
        ctx.Process(target=_worker, args=(open_store, reader_factory, until, k, workers, done[k], stored[k]))
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        while any(proc.is_alive() for proc in procs):
            for proc in procs:
                proc.join(timeout=0.25 / workers)
            if progress is not None:
                progress("index", sum(int(d.value) for d in done), total)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()
    failed = [proc.exitcode for proc in procs if proc.exitcode != 0]
    if failed:
        raise RuntimeError(f"an index worker failed (exit codes {failed})")
    return sum(int(s.value) for s in stored)


def _worker(
    open_store: Callable[[], ProjectionStore],
    reader_factory: Callable[[], RawReader],
    until: int,
    k: int,
    workers: int,
    done: Any,
    stored: Any,
) -> None:
    try:
        store = open_store()
        reader = reader_factory()
        try:
            stored.value = fill_index(store, reader, until, share=(k, workers), counter=done)
        finally:
            reader.close()
            store.close()
    except BaseException:  # noqa: BLE001 - the parent reports the exit code
        import traceback

        traceback.print_exc()
        os._exit(1)
    os._exit(0)
