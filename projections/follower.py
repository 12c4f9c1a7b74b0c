"""Following the event log for the read side: the serving projection store, kept caught up, and
the figures' `Aggregate` of every address's summary, kept in memory and maintained as rows
change (only rows written since the last look are read).

The `Follower` is given its ports as callables (`Ports`), so it runs on any store:
`ledger.bootstrap` wires it to the embedded event store and the configured projection store.
It notices a swapped store (a rebuild), catches up inline when a little behind and in a
background thread when far behind, and tells from change tokens whether anything was committed
since the last look. The queries over what it holds are `projections.query.ReadModel`'s.

Its state changes under `lock`, which is only ever held briefly; `catch_up` runs one at a time
(under its own lock), so a catch-up never holds up an answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from projections import persisted
from projections.backfills import BackfillRecords
from projections.figures import Aggregate
from projections.indexer import fill_index
from projections.projector import Progress, Projector, RawReader, StreamLoader
from projections.store import LOG, NoStore, ProjectionStore

SYNC_LIMIT = 20_000  # a serving process catches up inline when at most this far behind

if TYPE_CHECKING:
    from projections.asof import AsOfIndex  # numpy: imported when figures at cut-offs are first asked

_loads = orjson.loads


@dataclass
class Ports:
    """What the read side needs from the event store and the projection store's location."""

    location: Any  # SQLiteLocation or PostgresLocation
    read_raw: RawReader
    load_streams: StreamLoader
    read_stream: Callable[[str], list[dict[str, Any]]]
    max_position: Callable[[], int]
    head_hash: Callable[[int], str | None]
    # optional: a cheap number that changes when the log changed (None: unknown, always look)
    log_version: Callable[[], int | None] | None = None
    # optional: the record of backfills, named in the provenance of the answers that include them
    backfills: BackfillRecords | None = None
    # True: another process fills the store (`ledger consume` from Kafka); the follower opens it
    # read-only, never catches it up, and measures its lag against `events_stored`
    read_only: bool = False
    # how many events the log holds (the Merkle tree's size: global positions may skip numbers)
    events_stored: Callable[[], int] | None = None


class Follower:
    """Keeps the serving projection store caught up with the log and the aggregate with the store."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports
        self._store: ProjectionStore | None = None
        self._writer: ProjectionStore | None = None
        self._active: str | None = None
        self.agg = Aggregate()
        self.summary_rows: dict[str, bytes] = {}  # every address's summary as stored
        self.extents: dict[str, list[Any] | None] = {}  # the summaries' "extent" (None: a row without one)
        self._version = -1
        self._asof: AsOfIndex | None = None  # the bitemporal index, as of `_asof_version`
        self._asof_version = -1
        self._figures_stale = True  # the aggregate lags the store: summaries are loaded when figures are asked
        # whether `summary_rows` and `extents` are loaded (figures at cut-offs need them); until
        # then the aggregate follows the figures the store keeps (projections.persisted)
        self._rows_loaded = False
        self.positions: dict[str, int] = {}  # the serving store's consumed positions, as of the last look
        self.head = 0  # the log's head, as of the last `refresh`
        self.read_only = ports.read_only
        self.included = 0  # read-only: events the store's rows include, as of the last `refresh`
        self.stored = 0  # read-only: events in the log, as of the last `refresh`
        self.lock = threading.RLock()  # the state above
        self._catching = threading.RLock()  # one catch-up at a time
        self.background: threading.Thread | None = None  # the catch-up in the background, if one ran
        # whether rows without corners get them in a background thread (a server: `ledger serve`)
        self.fill_index = False
        self.indexing: threading.Thread | None = None  # the index being filled, if it is
        self._token: tuple[Any, ...] | None = None

    @property
    def store(self) -> ProjectionStore:
        """The projection store that serves (opened on first use; read-only: `NoStore` while
        nothing has filled it)."""
        if self._store is None:
            if self.read_only:
                self._store = self.ports.location.open_active(readonly=True)
            else:
                self._store = self.ports.location.open_active()
            self._active = self.ports.location.active_id()
        return self._store

    @property
    def position(self) -> int:
        """The last global position the projections include. A Kafka-fed store (read-only) has
        no such position: partitions are consumed independently. It is the log's head when the
        store includes every event, else the number of events it includes (for cache keys only:
        `complete` tells which)."""
        if self.read_only:
            return self.head if self.complete else self.included
        return self.positions.get(LOG, 0)

    @property
    def complete(self) -> bool:
        """Whether the projections include every event of the log (as of the last `refresh`)."""
        return self.behind == 0

    @property
    def behind(self) -> int:
        """Events of the log the projections do not include yet (as of the last `refresh`)."""
        if self.read_only:
            return max(0, self.stored - self.included)
        return max(0, self.head - self.positions.get(LOG, 0))

    def _writer_store(self) -> ProjectionStore:
        if self._writer is None:
            self._writer = self.ports.location.open_active()
        return self._writer

    def catch_up(self, progress: Progress | None = None) -> int:
        """Bring the projection store up to the head of the log; events applied (none when
        another process fills the store: `read_only`)."""
        if self.read_only:
            return 0
        with self._catching:
            head = self.ports.max_position()
            p = self.ports
            return Projector(self._writer_store(), p.read_raw, p.load_streams).catch_up(head, progress)

    def refresh(self, sync_limit: int | None = None, progress: Progress | None = None) -> None:
        """Notice a swapped store, catch up and mark the aggregate as behind the store's rows.

        Catching up happens inline when at most `sync_limit` events behind (always without a
        limit); further behind, a background thread catches up and answers meanwhile say in
        their provenance how far behind they are.
        """
        with self.lock:
            active = self.ports.location.active_id()
            if self._store is not None and active != self._active:
                self._reopen()
            self.store  # noqa: B018 - opens the serving store
            token = self._change_token(active)
            if token is not None and token == self._token:
                return  # nothing was committed to the log or the projection store since the last look
        head = self.ports.max_position()
        if self.read_only:
            self._look_read_only(head, token)
            return
        if head > self.positions.get(LOG, 0):
            if sync_limit is None or head - self.positions.get(LOG, 0) <= sync_limit:
                if self._catching.acquire(blocking=sync_limit is None):
                    try:
                        self.catch_up(progress)
                    finally:
                        self._catching.release()
            else:
                self._catch_up_in_background()
        with self.lock:
            self.head = head
            self.positions = self.store.positions()
            self._figures_stale = True
            self._token = token

    def _look_read_only(self, head: int, token: tuple[Any, ...] | None) -> None:
        """`refresh` of a store another process fills: read how far it got, write nothing."""
        stored = self._events_stored(head)
        with self.lock:
            store = self.store
            self.head, self.stored = head, stored
            self.positions = store.positions()
            self.included = store.events_total()
            self._figures_stale = True
            self._token = token

    def _events_stored(self, head: int) -> int:
        return self.ports.events_stored() if self.ports.events_stored is not None else head

    def current(self, figures: bool = False) -> bool:
        """Whether nothing was committed to either store since the last `refresh` (and, with
        `figures`, the aggregate includes it): an answer without cut-offs then needs no catch-up
        and no store reading beyond this check (two `data_version`s and a `stat` on SQLite,
        ~14 µs). Never waits for `lock`. False when the stores cannot tell (PostgreSQL)."""
        token = self._token
        if token is None or (figures and self._figures_stale):
            return False
        try:
            return self._change_token(self.ports.location.active_id()) == token
        except Exception:  # noqa: BLE001 - a store swapped and closed meanwhile: take the slow path
            return False

    def health(self) -> dict[str, int]:
        """The projection's position, the event store's head and the difference, read now
        (without catching up: a liveness probe does no projection work)."""
        head = self.ports.max_position()
        if self.read_only:
            stored = self._events_stored(head)
            try:
                with self.lock:
                    store = self.store
                included = store.events_total()
            except NoStore:
                included = 0  # alive, and as far behind as can be: nothing filled the store yet
            behind = max(0, stored - included)
            return {"position": head - behind, "store_position": head, "behind": behind}
        with self.lock:
            store = self.store
        position = store.positions().get(LOG, 0)
        return {"position": position, "store_position": head, "behind": max(0, head - position)}

    def figures(self, rows: bool = False) -> Aggregate:
        """The aggregate, brought up to the store's rows (only changed summaries, or the stored
        deltas, are read); with `rows`, also every address's summary and extent."""
        with self.lock:
            if rows and not self._rows_loaded:
                self._forget_figures()
                self._figures_stale = True
            if self._figures_stale:
                self._load_changes(rows)
                self._figures_stale = False
            return self.agg

    def asof(self) -> AsOfIndex | None:
        """The bitemporal index brought up to the store's rows (only changed corners are read);
        None while some row has none (a store written before the index: `ledger rebuild`)."""
        with self.lock:
            store = self.store
            if self._asof is not None and store.version() == self._asof_version:
                return self._asof
            version, missing, rows = store.corners(-1 if self._asof is None else self._asof_version)
            if missing:
                if self.fill_index and not self.read_only:
                    self._fill_index_in_background()
                return None
            if self._asof is None:
                from projections.asof import AsOfIndex

                self._asof = AsOfIndex(dict(rows))
            elif rows:
                self._asof = self._asof.updated(rows)
            self._asof_version = version
            return self._asof

    def summaries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every address's summary (as of the last refresh)."""
        self.figures(rows=True)
        for subject, summary in list(self.summary_rows.items()):
            yield subject, _loads(summary)

    def close(self) -> None:
        with self.lock:
            for store in (self._store, self._writer):
                if store is not None:
                    store.close()
            self._store = self._writer = None

    def _change_token(self, active: str | None) -> tuple[Any, ...] | None:
        """(serving store, log version, store version) when both stores can tell; else None."""
        log_version = self.ports.log_version() if self.ports.log_version is not None else None
        store_version = self.store.data_version()
        if log_version is None or store_version is None:
            return None
        return (active, log_version, store_version)

    def _reopen(self) -> None:
        with self._catching:  # not under a catch-up that is still writing to the old store
            for store in (self._store, self._writer):
                if store is not None:
                    store.close()
            self._store = self._writer = None
        self._forget_figures()
        self._figures_stale = True
        self.positions = {}
        self._token = None

    def _forget_figures(self) -> None:
        self.agg = Aggregate()
        self.summary_rows = {}
        self.extents = {}
        self._version = -1
        self._rows_loaded = False
        self._asof = None
        self._asof_version = -1

    def _catch_up_in_background(self) -> None:
        if self.background is not None and self.background.is_alive():
            return
        self.background = threading.Thread(target=self.catch_up, name="projection-catch-up", daemon=True)
        self.background.start()

    def _fill_index_in_background(self) -> None:
        """Give the rows without corners theirs (`projections.indexer`), one thread at a time."""
        if self.indexing is not None and self.indexing.is_alive():
            return

        def fill() -> None:
            store = self.ports.location.open_active()
            try:
                fill_index(store, self.ports.read_raw, self.ports.max_position())
            finally:
                store.close()

        self.indexing = threading.Thread(target=fill, name="bitemporal-index", daemon=True)
        self.indexing.start()

    def _load_changes(self, rows: bool = False) -> None:
        store = self.store
        if self._version >= 0 and store.version() == self._version:
            self.positions = store.positions()
            return  # no row written since the last look
        if not rows and not self._rows_loaded and self._follow_stored(store):
            return
        first = not self._rows_loaded
        if first:
            self._forget_figures()  # every row is read and summed: from an empty aggregate
        self._load_rows(store)
        self._rows_loaded = True
        if first and self._version > 0 and not self.read_only:
            store.save_figures(self._version, persisted.encode_aggregate(self.agg))  # the next process starts here

    # a reader that applied more deltas than this stores the aggregate as a new base
    COMPACT_AFTER = 64

    def _follow_stored(self, store: ProjectionStore) -> bool:
        """Bring the aggregate up to the store's version from its stored base and deltas;
        False (nothing changed) when a version between has none (a bulk write)."""
        positions, version, entries = store.figures_since(self._version)
        expect = max(self._version, 0) + 1
        start = 0
        for i, (v, base, _) in enumerate(entries):
            if base:
                expect, start = v + 1, i
            elif v != expect:
                return False
            else:
                expect += 1
        if expect != version + 1:
            return False
        agg = self.agg
        deltas = 0
        earlier_form = False
        for _, base, body in entries[start:]:
            if base:
                agg = persisted.aggregate_of(body)
                earlier_form = not persisted.is_in_parts(body)  # stored again, in parts
            else:
                persisted.apply(agg, body)
                deltas += 1
        self.agg, self._version, self.positions = agg, version, positions
        if (deltas > self.COMPACT_AFTER or earlier_form) and not self.read_only:  # consume's store: no writes
            store.save_figures(version, persisted.encode_aggregate(agg))
        return True

    def _load_rows(self, store: ProjectionStore) -> None:
        positions, version, rows = store.snapshot(self._version)
        if version == self._version:
            self.positions = positions
            return
        agg, known, extents = self.agg, self.summary_rows, self.extents
        if not known:  # the first look: every row, counted in bulk

            def first(subject: str, summary: bytes) -> tuple[str, dict[str, Any]]:
                known[subject] = summary
                parsed = _loads(summary)
                extents[subject] = parsed.get("extent")
                return subject, parsed

            agg.add_all(first(subject, bytes(summary)) for subject, summary, _ in rows)
            rows = []
        for subject, summary, _ in rows:
            summary = bytes(summary)
            old = known.get(subject)
            if old == summary:
                continue
            if old is not None:
                agg.add(subject, _loads(old), -1)
            parsed = _loads(summary)
            agg.add(subject, parsed)
            known[subject] = summary
            extents[subject] = parsed.get("extent")
        self._version = version
        self.positions = positions
