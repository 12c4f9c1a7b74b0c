"""A full rebuild into a fresh projection store, swapped in only once it has caught up.

The old store keeps serving meanwhile. The rebuild remembers its target position in the new
store; its rows are written address by address in chunks, so a killed rebuild resumes by
skipping the addresses already written (their rows are complete as of the target). After the
target it catches up with whatever was appended during the rebuild, then swaps.

With `workers` > 1 the addresses are split between that many processes (by a hash of the
address): each scans the log, keeps its share and folds and writes it. A worker whose parent
died stops at its next chunk.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from projections.projector import Progress, Projector, RawReader, StreamLoader, fold_groups, scan
from projections.store import LOG, ProjectionStore, Row

TARGET = "rebuild_target"
CHUNK = 2_000  # addresses per transaction: what a killed rebuild can lose


class Location(Protocol):
    """Where the serving store and a rebuild live (a folder of SQLite files, or a PG schema)."""

    def open_rebuild(self) -> Any: ...

    def swap(self) -> None: ...

    def rebuild_exists(self) -> bool: ...


@dataclass
class RebuildResult:
    target: int
    events: int  # events folded by this run up to the target
    addresses: int  # addresses written by this run
    resumed: bool  # an unfinished rebuild was continued
    skipped: int  # addresses already written by the killed run
    caught_up: int  # events applied after the target


def rebuild(
    location: Location,
    read_raw: RawReader,
    load_streams: StreamLoader,
    max_position: Callable[[], int],
    *,
    progress: Progress | None = None,
    swap: bool = True,
    chunk: int = CHUNK,
    workers: int = 1,
    reader_factory: Callable[[], RawReader] | None = None,
    after_chunk: Callable[[int], None] | None = None,
) -> RebuildResult:
    """Rebuild the projections from the whole log; swap the result in unless `swap` is False.

    `workers` > 1 needs `reader_factory` (each process opens its own reader). `after_chunk(n)`
    is called after each written chunk of a single-process rebuild (tests stop it there).
    """
    resumed = location.rebuild_exists()
    store: ProjectionStore = location.open_rebuild()
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived dicts and no reference cycles: the collector only costs time
    try:
        meta = store.meta()
        if TARGET in meta:
            target = int(meta[TARGET])
        else:
            target = max_position()
            store.write([], {}, meta={TARGET: str(target)})
        events = addresses = 0
        done = store.subjects() if resumed else set()
        skipped = len(done)
        if store.position(LOG) < target:
            if workers > 1 and reader_factory is not None:
                addresses, events = _in_workers(location, reader_factory, target, done, workers, chunk, progress)
                store.write([], {LOG: target})
            else:
                groups = scan(read_raw, 0, target, keep=lambda s: s not in done, progress=progress)
                written = [0]

                def write(rows: list[Row], last: bool) -> None:
                    store.write(rows, {LOG: target} if last else {})
                    written[0] += 1
                    if after_chunk is not None:
                        after_chunk(written[0])

                addresses = len(groups)
                events = fold_groups(groups, write, chunk=chunk, progress=progress)
        caught_up = Projector(store, read_raw, load_streams).catch_up(max_position(), progress)
        store.finish_bulk()
    finally:
        store.close()
        if collecting:
            gc.enable()
    if swap:
        location.swap()
    return RebuildResult(target, events, addresses, resumed, skipped, caught_up)


def _in_workers(
    location: Location,
    reader_factory: Callable[[], RawReader],
    target: int,
    done: set[str],
    workers: int,
    chunk: int,
    progress: Progress | None,
) -> tuple[int, int]:
    """Fold the addresses not `done` in `workers` forked processes; (addresses, events)."""
    ctx = multiprocessing.get_context("fork")
    counters = [
        [ctx.Value("q", 0, lock=False) for _ in range(4)] for _ in range(workers)
    ]  # read, folded, addresses, events
    procs = [
        ctx.Process(
            target=_worker,
            args=(location, reader_factory, target, done, k, workers, chunk, counters[k], os.getpid()),
            name=f"rebuild-{k}",
        )
        for k in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        while any(proc.is_alive() for proc in procs):
            for proc in procs:
                proc.join(timeout=0.25 / workers)  # also the progress bar's refresh
            if progress is not None:
                progress("read", min(c[0].value for c in counters), target)
                progress("fold", sum(c[1].value for c in counters), max(1, sum(c[3].value for c in counters)))
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()
    failed = [proc.name for proc in procs if proc.exitcode != 0]
    if failed:
        raise RuntimeError(f"rebuild worker(s) {', '.join(failed)} failed")
    return sum(c[2].value for c in counters), sum(c[3].value for c in counters)


def _worker(
    location: Location,
    reader_factory: Callable[[], RawReader],
    target: int,
    done: set[str],
    k: int,
    workers: int,
    chunk: int,
    counters: list[Any],
    parent: int,
) -> None:
    try:
        read_raw = reader_factory()
        store: ProjectionStore = location.open_rebuild()

        def report(phase: str, value: int, total: int) -> None:
            if phase == "read":
                counters[0].value = value
            else:
                counters[1].value = value

        groups = scan(read_raw, 0, target, keep=lambda s: s not in done, progress=report, share=(k, workers))
        counters[2].value = len(groups)
        counters[3].value = sum(len(g) for g in groups.values())

        def write(rows: list[Row], last: bool) -> None:
            if os.getppid() != parent:
                os._exit(1)  # the rebuild was killed: leave the rest to the next run
            store.write(rows, {})

        fold_groups(groups, write, chunk=chunk, progress=report)
        store.close()
        read_raw.close()
    except BaseException:  # noqa: BLE001 - the parent reports the failure
        traceback.print_exc(file=sys.stderr)
        os._exit(1)
