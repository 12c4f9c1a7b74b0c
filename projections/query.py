"""The queries: `case`, `metrics`, `evaluation`, each with the cut-offs and a provenance block.

Without cut-offs the answers come from the projection store that `projections.follower`
keeps caught up: the case view from its row, the figures from the follower's maintained
`Aggregate`. With `at` or `known_at` the figures are recomputed from the event log's history,
which is what the cut-offs mean. The `ReadModel` answers; its `Follower` follows the log
(`refresh`, `catch_up`, `current`, `health` and `close` are the follower's, passed on).

It may be asked from many threads at once (the HTTP server answers slow queries in a thread
pool): its state changes under the follower's `lock`, which is only ever held briefly — the
figures at cut-offs are computed on a snapshot taken under it, at most `cutoff_limit` at a time
(beyond that `Busy`), so a slow computation never holds up a quick answer.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, Unpack

import orjson

from projections.backfills import BackfillRun, Bounds, included
from projections.caseview import attention, case_view
from projections.figures import Aggregate, evaluation, metrics
from projections.fold import fold
from projections.follower import SYNC_LIMIT, Follower, Ports
from projections.history import prepare
from projections.projector import Progress, RawReader, scan
from projections.search import Search
from projections.series import Plan
from projections.store import KAFKA_PREFIX, ProjectionStore
from projections.summary import summarize
from projections.sweep import grouped, sweep
from projections.timeutil import now_utc
from projections.worklist import Query
from projections.worklist import answer as worklist_answer

__all__ = ["DEFAULT_PIVOT", "SYNC_LIMIT", "Busy", "Follower", "Ports", "ReadModel", "aggregate_from_log"]

DEFAULT_PIVOT = "2023-07-01T00:00:00.000000Z"


class Busy(Exception):
    """`cutoff_limit` figures at cut-offs are being computed: ask again in `retry_after` seconds."""

    def __init__(self, running: int, retry_after: int) -> None:
        super().__init__(f"{running} figure computations at cut-offs are running, the most this server runs at once")
        self.running = running
        self.retry_after = retry_after


_loads = orjson.loads
_dumps = orjson.dumps


class ReadModel:
    """Answers the read-side queries from what its `Follower` keeps up to date."""

    # Figures at cut-offs fold again the addresses with events beyond them, unless they are more
    # than this share of all addresses: then one sequential scan of the log is cheaper.
    refold_share = 1 / 3

    def __init__(self, ports: Ports, cutoff_limit: int | None = None, use_index: bool = True) -> None:
        """`cutoff_limit`: figures at cut-offs computed at once (None: no limit, as for the CLI).
        `use_index`: figures at cut-offs from the bitemporal index when the store has one
        (`projections.asof`); False folds them again from the log, as before the index."""
        self.ports = ports
        self.use_index = use_index
        self.follower = Follower(ports)
        self.cutoff_limit = cutoff_limit
        self._lock = self.follower.lock  # one lock for the follower's state and the answers' caches
        self._running = 0  # figure computations at cut-offs under way (changed under `_lock`)
        self._cutoff_seconds = 1.0  # how long one takes, a running estimate (for `Retry-After`)
        self._hashes: OrderedDict[int, str | None] = OrderedDict()
        self._cutoff_cache: OrderedDict[tuple[int, str | None, str | None], tuple[Aggregate, int]] = OrderedDict()
        self._backfill_runs: list[BackfillRun] = []
        self._backfill_subjects: set[str] = set()
        self._backfills_seen: tuple[int, int] | None = None  # (store head, position) they were read at

    # -- following the log: the follower's --------------------------------------------------
    @property
    def store(self) -> ProjectionStore:
        return self.follower.store

    @property
    def position(self) -> int:
        """The last global position the projections include."""
        return self.follower.position

    def catch_up(self, progress: Progress | None = None) -> int:
        return self.follower.catch_up(progress)

    def refresh(self, sync_limit: int | None = None, progress: Progress | None = None) -> None:
        self.follower.refresh(sync_limit, progress)

    def current(self, figures: bool = False) -> bool:
        return self.follower.current(figures)

    def health(self) -> dict[str, int]:
        return self.follower.health()

    def summaries(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self.follower.summaries()

    def close(self) -> None:
        self.follower.close()

    def cached(self, at: str | None, known_at: str | None) -> bool:
        """Whether the figures at these cut-offs are cached at the current position (a look
        without `_lock`: the answer may be stale by the time it is asked)."""
        return (self.follower.position, at, known_at) in self._cutoff_cache

    def retry_after(self) -> int:
        """Whole seconds a computation of figures at cut-offs takes, as lately seen (1–60)."""
        return max(1, min(60, math.ceil(self._cutoff_seconds)))

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
            "store_position": self.follower.head,
            "behind": max(0, self.follower.head - position),
        }
        if self.follower.read_only:
            # A Kafka-fed store: its partitions are consumed independently, so while it lags its
            # rows are no prefix of the log that one position and head hash could name.
            complete = self.follower.complete
            out.update(
                position=position if complete else None,
                head_hash=out["head_hash"] if complete else None,
                behind=self.follower.behind,
                projections={"fed_by": "kafka", "events": self.follower.included, "offsets": self._offsets()},
            )
        if backfills:
            out["backfills"] = backfills  # absent when the answer includes no back-filled event
        return out

    def _offsets(self) -> dict[str, int]:
        """A Kafka-fed store's consumed offsets ("topic:partition" -> next offset to read)."""
        cut = len(KAFKA_PREFIX)
        return {name[cut:]: value for name, value in self.follower.positions.items() if name.startswith(KAFKA_PREFIX)}

    def backfills(self, **bounds: Unpack[Bounds]) -> list[dict[str, Any]]:
        """The provenance entries of the backfills an answer with these bounds includes."""
        source = self.ports.backfills
        if source is None:
            return []
        seen = (self.follower.head, self.follower.position)
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
        position = self.follower.position
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

    # -- worklist ---------------------------------------------------------------------------
    def worklist(self, query: Query) -> dict[str, Any]:
        """The open attention points across addresses that match `query`, one page in urgency
        order, from the worklist index (no cut-offs: the points as they stand at `query.now`)."""
        position = self.follower.position
        total, entries = self.store.worklist(query)
        out = worklist_answer(query, total, entries)
        backfills = self.backfills(until=position, at=None, known_at=None)
        out["provenance"] = self.provenance(
            None, None, query.now, position, position, source="projection", backfills=backfills
        )
        return out

    def find(self, search: Search) -> list[dict[str, Any]]:
        """The addresses registered at the search's postcode and house number (`subject`,
        `registered`); with an addition only those whose huisletter + toevoeging it is (case ignored)."""
        wanted = "".join((search.addition or "").split()).upper()
        found = []
        for subject, view in self.store.find(search.postcode, search.huisnummer):
            registered = _loads(view)["address"]["registered"] or {}
            have = f"{registered.get('huisletter') or ''}{registered.get('toevoeging') or ''}".upper()
            if not wanted or have == wanted:
                found.append({"subject": subject, "registered": registered})
        return found

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
                agg = self.follower.figures()
                position = self.follower.position
                return figures(agg), position, position, "projection"
        if self.use_index:
            with self._lock:
                index = self.follower.asof()
                position = self.follower.position
            if index is not None:
                agg, events = index.aggregate(at, known_at)
                return figures(agg), events, position, "index"
        with self._lock:
            self.follower.figures(rows=True)  # the summaries and extents of every address too
            position = self.follower.position
            key = (position, at, known_at)
            hit = self._cutoff_cache.get(key)
            if hit is None:
                if self.cutoff_limit is not None and self._running >= self.cutoff_limit:
                    raise Busy(self._running, self.retry_after())
                self._running += 1
                f = self.follower
                base = (f.agg.copy(), dict(f.extents), dict(f.summary_rows))
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
                return aggregate_from_log(self.ports.read_raw, self._until(position), at, known_at)  # old rows
            if (at is not None and extent[2] > at) or (known_at is not None and extent[3] > known_at):
                affected.append(subject)
            else:
                events += extent[1]
        if len(affected) > self.refold_share * len(extents):
            return aggregate_from_log(self.ports.read_raw, self._until(position), at, known_at)
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

    def _until(self, position: int) -> int:
        """How far a scan of the log reads for figures at cut-offs: the projections' position; the
        log's head for a Kafka-fed store (which has no position of its own)."""
        return self.follower.head if self.follower.read_only else position

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

    def series(self, plan: Plan) -> dict[str, Any]:
        """Projections §5: every asked G figure at each point of `plan`, as known then
        (`at=known_at=p`) and as known now (`at=p`), each equal to `metrics` at those cut-offs,
        all at one position: one sweep of the log per axis (`projections.sweep`), counted
        against `cutoff_limit` as one computation at cut-offs."""
        with self._lock:
            position = self.follower.position
            if self.cutoff_limit is not None and self._running >= self.cutoff_limit:
                raise Busy(self._running, self.retry_after())
            self._running += 1
        try:
            index = None
            if self.use_index:
                with self._lock:
                    index = self.follower.asof()
                    position = self.follower.position
            axes = []
            if index is not None:
                for known_then in (True, False):
                    axes.append(
                        [
                            ({k: figures[k] for k in plan.ids}, events)
                            for p, agg, events in index.series(plan.points, known_then)
                            for figures in [metrics(agg, p)]
                        ]
                    )
            else:
                groups = grouped(self.ports.read_raw, position) if plan.points else {}
                for known_then in (True, False):
                    axes.append(
                        [
                            ({k: figures[k] for k in plan.ids}, events)
                            for p, agg, events in sweep(groups, plan.points, known_then)
                            for figures in [metrics(agg, p)]
                        ]
                    )
        finally:
            with self._lock:
                self._running -= 1
        points = [
            {
                "at": p,
                "known_then": then[0],
                "known_now": now[0],
                "events": {"known_then": then[1], "known_now": now[1]},
            }
            for p, then, now in zip(plan.points, *axes, strict=True)
        ]
        # the backfills of the last point as known now include those of every other point
        backfills = self.backfills(until=position, at=plan.points[-1], known_at=None) if plan.points else []
        prov = self.provenance(None, None, now_utc(), 0, position, backfills=backfills)
        for key in ("at", "known_at", "now", "events"):
            del prov[key]
        prov = {"from": plan.start, "to": plan.end, "step": plan.step, "points": len(plan.points), **prov}
        return {"ids": list(plan.ids), "points": points, "provenance": prov}


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
