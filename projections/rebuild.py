"""A full rebuild into a fresh projection store, swapped in only once it has caught up.

The old store keeps serving meanwhile. The rebuild remembers its target position in the new
store; its rows are written address by address in chunks, so a killed rebuild resumes by
skipping the addresses already written (their rows are complete as of the target). After the
target it catches up with whatever was appended during the rebuild, then swaps.
"""

from __future__ import annotations

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
    after_chunk: Callable[[int], None] | None = None,
) -> RebuildResult:
    """Rebuild the projections from the whole log; swap the result in unless `swap` is False.

    `after_chunk(n)` is called after each written chunk (tests use it to stop a rebuild).
    """
    resumed = location.rebuild_exists()
    store: ProjectionStore = location.open_rebuild()
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
        finish = getattr(store, "finish_bulk", None)
        if finish is not None:
            finish()
    finally:
        store.close()
    if swap:
        location.swap()
    return RebuildResult(target, events, addresses, resumed, skipped, caught_up)
