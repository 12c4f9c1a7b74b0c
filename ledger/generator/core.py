"""`generate`: a deterministic, realistic history of the ledger as JSON Lines.

Addresses are generated in fixed chunks of `CHUNK_ADDRESSES`, each with its own random
source (`Random(f"{seed}:{chunk}")`) and its own range of publisher references, so a chunk's
events do not depend on which process made them. Large runs spread the chunks over worker
processes that write their encoded lines to temporary files; the parent sorts all events by
recorded time (ties: chunk, then generation order) and writes them out. One process or
several: the same bytes.
"""

from __future__ import annotations

import gc
import mmap
import os
import tempfile
import threading
from array import array
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from multiprocessing import current_process, get_all_start_methods, get_context
from pathlib import Path
from typing import BinaryIO

from ledger.generator import claims, coordination, extras, history, ncg
from ledger.generator.address import Address
from ledger.generator.context import Ctx
from ledger.generator.params import DEFAULT_END, HISTORY_START
from ledger.generator.timeline import day_of

CHUNK_ADDRESSES = 5_000  # addresses per chunk (part of the output's definition: keep fixed)
REF_BLOCK = 1_000_000  # publisher reference numbers reserved per chunk
PARALLEL_FROM = 30_000  # fewer addresses: one process is quicker than starting workers
WRITE_BATCH = 20_000  # events per write (and per progress call)


@dataclass(frozen=True, slots=True)
class Run:
    """What defines a history: size, seed, simulation horizon and the recording cut-off."""

    addresses: int
    seed: int
    horizon_day: int
    cut_day: int


@dataclass(slots=True)
class Part:
    """One chunk's encoded events: lines back to back, their starts and recorded times."""

    data: bytes | bytearray | mmap.mmap
    starts: Sequence[int]
    keys: Sequence[float]


def simulate_address(ctx: Ctx, index: int) -> None:
    """Generate one address's whole history into the context's buffers."""
    a = Address(ctx, index)
    tr = ncg.simulate(ctx, a)
    a.traj = tr
    filed = claims.filings(ctx, a, tr)
    claims.outreach(ctx, a, tr, filed)
    handled = claims.handle(ctx, a, tr, filed)
    claims.decisions(ctx, a, handled)
    claims.aos(ctx, a, tr)
    coordination.co_inspect(ctx, tr, handled)
    coordination.simulate(ctx, a, tr, handled)
    extras.simulate(ctx, a, tr, handled)
    claims.emit(ctx, a, handled)
    if tr is not None:
        ncg.emit(a, tr)
    a.register(ctx)
    history.finish(ctx, a)


def generate_chunk(run: Run, chunk: int) -> Ctx:
    """Generate one chunk of addresses; the context holds its encoded events."""
    ctx = Ctx(f"{run.seed}:{chunk}", run.horizon_day, run.cut_day, chunk * REF_BLOCK)
    first = chunk * CHUNK_ADDRESSES
    for index in range(first, min(first + CHUNK_ADDRESSES, run.addresses)):
        simulate_address(ctx, index)
    return ctx


def _worker(run: Run, chunk: int, folder: str) -> tuple[array, array]:
    """In a worker process: generate a chunk into `folder`; return its starts and keys."""
    gc.disable()
    ctx = generate_chunk(run, chunk)
    with open(os.path.join(folder, f"chunk-{chunk:06d}.bin"), "wb") as out:
        out.write(ctx.buf)
    return array("q", ctx.starts), array("d", ctx.keys)


def _can_fork() -> bool:
    """Worker processes are forked (no re-import of `__main__`, unlike spawn), which is only
    safe in a single-threaded process that is not itself a daemonic worker."""
    return "fork" in get_all_start_methods() and threading.active_count() == 1 and not current_process().daemon


def _default_workers(addresses: int) -> int:
    if addresses < PARALLEL_FROM:
        return 1
    return max(1, min(2, os.cpu_count() or 1))


def generate(
    addresses: int,
    seed: int,
    until: date = date(2024, 12, 31),
    out: BinaryIO | None = None,
    progress: Callable[[int], None] | None = None,
    *,
    workers: int | None = None,
) -> int:
    """Write the history of `addresses` addresses, recorded up to the end of `until`, to `out`.

    One CloudEvent per line in publisher form plus `recordedtime`, sorted by recorded time.
    Same arguments, same bytes (whatever `workers`: large runs default to 2 forked worker
    processes when this process is single-threaded, else everything runs here). Returns the
    number of events; `progress(n)` is called now and then with the number written so far.
    """
    if out is None:
        raise TypeError("generate() needs a binary output stream `out`")
    if addresses < 0:
        raise ValueError("addresses must be >= 0")
    if isinstance(until, datetime):
        until = until.date()
    cut_day = day_of(until)
    if cut_day < HISTORY_START or addresses == 0:
        return 0
    run = Run(addresses, seed, max(cut_day, DEFAULT_END), cut_day)
    chunks = range((addresses + CHUNK_ADDRESSES - 1) // CHUNK_ADDRESSES)
    count = workers if workers is not None else _default_workers(addresses)
    gc_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived dicts and no cycles: the collector only costs time
    try:
        if count <= 1 or len(chunks) == 1 or not _can_fork():
            parts = []
            for chunk in chunks:
                ctx = generate_chunk(run, chunk)
                parts.append(Part(ctx.buf, ctx.starts, ctx.keys))
            return _write(parts, out, progress)
        with tempfile.TemporaryDirectory(prefix="ledger-generate-") as folder:
            context = get_context("fork")
            with ProcessPoolExecutor(max_workers=count, mp_context=context) as pool:
                futures = [pool.submit(_worker, run, chunk, folder) for chunk in chunks]
                results = [f.result() for f in futures]
            parts = []
            try:
                for chunk, (starts, keys) in zip(chunks, results, strict=True):
                    path = Path(folder) / f"chunk-{chunk:06d}.bin"
                    size = path.stat().st_size
                    data: bytes | mmap.mmap = b""
                    if size:
                        with path.open("rb") as handle:
                            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
                    parts.append(Part(data, starts, keys))
                return _write(parts, out, progress)
            finally:
                for part in parts:
                    if isinstance(part.data, mmap.mmap):
                        try:
                            part.data.close()
                        except BufferError:  # a view is still alive (after an error): let GC do it
                            pass
    finally:
        if gc_enabled:
            gc.enable()


def _write(parts: list[Part], out: BinaryIO, progress: Callable[[int], None] | None) -> int:
    """Write every part's lines in recorded order (ties: part order, then line order)."""
    keys: list[float] = []
    views = []
    begin = array("q")
    finish = array("q")
    for part in parts:
        keys.extend(part.keys)
        view = memoryview(part.data)
        views.extend([view] * len(part.keys))
        begin.extend(part.starts)
        finish.extend(part.starts[1:])
        finish.append(len(part.data))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    del keys
    written = 0
    for first in range(0, len(order), WRITE_BATCH):
        batch = order[first : first + WRITE_BATCH]
        out.write(b"".join([views[i][begin[i] : finish[i]] for i in batch]))
        written += len(batch)
        if progress is not None:
            progress(written)
    del views
    return written
