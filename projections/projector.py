"""Keeping a projection store up to date with the event log.

Every change recomputes the touched addresses from their whole (sorted) history rather than
patching them: events arrive out of time order (late registration, corrections), and a
recomputation is the same pure fold a rebuild runs, so incremental == rebuild by construction.

Two ways in, both writing rows and the consumed position in one transaction:
- `Projector.catch_up`: small batches in global order; each touched address's stream is
  loaded from the event store (one bulk query per batch) up to the stream position the batch
  reached.
- `bulk_apply`: a large backlog or a rebuild; one sequential scan of the log groups the raw
  events of the touched addresses in memory, then each address is folded exactly once.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Any, Protocol

import orjson

from projections import bitemporal
from projections.caseview import attention_candidates, render
from projections.fold import fold
from projections.history import prepare
from projections.store import LOG, ProjectionStore, Row, StaleWrite
from projections.summary import summarize
from projections.worklist import points_of


class RawReader(Protocol):
    """The event log's raw reads the projections need (`ledger.adapters.raw.RawReader` on the
    event store): pages of stored events in global order, one share of the addresses at a time."""

    def __call__(self, after: int, limit: int) -> Sequence[tuple[int, bytes]]:
        """(position, stored event's JSON) of up to `limit` events after position `after`."""
        ...

    def read_part(self, after: int, until: int, limit: int, part: int, parts: int) -> Sequence[tuple[int, str, bytes]]:
        """(position, address, JSON) of up to `limit` events in (after, until] of the addresses
        whose `part(address, parts)` is `part`, filtered by the store."""
        ...

    def close(self) -> None: ...


StreamLoader = Callable[[Sequence[str]], dict[str, list[bytes]]]
Progress = Callable[[str, int, int], None]

PAGE = 20_000
BATCH = 5_000
BULK_THRESHOLD = 100_000  # a backlog this large is applied with one scan instead of per batch
_SUBJECT_KEY = b'"subject":"'
_loads = orjson.loads
_dumps = orjson.dumps


def address_row(subject: str, events: Iterable[dict[str, Any]], corners: bool = True) -> Row:
    """Fold one address's stored events (any order) into its projection row; without `corners`
    (a bulk write) its bitemporal index is left to `projections.rebuild.fill_index`."""
    events = list(events)
    history = prepare(events, subject)
    state = fold(history)
    last = history.last
    summary = summarize(state)
    if last is not None:
        # [stream position, events, latest time, latest recordedtime]: figures at cut-offs reuse
        # the stored summary when every event of the address is within them (ReadModel._at_cutoffs)
        summary["extent"] = [last["streamposition"], history.stored, history.latest_time, history.latest_recorded]
    candidates = attention_candidates(state)
    return Row(
        subject,
        last["streamposition"] if last else 0,
        history.stored,
        _dumps(render(state)),
        _dumps(candidates),
        _dumps(summary),
        points_of(subject, state.registered, candidates),
        bitemporal.encode(bitemporal.corners(subject, events)) if corners else None,
    )


def subject_of(body: bytes) -> str:
    """The `subject` of a stored event's canonical JSON without decoding all of it."""
    start = body.rfind(_SUBJECT_KEY)
    if start < 0:
        return str(_loads(body)["subject"])
    start += len(_SUBJECT_KEY)
    return body[start : body.index(b'"', start)].decode()


@dataclass(eq=False)
class Projector:
    """Follows the event log into one projection store (the embedded mode's consumer)."""

    store: ProjectionStore
    read_raw: RawReader
    load_streams: StreamLoader
    _: KW_ONLY
    batch: int = BATCH
    bulk_threshold: int = BULK_THRESHOLD

    def catch_up(self, head: int, progress: Progress | None = None) -> int:
        """Apply every event up to global position `head`; the number of events applied."""
        applied = 0
        start = self.store.position(LOG)
        while True:
            position = self.store.position(LOG)
            if position >= head:
                return applied
            try:
                if head - position >= self.bulk_threshold:
                    applied += bulk_apply(self.store, self.read_raw, position, head, atomic=True, progress=progress)
                    continue
                done = self.step(position, head)
            except StaleWrite:
                continue  # another process applied this batch: read the new position and go on
            if done == 0:
                return applied  # the log holds less than `head` (it cannot shrink: a race on `head`)
            applied += done
            if progress is not None:
                progress("catch-up", position + done - start, head - start)

    def step(self, position: int, head: int | None = None) -> int:
        """Apply one batch after `position`; the number of events in it."""
        limit = self.batch if head is None else min(self.batch, head - position)
        raw = self.read_raw(position, limit)
        if not raw:
            return 0
        reached: dict[str, int] = {}
        for _, body in raw:
            event = _loads(body)
            subject = event["subject"]
            if event["streamposition"] > reached.get(subject, 0):
                reached[subject] = event["streamposition"]
        streams = self.load_streams(list(reached))
        rows = []
        for subject, last in reached.items():
            events = [e for e in map(_loads, streams.get(subject, ())) if e["streamposition"] <= last]
            rows.append(address_row(subject, events))
        self.store.write(rows, {LOG: raw[-1][0]}, expected={LOG: position})
        return len(raw)


def part(subject: str, parts: int) -> int:
    """Which of `parts` shares an address belongs to: its last two digits modulo `parts`.

    Addresses are BAG ids (digits), so a database can compute the same share in SQL.
    """
    tail = subject[-2:]
    return (int(tail) if tail.isdigit() else zlib.crc32(subject.encode())) % parts


def scan(
    read_raw: RawReader,
    after: int,
    until: int,
    keep: Callable[[str], bool] | None = None,
    into: dict[str, list[bytes]] | None = None,
    progress: Progress | None = None,
    page: int = PAGE,
    share: tuple[int, int] | None = None,
) -> dict[str, list[bytes]]:
    """Group the raw events of positions (after, until] by address (stream order kept).

    `share` = (part, parts) keeps one share of the addresses (`part`), filtered by the reader
    (in the database); `keep` refuses addresses by name.
    """
    groups: dict[str, list[bytes]] = {} if into is None else into
    passed: set[str] = set()  # subjects refused
    position = after
    total = until - after
    k, n = share or (0, 1)
    while position < until:
        rows = read_raw.read_part(position, until, page, k, n)
        if not rows:
            break
        for _, subject, body in rows:
            group = groups.get(subject)
            if group is None:
                if subject in passed:
                    continue
                if keep is not None and not keep(subject):
                    passed.add(subject)
                    continue
                group = groups[subject] = []
            group.append(body)
        position = rows[-1][0]
        if progress is not None:
            progress("read", position - after, total)
    if progress is not None:
        progress("read", total, total)
    return groups


def fold_groups(
    groups: dict[str, list[bytes]],
    write: Callable[[list[Row], bool], None],
    chunk: int = 2_000,
    progress: Progress | None = None,
) -> int:
    """Fold every grouped address once; hand rows to `write(rows, last)` in chunks."""
    total = sum(len(g) for g in groups.values())
    done = 0
    rows: list[Row] = []
    subjects = list(groups)
    for i, subject in enumerate(subjects):
        bodies = groups.pop(subject)
        rows.append(address_row(subject, map(_loads, bodies), corners=False))
        done += len(bodies)
        if len(rows) >= chunk or i == len(subjects) - 1:
            write(rows, i == len(subjects) - 1)
            rows = []
            if progress is not None:
                progress("fold", done, total)
    if not subjects:
        write([], True)
    return total


def bulk_apply(
    store: ProjectionStore,
    read_raw: RawReader,
    after: int,
    until: int,
    *,
    atomic: bool,
    progress: Progress | None = None,
) -> int:
    """Apply positions (after, until] with one scan; the number of events in that range.

    With `atomic`, all rows and the position go in one transaction (a serving store); otherwise
    rows are written in chunks and the position last (a rebuild, resumable by address).
    """
    touched = scan(read_raw, after, until, progress=progress)
    applied = sum(len(g) for g in touched.values())
    if after > 0 and touched:
        earlier = scan(read_raw, 0, after, keep=touched.__contains__, into={}, progress=progress)
        for subject, bodies in earlier.items():
            touched[subject] = bodies + touched[subject]
    pending: list[Row] = []

    def write(rows: list[Row], last: bool) -> None:
        if atomic:
            pending.extend(rows)
            if last:
                store.write(pending, {LOG: until}, expected={LOG: after})
        else:
            store.write(rows, {LOG: until} if last else {}, expected={LOG: after})

    fold_groups(touched, write, progress=progress)
    return applied
