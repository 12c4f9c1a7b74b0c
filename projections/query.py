"""The queries: `case`, `metrics`, `evaluation`, each with the cut-offs and a provenance block.

Without cut-offs the answers come from the projection store: the case view from its row, the
figures from an `Aggregate` of every address's summary, kept in memory and maintained as rows
change (only rows written since the last look are read). With `at` or `known_at` the figures
are recomputed from the event log's history, which is what the cut-offs mean.

The `ReadModel` is given its ports as callables, so it runs on any store: `ledger.readmodel`
wires it to the embedded event store and the configured projection store.

It may be asked from many threads at once (the HTTP server answers slow queries in a thread
pool): its state changes under `_lock`, which is only ever held briefly — the figures at
cut-offs are computed on a snapshot taken under it, at most `cutoff_limit` at a time (beyond
that `Busy`), so a slow computation never holds up a quick answer.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Unpack

import orjson

from projections.backfills import BackfillRecords, BackfillRun, Bounds, included
from projections.caseview import attention, case_view
from projections.figures import Aggregate, evaluation, metrics
from projections.fold import fold
from projections.history import prepare
from projections.projector import Progress, Projector, RawReader, StreamLoader, scan
from projections.store import LOG, ProjectionStore
from projections.summary import summarize
from projections.timeutil import now_utc

DEFAULT_PIVOT = "2023-07-01T00:00:00.000000Z"
SYNC_LIMIT = 20_000  # a serving process catches up inline when at most this far behind


class Busy(Exception):
    """`cutoff_limit` figures at cut-offs are being computed: ask again in `retry_after` seconds."""

    def __init__(self, running: int, retry_after: int) -> None:
        super().__init__(f"{running} figure computations at cut-offs are running, the most this server runs at once")
        self.running = running
        self.retry_after = retry_after


_loads = orjson.loads
_dumps = orjson.dumps


@dataclass
class Ports:
    """What the read model needs from the event store and the projection store's location."""

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


class ReadModel:
    """Answers the read-side queries, following the event log on the way."""

    # Figures at cut-offs fold again the addresses with events beyond them, unless they are more
    # than this share of all addresses: then one sequential scan of the log is cheaper.
    refold_share = 1 / 3

    def __init__(self, ports: Ports, cutoff_limit: int | None = None) -> None:
        """`cutoff_limit`: figures at cut-offs computed at once (None: no limit, as for the CLI)."""
        self.ports = ports
        self.cutoff_limit = cutoff_limit
        self._running = 0  # figure computations at cut-offs under way (changed under `_lock`)
        self._cutoff_seconds = 1.0  # how long one takes, a running estimate (for `Retry-After`)
        self._store: ProjectionStore | None = None
        self._writer: ProjectionStore | None = None
        self._active: str | None = None
        self._agg = Aggregate()
        self._summaries: dict[str, bytes] = {}
        self._extents: dict[str, list[Any] | None] = {}  # the summaries' "extent" (None: a row without one)
        self._version = -1
        self._figures_stale = True  # the aggregate lags the store: summaries are loaded when figures are asked
        self._positions: dict[str, int] = {}
        self._head = 0
        self._hashes: OrderedDict[int, str | None] = OrderedDict()
        self._cutoff_cache: OrderedDict[tuple[int, str | None, str | None], tuple[Aggregate, int]] = OrderedDict()
        self._lock = threading.RLock()  # the read side's state
        self._catching = threading.RLock()  # one catch-up at a time
        self._background: threading.Thread | None = None
        self._token: tuple[Any, ...] | None = None
        self._backfill_runs: list[BackfillRun] = []
        self._backfill_subjects: set[str] = set()
        self._backfills_seen: tuple[int, int] | None = None  # (store head, position) they were read at

    # -- following the log ------------------------------------------------------------------
    @property
    def store(self) -> ProjectionStore:
        if self._store is None:
            self._store = self.ports.location.open_active()
            self._active = self.ports.location.active_id()
        return self._store

    def _writer_store(self) -> ProjectionStore:
        if self._writer is None:
            self._writer = self.ports.location.open_active()
        return self._writer

    def catch_up(self, progress: Progress | None = None) -> int:
        """Bring the projection store up to the head of the log; events applied."""
        with self._catching:
            head = self.ports.max_position()
            p = self.ports
            return Projector(self._writer_store(), p.read_raw, p.load_streams).catch_up(head, progress)

    def refresh(self, sync_limit: int | None = None, progress: Progress | None = None) -> None:
        """Notice a swapped store, catch up and fold rows written since the last look into the aggregate.

        Catching up happens inline when at most `sync_limit` events behind (always without a
        limit); further behind, a background thread catches up and answers meanwhile say in
        their provenance how far behind they are.
        """
        with self._lock:
            active = self.ports.location.active_id()
            if self._store is not None and active != self._active:
                self._reopen()
            self.store  # noqa: B018 - opens the serving store
            token = self._change_token(active)
            if token is not None and token == self._token:
                return  # nothing was committed to the log or the projection store since the last look
        head = self.ports.max_position()
        if head > self._positions.get(LOG, 0):
            if sync_limit is None or head - self._positions.get(LOG, 0) <= sync_limit:
                if self._catching.acquire(blocking=sync_limit is None):
                    try:
                        self.catch_up(progress)
                    finally:
                        self._catching.release()
            else:
                self._catch_up_in_background()
        with self._lock:
            self._head = head
            self._positions = self.store.positions()
            self._figures_stale = True
            self._token = token

    def current(self, figures: bool = False) -> bool:
        """Whether nothing was committed to either store since the last `refresh` (and, with
        `figures`, the aggregate includes it): an answer without cut-offs then needs no catch-up
        and no store reading beyond this check (two `data_version`s and a `stat` on SQLite,
        ~14 µs). Never waits for `_lock`. False when the stores cannot tell (PostgreSQL)."""
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
        with self._lock:
            store = self.store
        position = store.positions().get(LOG, 0)
        return {"position": position, "store_position": head, "behind": max(0, head - position)}

    def cached(self, at: str | None, known_at: str | None) -> bool:
        """Whether the figures at these cut-offs are cached at the current position (a look
        without `_lock`: the answer may be stale by the time it is asked)."""
        return (self._positions.get(LOG, 0), at, known_at) in self._cutoff_cache

    def retry_after(self) -> int:
        """Whole seconds a computation of figures at cut-offs takes, as lately seen (1–60)."""
        return max(1, min(60, math.ceil(self._cutoff_seconds)))

    def _figures(self) -> Aggregate:
        """The aggregate, brought up to the store's rows (only changed summaries are read)."""
        with self._lock:
            if self._figures_stale:
                self._load_changes()
                self._figures_stale = False
            return self._agg

    def _change_token(self, active: str | None) -> tuple[Any, ...] | None:
        """(serving store, log version, store version) when both stores can tell; else None."""
        log_version = self.ports.log_version() if self.ports.log_version is not None else None
        store_version = getattr(self.store, "data_version", None)
        if log_version is None or store_version is None:
            return None
        return (active, log_version, store_version())

    def _reopen(self) -> None:
        with self._catching:  # not under a catch-up that is still writing to the old store
            for store in (self._store, self._writer):
                if store is not None:
                    store.close()
            self._store = self._writer = None
        self._agg = Aggregate()
        self._summaries = {}
        self._extents = {}
        self._version = -1
        self._figures_stale = True
        self._positions = {}
        self._token = None

    def _catch_up_in_background(self) -> None:
        if self._background is not None and self._background.is_alive():
            return
        self._background = threading.Thread(target=self.catch_up, name="projection-catch-up", daemon=True)
        self._background.start()

    def _load_changes(self) -> None:
        store = self.store
        if self._version >= 0 and store.version() == self._version:
            self._positions = store.positions()
            return  # no row written since the last look
        snapshot = getattr(store, "snapshot", None)
        if snapshot is not None:
            positions, version, rows = snapshot(self._version)
        else:  # pragma: no cover - every store in this package has `snapshot`
            positions, version, rows = store.positions(), store.version(), list(store.summaries(self._version))
        if version == self._version:
            self._positions = positions
            return
        agg, known, extents = self._agg, self._summaries, self._extents
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
        self._positions = positions

    def close(self) -> None:
        with self._lock:
            for store in (self._store, self._writer):
                if store is not None:
                    store.close()
            self._store = self._writer = None

    def summaries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every address's summary (as of the last refresh)."""
        self._figures()
        for subject, summary in list(self._summaries.items()):
            yield subject, _loads(summary)

    @property
    def position(self) -> int:
        """The last global position the projections include."""
        return self._positions.get(LOG, 0)

    # -- provenance -------------------------------------------------------------------------
    def _hash_at(self, position: int) -> str | None:
        if position not in self._hashes:
            self._hashes[position] = self.ports.head_hash(position) if position > 0 else None
            while len(self._hashes) > 64:
                self._hashes.popitem(last=False)
        return self._hashes[position]

    def provenance(
        self,
        at: str | None,
        known_at: str | None,
        now: str,
        events: int,
        position: int,
        *,
        backfills: list[dict[str, Any]] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        out = {
            "at": at,
            "known_at": known_at,
            "now": now,
            **extra,
            "events": events,
            "position": position,
            "head_hash": self._hash_at(position),
            "store_position": self._head,
            "behind": max(0, self._head - position),
        }
        if backfills:
            out["backfills"] = backfills  # absent when the answer includes no back-filled event
        return out

    def backfills(self, **bounds: Unpack[Bounds]) -> list[dict[str, Any]]:
        """The provenance entries of the backfills an answer with these bounds includes."""
        source = self.ports.backfills
        if source is None:
            return []
        seen = (self._head, self._positions.get(LOG, 0))
        if seen != self._backfills_seen:  # a backfill adds events: the runs can only change with the log
            runs = source.backfills()
            subjects = source.subjects() if runs else set()
            with self._lock:
                self._backfill_runs, self._backfill_subjects, self._backfills_seen = runs, subjects, seen
        return included(source, self._backfill_runs, subjects=self._backfill_subjects, **bounds)

    # -- case -------------------------------------------------------------------------------
    def case_json(
        self, subject: str, at: str | None = None, known_at: str | None = None, now: str | None = None
    ) -> bytes | None:
        """The joint view of one address as JSON, or None for an address the ledger does not know."""
        now = now or at or now_utc()
        row = self.store.case(subject)
        if row is None:
            return None
        position = self._positions.get(LOG, 0)
        backfills = self.backfills(at=at, known_at=known_at, subject=subject, streamposition=row.streamposition)
        if at is None and known_at is None:
            prov = self.provenance(at, known_at, now, row.events, position, source="projection", backfills=backfills)
            return b"".join(
                (
                    row.view[:-1],
                    b',"attention":',
                    _dumps(attention(_loads(row.attention), now)),
                    b',"provenance":',
                    _dumps(prov),
                    b"}",
                )
            )
        events = [e for e in self.ports.read_stream(subject) if e["streamposition"] <= row.streamposition]
        view = case_view(events, subject, at, known_at, now)
        view["provenance"] = self.provenance(
            at, known_at, now, view["ledger"]["events"], position, source="event log", backfills=backfills
        )
        return _dumps(view)

    def case(self, subject: str, at: str | None = None, known_at: str | None = None, now: str | None = None) -> Any:
        body = self.case_json(subject, at, known_at, now)
        return None if body is None else _loads(body)

    # -- figures ----------------------------------------------------------------------------
    def _figures_at(
        self, at: str | None, known_at: str | None, figures: Callable[[Aggregate], dict[str, Any]]
    ) -> tuple[dict[str, Any], int, int, str]:
        """(`figures` of the aggregate, events, position, source) for the cut-offs.

        Without cut-offs the figures are read from the maintained aggregate under `_lock` (it
        changes in place). With them, from a cached aggregate at the cut-offs, or one computed
        outside the lock from a snapshot taken under it, counting against `cutoff_limit`.
        """
        if at is None and known_at is None:
            with self._lock:
                agg = self._figures()
                position = self._positions.get(LOG, 0)
                return figures(agg), position, position, "projection"
        with self._lock:
            self._figures()
            position = self._positions.get(LOG, 0)
            key = (position, at, known_at)
            hit = self._cutoff_cache.get(key)
            if hit is None:
                if self.cutoff_limit is not None and self._running >= self.cutoff_limit:
                    raise Busy(self._running, self.retry_after())
                self._running += 1
                base = (self._agg.copy(), dict(self._extents), dict(self._summaries))
        if hit is None:
            started = time.perf_counter()
            try:
                hit = self._at_cutoffs(position, at, known_at, *base)
            finally:
                with self._lock:
                    self._running -= 1
            seconds = time.perf_counter() - started
            with self._lock:
                self._cutoff_seconds = (self._cutoff_seconds + seconds) / 2
                self._cutoff_cache[key] = hit
                while len(self._cutoff_cache) > 8:
                    self._cutoff_cache.popitem(last=False)
        return figures(hit[0]), hit[1], position, "event log"

    def _at_cutoffs(
        self,
        position: int,
        at: str | None,
        known_at: str | None,
        base: Aggregate,
        extents: dict[str, list[Any] | None],
        summaries: dict[str, bytes],
    ) -> tuple[Aggregate, int]:
        """(aggregate, events) at the cut-offs: `base` (a copy of the maintained aggregate, with
        the `extents` and `summaries` it sums) with the addresses that have events beyond them
        folded again from their streams; a scan of the whole log when that is most."""
        affected: list[str] = []
        events = 0
        for subject, extent in extents.items():
            if extent is None:
                return aggregate_from_log(self.ports.read_raw, position, at, known_at)  # rows from before extents
            if (at is not None and extent[2] > at) or (known_at is not None and extent[3] > known_at):
                affected.append(subject)
            else:
                events += extent[1]
        if len(affected) > self.refold_share * len(extents):
            return aggregate_from_log(self.ports.read_raw, position, at, known_at)
        agg = base
        for start in range(0, len(affected), 1000):
            chunk = affected[start : start + 1000]
            streams = self.ports.load_streams(chunk)
            for subject in chunk:
                agg.add(subject, _loads(summaries[subject]), -1)
                last = extents[subject][0]  # type: ignore[index]
                stored = (e for e in map(_loads, streams.get(subject, ())) if e["streamposition"] <= last)
                history = prepare(stored, subject, at, known_at)
                if history.stored:
                    events += history.stored
                    agg.add(subject, summarize(fold(history)))
        return agg, events

    def metrics(self, at: str | None = None, known_at: str | None = None, now: str | None = None) -> dict[str, Any]:
        now = now or at or now_utc()
        out, events, position, source = self._figures_at(at, known_at, lambda agg: metrics(agg, now))
        backfills = self.backfills(until=position, at=at, known_at=known_at)
        out["provenance"] = self.provenance(at, known_at, now, events, position, source=source, backfills=backfills)
        return out

    def evaluation(
        self,
        pivot: str = DEFAULT_PIVOT,
        at: str | None = None,
        known_at: str | None = None,
        now: str | None = None,
    ) -> dict[str, Any]:
        now = now or at or now_utc()
        out, events, position, source = self._figures_at(at, known_at, lambda agg: evaluation(agg, now, pivot))
        backfills = self.backfills(until=position, at=at, known_at=known_at)
        out["provenance"] = self.provenance(
            at, known_at, now, events, position, source=source, pivot=pivot, backfills=backfills
        )
        return out


def aggregate_from_log(
    read_raw: RawReader, until: int, at: str | None, known_at: str | None, progress: Progress | None = None
) -> tuple[Aggregate, int]:
    """Fold every address of positions 1..`until` with the cut-offs; (aggregate, events counted)."""
    groups = scan(read_raw, 0, until, progress=progress)
    agg = Aggregate()
    events = 0

    def summaries() -> Iterator[tuple[str, dict[str, Any]]]:
        nonlocal events
        for subject in list(groups):
            history = prepare(map(_loads, groups.pop(subject)), subject, at, known_at)
            if history.stored:
                events += history.stored
                yield subject, summarize(fold(history))

    agg.add_all(summaries())
    return agg, events
