"""`generate`: a deterministic, realistic history of the ledger as JSON Lines."""

from __future__ import annotations

import gc
from collections.abc import Callable
from datetime import date, datetime
from typing import BinaryIO

from ledger.generator import claims, coordination, extras, history, ncg
from ledger.generator.address import Address
from ledger.generator.context import Ctx
from ledger.generator.params import DEFAULT_END, HISTORY_START
from ledger.generator.timeline import day_of

CHUNK = 20_000


def simulate_address(ctx: Ctx, index: int) -> None:
    """Generate one address's whole history into the run's buffers."""
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


def generate(
    addresses: int,
    seed: int,
    until: date = date(2024, 12, 31),
    out: BinaryIO | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write the history of `addresses` addresses, recorded up to the end of `until`, to `out`.

    One CloudEvent per line in publisher form plus `recordedtime`, sorted by recorded time
    (ties in generation order). Same arguments, same bytes. Returns the number of events.
    `progress(n)` is called now and then with the number of events written so far.
    """
    if out is None:
        raise TypeError("generate() needs a binary output stream `out`")
    if addresses < 0:
        raise ValueError("addresses must be >= 0")
    if isinstance(until, datetime):
        until = until.date()
    cut_day = day_of(until)
    if cut_day < HISTORY_START:
        return 0
    ctx = Ctx(seed, max(cut_day, DEFAULT_END), cut_day, addresses)
    gc_enabled = gc.isenabled()
    gc.disable()  # millions of short-lived dicts and no cycles: the collector only costs time
    try:
        for index in range(addresses):
            simulate_address(ctx, index)
        keys = ctx.keys
        order = sorted(range(len(keys)), key=keys.__getitem__)
        del ctx.keys, keys
        starts = ctx.starts
        starts.append(len(ctx.buf))
        view = memoryview(ctx.buf)
        written = 0
        for first in range(0, len(order), CHUNK):
            chunk = order[first : first + CHUNK]
            out.write(b"".join([view[starts[i] : starts[i + 1]] for i in chunk]))
            written += len(chunk)
            if progress is not None:
                progress(written)
        view.release()
        return written
    finally:
        if gc_enabled:
            gc.enable()
